"""tg.optim: SGD and Adam against updates computed by hand from their published formulas; Newton."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_mvc as tg
from tinygrad_mvc import optim
from tinygrad_mvc.course import moons as train_moons
from tinygrad_mvc.tensor import Tensor

A = np.array([[2.0, -1.0], [0.5, 3.0], [1.0, 1.0]])
TARGET = np.array([1.0, -2.0, 0.5])


def loss_of(w: Tensor) -> Tensor:
    """A smooth, non-quadratic loss, so successive gradients differ in more than scale."""
    r = A @ w - TARGET
    return (r * r).sum() + tg.exp(0.3 * w).sum()


def grad_of(w: np.ndarray) -> np.ndarray:
    return 2 * A.T @ (A @ w - TARGET) + 0.3 * np.exp(0.3 * w)


def run(opt_factory, steps: int = 3, w0=(0.5, -0.25)) -> list[np.ndarray]:
    w = Tensor(np.array(w0), requires_grad=True)
    opt = opt_factory([w])
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss_of(w).backward()
        opt.step()
        path.append(w.data.copy())
    return path


@pytest.mark.parametrize("momentum, nesterov, decay", [(0.0, False, 0.0), (0.9, False, 0.0), (0.9, True, 0.0),
                                                       (0.5, True, 0.1), (0.0, False, 0.05)])
def test_sgd_matches_pytorch_formulas_for_three_steps(momentum, nesterov, decay):
    lr = 0.05
    got = run(lambda ps: optim.SGD(ps, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=decay))
    # By hand: g ← ∇ + λw; b ← g at step 1, else μb + g; d ← g + μb (Nesterov) or b; w ← w − lr·d.
    w, buf, want = np.array([0.5, -0.25]), None, []
    for _ in range(3):
        g = grad_of(w) + decay * w
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + g
            d = g + momentum * buf if nesterov else buf
        else:
            d = g
        w = w - lr * d
        want.append(w)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("decay", [0.0, 0.1])
def test_adam_matches_the_published_update(decay):
    lr, (b1, b2), eps = 0.1, (0.9, 0.999), 1e-8
    got = run(lambda ps: optim.Adam(ps, lr=lr, betas=(b1, b2), eps=eps, weight_decay=decay), steps=4)
    w, m, v, want = np.array([0.5, -0.25]), np.zeros(2), np.zeros(2), []
    for t in range(1, 5):
        g = grad_of(w) + decay * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        want.append(w)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_parameters_without_a_gradient_are_left_alone():
    used, unused = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    for opt in (optim.SGD([used, unused], lr=0.1, momentum=0.9), optim.Adam([used, unused], lr=0.1)):
        opt.zero_grad()
        (used * used).sum().backward()
        opt.step()
        assert unused.data[0] == 2.0 and used.data[0] < 1.0


def test_a_parameter_listed_twice_is_updated_once():
    w = Tensor([1.0], requires_grad=True)
    opt = optim.SGD([w, w], lr=0.5)
    (w * w).sum().backward()
    opt.step()
    assert w.data[0] == 0.0  # 1 - 0.5 * 2, once


def test_step_with_a_closure_returns_the_loss():
    w = Tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    assert w.data[0] == 1.5


@pytest.mark.parametrize("call, error, match", [
    (lambda: optim.SGD([np.ones(2)], lr=0.1), TypeError, "parameter 0 is a ndarray"),
    (lambda: optim.SGD([Tensor([1.0])], lr=0.1), ValueError, "does not require grad"),
    (lambda: optim.SGD([Tensor([1.0], requires_grad=True) * 2], lr=0.1), ValueError, "not a leaf"),
    (lambda: optim.SGD([], lr=0.1), ValueError, "no parameters"),
    (lambda: optim.SGD([Tensor([1.0], requires_grad=True)], lr=-1.0), ValueError, "lr must be a finite number"),
    (lambda: optim.SGD([Tensor([1.0], requires_grad=True)], lr=0.1, nesterov=True), ValueError, "needs momentum"),
    (lambda: optim.Adam([Tensor([1.0], requires_grad=True)], betas=(0.9, 1.0)), ValueError, "betas"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --------------------------------------------------------------------------- Newton

def test_newton_solves_linear_least_squares_in_one_step():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    w, b = Tensor(np.zeros(4), requires_grad=True), Tensor(0.0, requires_grad=True)
    opt = optim.Newton([w, b])
    opt.step(lambda: ((X @ w + b - y) ** 2).sum())
    want = np.linalg.lstsq(np.column_stack([X, np.ones(30)]), y, rcond=None)[0]
    np.testing.assert_allclose(np.append(w.data, b.data), want, rtol=1e-7, atol=1e-9)
    assert opt.last_direction == "newton"


def test_newton_fits_logistic_regression_in_under_10_steps():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 3))
    y = (X @ np.array([1.5, -2.0, 0.5]) + 0.3 + rng.standard_normal(200) > 0).astype(float)  # overlapping
    w, b = Tensor(np.zeros(3), requires_grad=True), Tensor(0.0, requires_grad=True)
    opt = optim.Newton([w, b])

    def closure():
        return tg.losses.binary_cross_entropy_with_logits(X @ w + b, y)

    norms = []
    for _ in range(9):
        opt.step(closure)
        gw, gb = tg.grad(lambda w_, b_: tg.losses.binary_cross_entropy_with_logits(X @ w_ + b_, y),
                         argnums=(0, 1))(w.data, b.data)
        norms.append(np.sqrt(np.sum(gw ** 2) + gb ** 2))
    assert norms[-1] < 1e-10, f"Newton did not converge in 9 steps: gradient norms {norms}"
    assert norms[1] > 1e-6  # a nonlinear problem: not solved by luck in a step or two


def test_newton_shifts_the_hessian_where_it_is_not_positive_definite():
    # issue 16: a modified Hessian (shifted to positive definite), no longer the raw gradient step
    w = Tensor([0.1], requires_grad=True)  # f = x⁴ − x²: f'' = 12x² − 2 < 0 near 0

    def closure():
        return (w ** 4 - w ** 2).sum()

    opt = optim.Newton([w])
    before = closure().item()
    opt.step(closure)
    assert opt.last_direction == "shifted"
    assert closure().item() < before  # a descent step, not a step to the maximum at 0
    for _ in range(30):
        opt.step(closure)
    np.testing.assert_allclose(abs(w.data[0]), np.sqrt(0.5), rtol=1e-8)  # the minimum


def test_newton_line_search_never_increases_the_loss():
    w = Tensor([-1.2, 1.0], requires_grad=True)

    def rosenbrock():
        return (100 * (w[1] - w[0] ** 2) ** 2 + (1 - w[0]) ** 2).sum()

    opt = optim.Newton([w])
    values = [rosenbrock().item()]
    for _ in range(40):
        opt.step(rosenbrock)
        values.append(rosenbrock().item())
    assert all(b <= a for a, b in zip(values, values[1:]))
    np.testing.assert_allclose(w.data, [1.0, 1.0], atol=1e-6)


def test_newton_refuses_a_hessian_too_large_to_form():
    big = Tensor(np.zeros(3000), requires_grad=True)
    with pytest.raises(ValueError, match=r"Newton: 3000 parameters would need a 3000 x 3000 Hessian.*max_params=2000"):
        optim.Newton([big])
    optim.Newton([big], max_params=3000)  # allowed when asked for


def test_newton_needs_a_closure_returning_a_scalar():
    w = Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Newton([w])
    with pytest.raises(ValueError, match="needs a closure"):
        opt.step()
    with pytest.raises(ValueError, match=r"scalar loss Tensor, got Tensor of shape \(2,\)"):
        opt.step(lambda: w * w)


def test_newton_over_an_mlp_matches_the_hessian_transform():
    # The Hessian over all parameters of a network, taken by the optimizer, equals tg.hessian of the
    # same loss written over one flat parameter vector.
    net = tg.nn.MLP([2, 3, 1], activation="tanh", rng=0)
    X, y = np.random.default_rng(2).standard_normal((5, 2)), np.random.default_rng(3).standard_normal(5)
    params = net.parameters()
    opt = optim.Newton(params)
    with tg.enable_grad():
        loss = tg.losses.mse(net(X).reshape(-1), y)
        grads = tg.engine.gradients(loss, params, create_graph=True)
        got = opt._hessian(grads)
    shapes = [p.shape for p in params]
    flat0 = np.concatenate([p.data.ravel() for p in params])

    def flat_loss(theta):
        parts, start = [], 0
        for s in shapes:
            n = int(np.prod(s))
            parts.append(theta[start:start + n].reshape(s))
            start += n
        w1, b1, w2, b2 = parts
        return tg.losses.mse((tg.tanh(X @ w1 + b1) @ w2 + b2).reshape(-1), y)

    np.testing.assert_allclose(got, tg.hessian(flat_loss)(flat0), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- the main job's training

def test_the_demo_training_reaches_its_accuracy_on_a_small_run():
    run_ = train_moons.train(n_samples=100, steps=100, seed=0, progress=False)
    assert run_.accuracy >= train_moons.TARGET_ACCURACY
    assert len(run_.history["loss"]) == 100
    assert run_.history["loss"][-1] < 0.5 * run_.history["loss"][0]


def test_newton_pushes_the_hessian_through_in_chunks(monkeypatch):
    # With a tiny budget the basis goes through a few vectors at a time; the Hessian must not change.
    from tinygrad_mvc import transforms

    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((20, 5)), rng.standard_normal(20)
    w = Tensor(rng.standard_normal(5), requires_grad=True)

    def loss():
        return (tg.tanh(X @ w) - y).sum() ** 2

    with tg.enable_grad():
        grads = tg.engine.gradients(loss(), [w], create_graph=True)
        whole = optim.Newton([w])._hessian(grads)
        monkeypatch.setattr(transforms, "BATCH_BUDGET", 40)
        chunked = optim.Newton([w])._hessian(grads)
    np.testing.assert_allclose(chunked, whole, rtol=1e-13)
    np.testing.assert_allclose(whole, tg.hessian(lambda v: (tg.tanh(X @ v) - y).sum() ** 2)(w.data), rtol=1e-10)
