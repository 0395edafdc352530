"""PyTorch habits: train()/eval() and Dropout, MLP(output_activation), *_like constructors, tg.cat,
optimizers over dicts and parameter groups, and learning-rate schedules against PyTorch's formulas
(written out here; torch is not needed)."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import tinygrad_mvc as tg
from tinygrad_mvc import lr_scheduler, nn
from tinygrad_mvc.tensor import Tensor

# ----------------------------------------------------------------------------- train / eval and Dropout


class Block(nn.Module):
    def __init__(self):  # no Module.__init__: `training` is a class default
        self.inner = [nn.Sequential(nn.Linear(2, 2, rng=0), nn.Dropout(0.5, rng=0))]
        self.table = {"head": nn.Linear(2, 1, rng=1)}

    def forward(self, x):
        return self.table["head"](self.inner[0](x))


def all_flags(m):
    return [m.training, m.inner[0].training, m.inner[0][1].training, m.table["head"].training]


def test_train_and_eval_reach_every_nested_module_and_return_it():
    m = Block()
    assert all_flags(m) == [True] * 4
    assert m.eval() is m and all_flags(m) == [False] * 4
    assert m.train() is m and all_flags(m) == [True] * 4
    assert m.train(False) is m and all_flags(m) == [False] * 4
    with pytest.raises(TypeError, match="mode must be True or False"):
        m.train("yes")
    assert "training" not in m.state_dict() and len(m.parameters()) == 4


@pytest.mark.parametrize("p", [-0.1, 1.5, True, "0.5", float("nan")])
def test_dropout_validates_p(p):
    with pytest.raises(ValueError, match=r"Dropout: p .* \[0, 1\]"):
        nn.Dropout(p)


def test_dropout_is_inverted_seeded_and_the_identity_in_eval():
    x = tg.tensor(np.full(20000, 3.0), requires_grad=True)
    drop = nn.Dropout(0.25, rng=7)
    y = drop(x)
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], 3.0 / 0.75)  # survivors scaled by 1/(1-p)
    assert abs((~kept).mean() - 0.25) < 0.02  # 20000 draws: 4+ standard deviations
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, kept / 0.75)  # the gradient is the same scaled mask
    again = nn.Dropout(0.25, rng=7)(x)
    np.testing.assert_array_equal(again.data, y.data)  # same seed, same mask
    assert not np.array_equal(drop(x).data, y.data)  # the next call draws a new mask
    assert drop.eval()(x) is x and nn.Dropout(0.0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, 0.0)
    assert nn.Dropout(0.5, rng=0)(np.ones(4, dtype=np.float32)).dtype == np.float32
    assert repr(nn.Dropout(0.1)) == "Dropout(p=0.1)"


def test_eval_turns_off_dropout_inside_a_network():
    net = nn.Sequential(nn.Linear(3, 8, rng=0), nn.Dropout(0.5, rng=1), nn.Linear(8, 1, rng=2))
    x = np.ones((4, 3))
    net.eval()
    a, b = net(x).data, net(x).data
    np.testing.assert_array_equal(a, b)
    plain = nn.Sequential(net[0], net[2])
    np.testing.assert_allclose(a, plain(x).data)
    net.train()
    assert not np.allclose(net(x).data, a)


# ----------------------------------------------------------------------------- MLP(output_activation)

def test_mlp_output_activation_is_appended_and_keeps_parameter_names():
    plain = nn.MLP([2, 4, 1], "tanh", rng=0)
    net = nn.MLP([2, 4, 1], "tanh", "sigmoid", rng=0)
    assert type(net[-1]).__name__ == "Sigmoid" and type(plain[-1]).__name__ == "Linear"
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in plain.named_parameters()]
    x = np.random.default_rng(0).normal(size=(5, 2)) * 10
    np.testing.assert_allclose(net(x).data, 1 / (1 + np.exp(-plain(x).data)), rtol=1e-12)
    assert len(nn.MLP([2, 1], output_activation=nn.ReLU)) == 2
    with pytest.raises(TypeError, match="rng="):
        nn.MLP([2, 3, 1], "tanh", 0)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        nn.MLP([2, 1], output_activation="swish")


# ----------------------------------------------------------------------------- *_like and cat

def test_like_constructors_take_shape_and_float_dtype_from_tensors_and_arrays():
    t32 = tg.ones(2, 3, dtype=np.float32)
    z = tg.zeros_like(t32, requires_grad=True)
    assert z.shape == (2, 3) and z.dtype == np.float32 and z.requires_grad and z.is_leaf
    np.testing.assert_array_equal(z.data, 0.0)
    o = tg.ones_like(np.arange(4))  # integers: float64, as Tensor() makes them
    assert o.dtype == np.float64 and o.tolist() == [1.0, 1.0, 1.0, 1.0]
    f = tg.full_like([[1.0, 2.0]], -2.5, dtype=np.float32)
    assert f.shape == (1, 2) and f.dtype == np.float32 and f.tolist() == [[-2.5, -2.5]]
    r = tg.randn_like(np.zeros((3, 2)), rng=5)
    np.testing.assert_array_equal(r.data, np.random.default_rng(5).standard_normal((3, 2)))
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        assert tg.zeros_like(w).requires_grad is False  # never part of the graph
    with pytest.raises(TypeError, match="floating dtype"):
        tg.zeros_like(w, dtype=np.int64, requires_grad=True)


def test_cat_is_concatenate():
    assert tg.cat([tg.ones(1, requires_grad=True), tg.zeros(2)]).op == "concatenate"  # PyTorch's name, the same op
    a, b = tg.tensor([1.0], requires_grad=True), tg.tensor([2.0, 3.0], requires_grad=True)
    (tg.cat([a, b]) * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert a.grad.tolist() == [1.0] and b.grad.tolist() == [2.0, 3.0]


# ----------------------------------------------------------------------------- optimizers

def quadratic(ps):
    return sum(((p - 1.0) ** 2).sum() for p in ps)


def sgd_path(opt, ps, steps=3):
    out = []
    for _ in range(steps):
        opt.zero_grad()
        quadratic(ps).backward()
        opt.step()
        out.append([p.data.copy() for p in ps])
    return out


def test_a_dict_of_named_parameters_trains_like_the_list():
    w1, b1 = tg.zeros(2, requires_grad=True), tg.zeros(1, requires_grad=True)
    w2, b2 = tg.zeros(2, requires_grad=True), tg.zeros(1, requires_grad=True)
    a = sgd_path(tg.optim.SGD({"w": w1, "b": b1}, lr=0.1, momentum=0.9), [w1, b1])
    b = sgd_path(tg.optim.SGD([w2, b2], lr=0.1, momentum=0.9), [w2, b2])
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            np.testing.assert_array_equal(u, v)
    net = nn.MLP([2, 2], rng=0)
    assert len(tg.optim.Adam(net.named_parameters()).params) == 2
    bad = tg.optim.SGD({"weight": w1}, lr=0.1)
    w1.grad = tg.zeros(3)
    with pytest.raises(ValueError, match="parameter 0 'weight' has shape"):
        bad.step()


def test_parameter_groups_have_their_own_lr_and_a_changed_lr_takes_effect():
    w, b = tg.zeros(2, requires_grad=True), tg.zeros(1, requires_grad=True)
    opt = tg.optim.SGD([{"params": [w]}, {"params": {"b": b}, "lr": 0.5}], lr=0.1, momentum=0.0)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert set(opt.param_groups[0]) == {"params", "lr", "momentum", "nesterov", "weight_decay"}
    assert opt.param_groups[1]["params"] == [b] and opt.params == [w, b]
    sgd_path(opt, [w, b], steps=1)  # grad = 2(p - 1) = -2 at 0
    np.testing.assert_allclose(w.data, [0.2, 0.2])
    np.testing.assert_allclose(b.data, [1.0])
    opt.param_groups[0]["lr"] = 0.25  # mid-run, as in PyTorch
    sgd_path(opt, [w, b], steps=1)  # w: 0.2 - 0.25 · 2 · (0.2 - 1) = 0.6
    np.testing.assert_allclose(w.data, [0.6, 0.6])
    opt.lr = 0.0  # the attribute sets every group
    assert [g["lr"] for g in opt.param_groups] == [0.0, 0.0] and opt.lr == 0.0
    adam = tg.optim.Adam([{"params": [w], "betas": (0.5, 0.9)}, {"params": [b]}], lr=0.1)
    assert [g["betas"] for g in adam.param_groups] == [(0.5, 0.9), (0.9, 0.999)]


def test_adam_group_lr_matches_the_update_by_hand():
    w = tg.tensor([2.0], requires_grad=True)
    opt = tg.optim.Adam([{"params": [w], "lr": 0.3}], lr=0.1)
    (w * w).sum().backward()
    opt.step()  # the first Adam step moves by lr (m̂/√v̂ = sign g)
    np.testing.assert_allclose(w.data, [1.7], rtol=1e-7)


@pytest.mark.parametrize("make, match", [
    (lambda w: tg.optim.SGD([w]), "lr is required"),
    (lambda w: tg.optim.SGD([{"params": [w], "lr": -1.0}], lr=0.1), "parameter group 0: lr must be a finite"),
    (lambda w: tg.optim.SGD([{"params": [w], "lrr": 1.0}], lr=0.1), "unknown setting 'lrr'"),
    (lambda w: tg.optim.SGD([{"lr": 1.0}], lr=0.1), "no 'params' entry"),
    (lambda w: tg.optim.SGD({"params": [w]}, lr=0.1), "must come in a list"),
    (lambda w: tg.optim.SGD(w, lr=0.1), "got one Tensor"),
    (lambda w: tg.optim.SGD([{"params": [w], "nesterov": True}], lr=0.1), "nesterov=True needs momentum"),
    (lambda w: tg.optim.Adam([{"params": [w], "betas": (1.0, 0.5)}]), "betas must lie in"),
    (lambda w: tg.optim.SGD({"w": 3.0}, lr=0.1), "parameter 0 'w' is a float"),
])
def test_optimizer_arguments_are_checked(make, match):
    w = tg.zeros(2, requires_grad=True)
    with pytest.raises((TypeError, ValueError), match=match):
        make(w)


def test_optimizer_repr_shows_every_setting_per_group():
    w, b = tg.zeros(2, 2, requires_grad=True), tg.zeros(1, requires_grad=True)
    text = repr(tg.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n") and text.endswith("\n)")
    for line in ("params: 1 tensor (4 entries)", "lr: 0.1", "momentum: 0.9", "nesterov: False",
                 "weight_decay: 0.0", "Parameter Group 1", "lr: 0.5"):
        assert line in text, line
    assert "eps: 1e-08" in repr(tg.optim.Adam([w]))
    assert "damping: 1e-08" in repr(tg.optim.Newton([w]))


def test_newton_still_works_on_a_dict_of_parameters():
    a, c = tg.zeros(2, requires_grad=True), tg.zeros(1, requires_grad=True)
    opt = tg.optim.Newton({"a": a, "c": c})
    opt.step(lambda: ((a - tg.tensor([1.0, 2.0])) ** 2).sum() + ((c + 3.0) ** 2).sum())
    np.testing.assert_allclose(np.concatenate([a.data, c.data]), [1.0, 2.0, -3.0], atol=1e-6)


# ----------------------------------------------------------------------------- learning-rate schedules
# PyTorch's closed forms: StepLR base·γ^⌊e/s⌋; ExponentialLR base·γ^e;
# CosineAnnealingLR η_min + (base − η_min)(1 + cos(π e / T_max)) / 2 (periodic past T_max).

def rates(make, epochs, base_lrs=(0.8, 0.1)):
    ps = [tg.zeros(1, requires_grad=True) for _ in base_lrs]
    opt = tg.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(ps, base_lrs)], lr=1.0)
    sched = make(opt)
    seen = []
    for _ in range(epochs):
        seen.append(sched.get_last_lr())
        assert seen[-1] == [g["lr"] for g in opt.param_groups]
        opt.step()
        sched.step()
    return np.array(seen), sched, opt


def test_step_lr_follows_pytorchs_formula():
    got, sched, opt = rates(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 10)
    want = [[b * 0.5 ** (e // 3) for b in (0.8, 0.1)] for e in range(10)]
    np.testing.assert_allclose(got, want, rtol=1e-15)
    assert sched.last_epoch == 10 and sched.base_lrs == [0.8, 0.1]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.8, 0.1]


def test_exponential_lr_follows_pytorchs_formula():
    got, _, _ = rates(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9), 12)
    np.testing.assert_allclose(got, [[b * 0.9 ** e for b in (0.8, 0.1)] for e in range(12)], rtol=1e-13)


@pytest.mark.parametrize("t_max, eta_min", [(4, 0.0), (5, 0.01), (1, 0.05)])
def test_cosine_annealing_follows_pytorchs_formula_through_two_periods(t_max, eta_min):
    epochs = 4 * t_max + 2
    got, _, _ = rates(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=t_max, eta_min=eta_min), epochs)
    want = [[eta_min + (b - eta_min) * (1 + math.cos(math.pi * e / t_max)) / 2 for b in (0.8, 0.1)]
            for e in range(epochs)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_schedules_chain_from_an_lr_changed_by_hand_and_resume():
    w = tg.zeros(1, requires_grad=True)
    opt = tg.optim.SGD([w], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    sched.step()
    opt.param_groups[0]["lr"] = 0.5  # PyTorch's schedules carry a hand-set lr on
    sched.step()
    assert sched.get_last_lr() == pytest.approx([0.05]) and sched.last_epoch == 2
    # resuming: the group keeps 'initial_lr'; the first cosine step is the closed form
    opt.param_groups[0]["lr"] = 123.0
    cos = lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    assert cos.last_epoch == 5
    assert cos.get_last_lr() == pytest.approx([(1 + math.cos(math.pi * 5 / 10)) / 2])
    fresh = tg.optim.SGD([w], lr=1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.ExponentialLR(fresh, gamma=0.5, last_epoch=3)


@pytest.mark.parametrize("make, match", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), "step_size must be a positive integer"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=-1.0), "gamma must be a finite number"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=2.5), "T_max must be a positive integer"),
    (lambda o: lr_scheduler.ExponentialLR("not an optimizer", gamma=0.5), "expected an optimizer"),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma=0.5, last_epoch=-2), "last_epoch must be"),
])
def test_scheduler_arguments_are_checked(make, match):
    opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises((TypeError, ValueError), match=match):
        make(opt)


def test_lr_scheduler_is_reachable_from_optim_and_its_examples_run():
    assert tg.optim.lr_scheduler is lr_scheduler is tg.lr_scheduler
    opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    s = tg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert repr(s) == "ExponentialLR(gamma=0.5, last_epoch=0, lr=[1.0])"
    state = s.state_dict()
    s.step()
    s.load_state_dict(state)
    assert s.last_epoch == 0 and s.get_last_lr() == [1.0]
    result = doctest.testmod(lr_scheduler)
    assert result.failed == 0 and result.attempted >= 8


def test_a_scheduled_training_run_with_param_groups_reaches_the_minimum():
    w = Tensor(np.array([5.0, -3.0]), requires_grad=True)
    opt = tg.optim.SGD([{"params": [w]}], lr=0.4, momentum=0.5)
    sched = tg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=40)
    for _ in range(40):
        opt.zero_grad()
        ((w - 1.0) ** 2).sum().backward()
        opt.step()
        sched.step()
    np.testing.assert_allclose(w.data, [1.0, 1.0], atol=1e-4)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-15)


# ----------------------------------------------------------------------------- more PyTorch optimizer words

def test_zero_grad_set_to_none_false_leaves_zeros_and_none_stays_none():
    w, b = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([3.0], requires_grad=True)
    opt = tg.optim.SGD([w, b], lr=0.1)
    (w * w).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and w.grad.tolist() == [0.0, 0.0] and b.grad is None
    opt.zero_grad()
    assert w.grad is None


def test_add_param_group_trains_the_new_group_with_its_own_lr_and_fresh_state():
    w, b = tg.tensor([1.0], requires_grad=True), tg.tensor([1.0], requires_grad=True)
    opt = tg.optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    opt.add_param_group({"params": b, "lr": 0.5})
    opt.zero_grad()
    (w * w + b * b).sum().backward()
    opt.step()
    # b's first Adam step is -lr·sign(g) (bias-corrected m/√v = 1): its own lr and fresh moments
    assert b.item() == pytest.approx(1.0 - 0.5, rel=1e-6)
    with pytest.raises(ValueError, match="no new parameters"):
        opt.add_param_group({"params": [w]})


def test_state_dict_round_trip_resumes_exactly():
    def run(steps, opt_from=None):
        w = tg.tensor([1.0, -2.0], requires_grad=True)
        opt = tg.optim.SGD([w], lr=0.1, momentum=0.9)
        if opt_from is not None:
            w.data[...] = opt_from[0]
            opt.load_state_dict(opt_from[1])
        for _ in range(steps):
            opt.zero_grad()
            (w ** 4).sum().backward()
            opt.step()
        return w, opt

    w_all, _ = run(6)
    w_half, opt_half = run(3)
    w_resumed, _ = run(3, (w_half.data.copy(), opt_half.state_dict()))
    assert w_resumed.tolist() == w_all.tolist()  # bit for bit: the momentum buffers came along
    other = tg.optim.SGD([tg.tensor([0.0, 0.0, 0.0], requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="shape"):
        other.load_state_dict(opt_half.state_dict())


def test_cat_takes_pytorchs_dim():
    a, b = tg.ones((2, 1)), tg.zeros((2, 2))
    assert tg.cat([a, b], dim=1).shape == (2, 3) and tg.cat([a, a]).shape == (4, 1)
    with pytest.raises(TypeError, match="disagree"):
        tg.cat([a, b], dim=1, axis=0)
