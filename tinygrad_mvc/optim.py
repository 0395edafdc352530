"""Optimizers: SGD (momentum, Nesterov, weight decay), Adam, and Newton's method with the full Hessian.

Parameters come as an iterable of Tensors, a dict of named Tensors, or PyTorch-style parameter
groups; learning-rate schedules are in :mod:`.lr_scheduler` (``tg.optim.lr_scheduler.StepLR``, ...).

An optimizer holds a list of parameter Tensors and updates their ``data`` in place from their
``.grad`` (SGD, Adam) or from derivatives it takes itself (Newton). Updates are plain NumPy on the
arrays: they are not part of any graph and cost no bookkeeping.

>>> import tinygrad_mvc as tg
>>> w = tg.tensor([1.0, -2.0], requires_grad=True)
>>> opt = tg.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step(); w
Tensor([ 0.8, -1.6], requires_grad=True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from . import engine, forward, lr_scheduler, newton_step, ops, sparsity, transforms
from .engine import no_grad
from .tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "Newton", "lr_scheduler"]


Params = Iterable[Tensor] | Mapping[str, Tensor] | Iterable[Mapping[str, Any]]


class Optimizer:
    """Base class: keeps the parameters in ``param_groups``, clears their gradients, and checks its arguments.

    ``params`` is an iterable of Tensors (``module.parameters()``), a dict of named Tensors
    (``{"w": w, "b": b}``; ``module.named_parameters()`` works too), or, as in PyTorch, a list of
    group dicts ``{"params": ..., "lr": ...}`` whose settings override the optimizer's for that group.
    ``param_groups`` is that list of dicts, each with ``"params"`` (a list of Tensors) and every
    setting; changing ``opt.param_groups[0]["lr"]`` between steps takes effect at the next step.
    ``opt.lr`` (any setting) reads the first group and, assigned, sets it in every group.

    >>> import tinygrad_mvc as tg
    >>> w, b = tg.zeros(2, requires_grad=True), tg.zeros(1, requires_grad=True)
    >>> opt = tg.optim.SGD([{"params": [w]}, {"params": {"b": b}, "lr": 0.01}], lr=0.1)
    >>> [g["lr"] for g in opt.param_groups]
    [0.1, 0.01]
    """

    def __init__(self, params: Params, **hyper: Any) -> None:
        name = type(self).__name__
        for key, value in hyper.items():
            _check_setting(name, key, value)
        self.defaults: dict[str, Any] = dict(hyper)
        self.params: list[Tensor] = []
        self.param_groups: list[dict[str, Any]] = []
        self._names: dict[int, str] = {}  # id(parameter) -> its name, where the user named it
        seen: set[int] = set()
        for k, spec in enumerate(_group_specs(name, params)):
            group = self._new_group(name, k, spec, seen)
            if group["params"]:
                self.param_groups.append(group)
        if not self.params:
            raise ValueError(f"{name}: got no parameters to optimize")
        self.step_count = 0

    def _new_group(self, name: str, k: int, spec: dict[str, Any], seen: set[int]) -> dict[str, Any]:
        unknown = [key for key in spec if key != "params" and key not in self.defaults]
        if unknown:
            raise ValueError(f"{name}: parameter group {k} has unknown setting{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(map(repr, unknown))}; the settings are {', '.join(self.defaults)}")
        group: dict[str, Any] = {"params": []}
        for key, value in spec.items():
            if key != "params":
                _check_setting(f"{name}: parameter group {k}", key, value)
        group.update((key, spec.get(key, value)) for key, value in self.defaults.items())
        for key, value in group.items():
            if value is None and key != "params":
                raise ValueError(f"{name}: {key} is required (give it to {name}(...) or to parameter group {k})")
        for label, p in _named(spec["params"]):
            i = len(self.params)
            what = f"parameter {i}" + (f" {label!r}" if label is not None else "")
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: {what} is a {type(p).__name__}, not a Tensor (pass module.parameters() "
                                f"or a dict of named Tensors)")
            if not p.requires_grad:
                raise ValueError(f"{name}: {what} (shape {p.shape}) does not require grad")
            if not p.is_leaf:
                raise ValueError(f"{name}: {what} (shape {p.shape}) is the result of an op, not a leaf; "
                                 "optimize the tensors it was computed from")
            if id(p) not in seen:  # a tensor listed twice is updated once
                seen.add(id(p))
                self.params.append(p)
                group["params"].append(p)
                if label is not None:
                    self._names[id(p)] = label
        return group

    # Settings as attributes: ``opt.lr`` is the first group's, ``opt.lr = x`` sets every group's.
    def __getattr__(self, key: str) -> Any:
        groups = self.__dict__.get("param_groups")
        if groups and key != "params" and key in self.__dict__.get("defaults", ()):
            return groups[0][key]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}")

    def __setattr__(self, key: str, value: Any) -> None:
        if key != "params" and key in self.__dict__.get("defaults", ()) and self.__dict__.get("param_groups"):
            for group in self.param_groups:
                group[key] = value
        else:
            object.__setattr__(self, key, value)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for k, group in enumerate(self.param_groups):
            ps = group["params"]
            lines.append(f"Parameter Group {k}")
            lines.append(f"    params: {len(ps)} tensor{'s' if len(ps) != 1 else ''} "
                         f"({sum(p.size for p in ps)} entries)")
            lines += [f"    {key}: {group[key]!r}" for key in sorted(group) if key != "params"]
        return "\n".join(lines + [")"])

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient, ready for the next ``backward``: ``.grad = None``, or with
        ``set_to_none=False`` a gradient of zeros (PyTorch's two choices)."""
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor(np.zeros_like(p.data))

    # Per-parameter state, as lists parallel to ``self.params`` (SGD's momentum buffers, Adam's moments):
    # named here so that add_param_group, state_dict and load_state_dict treat every optimizer alike.
    _STATE: tuple[str, ...] = ()

    def _fresh_state(self, key: str, p: Tensor) -> Any:
        return None

    def add_param_group(self, group: Mapping[str, Any]) -> None:
        """Add a group of parameters with its own settings (PyTorch's name), e.g. when unfreezing a layer.

        >>> import tinygrad_mvc as tg
        >>> w, b = tg.zeros(2, requires_grad=True), tg.zeros(1, requires_grad=True)
        >>> opt = tg.optim.SGD([w], lr=0.1)
        >>> opt.add_param_group({"params": [b], "lr": 0.01}); [g["lr"] for g in opt.param_groups]
        [0.1, 0.01]
        """
        name = type(self).__name__
        if not isinstance(group, Mapping) or "params" not in group:
            raise TypeError(f"{name}.add_param_group: the group must be a dict with 'params', "
                            f"got {type(group).__name__}")
        params = group["params"]
        spec = dict(group, params=[params] if isinstance(params, Tensor) else params)
        before = len(self.params)
        seen = {id(p) for p in self.params}
        new = self._new_group(name, len(self.param_groups), spec, seen)
        if not new["params"]:
            raise ValueError(f"{name}.add_param_group: no new parameters (each tensor may be in one group only)")
        self.param_groups.append(new)
        for key in self._STATE:
            getattr(self, key).extend(self._fresh_state(key, p) for p in self.params[before:])

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain data: the settings of each group (parameters by index) and the
        per-parameter state (copies). ``load_state_dict`` of it resumes training exactly."""
        index = {id(p): i for i, p in enumerate(self.params)}
        groups = [dict({k: v for k, v in g.items() if k != "params"}, params=[index[id(p)] for p in g["params"]])
                  for g in self.param_groups]
        state = {key: [None if v is None else np.array(v) if isinstance(v, np.ndarray) else v
                       for v in getattr(self, key)] for key in self._STATE}
        return {"param_groups": groups, "state": state, "step_count": self.step_count}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned, for an optimizer built over the same parameters."""
        name = type(self).__name__
        groups = state_dict["param_groups"]
        if [len(g["params"]) for g in groups] != [len(g["params"]) for g in self.param_groups]:
            raise ValueError(f"{name}.load_state_dict: the saved groups hold "
                             f"{[len(g['params']) for g in groups]} parameters, this optimizer's "
                             f"{[len(g['params']) for g in self.param_groups]}; build it over the same parameters")
        for key, values in state_dict["state"].items():
            if key not in self._STATE or len(values) != len(self.params):
                raise ValueError(f"{name}.load_state_dict: state {key!r} does not fit this optimizer")
            for p, v in zip(self.params, values):
                if isinstance(v, np.ndarray) and v.shape != p.data.shape:
                    raise ValueError(f"{name}.load_state_dict: state {key!r} has shape {v.shape} for a parameter "
                                     f"of shape {p.data.shape}")
        for group, saved in zip(self.param_groups, groups):
            group.update((k, v) for k, v in saved.items() if k != "params")
        for key, values in state_dict["state"].items():
            setattr(self, key, [np.array(v) if isinstance(v, np.ndarray) else v for v in values])
        self.step_count = state_dict.get("step_count", self.step_count)

    def _grads(self) -> list[np.ndarray | None]:
        """Each parameter's gradient array (None where it has none); a gradient of the wrong shape is an error."""
        grads = []
        for i, p in enumerate(self.params):
            g = p.grad
            if g is not None:
                g = g.data if isinstance(g, Tensor) else np.asarray(g)
                if g.shape != p.data.shape:
                    label = self._names.get(id(p), p.name)
                    what = f"parameter {i}" + (f" '{label}'" if label else "")
                    raise ValueError(f"{type(self).__name__}.step: {what} has shape {p.data.shape} but its .grad has "
                                     f"shape {g.shape}; they must be equal (was .grad set by hand?)")
            grads.append(g)
        return grads

    def _updated(self, p: Tensor) -> None:
        """Stamp an updated parameter, so a graph recorded before the step refuses to backpropagate with it."""
        engine.mark_modified(p)

    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        raise NotImplementedError

    def _call_closure(self, closure: Callable[[], Tensor] | None) -> Tensor | None:
        """PyTorch's convention: the closure zeroes the gradients, computes the loss and calls backward."""
        if closure is None:
            return None
        with engine.enable_grad():
            return closure()


def _check_setting(where: str, key: str, value: Any) -> None:
    """Numbers must be finite and ≥ 0; flags and tuples (``betas``) are checked by their optimizer; None: unset."""
    if value is None or isinstance(value, (bool, tuple)):
        return
    if not (isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{where}: {key} must be a finite number ≥ 0, got {value!r}")


def _group_specs(name: str, params: Any) -> list[dict[str, Any]]:
    """The parameter groups asked for: one ``{"params": ...}`` unless ``params`` is a list of group dicts."""
    if isinstance(params, Tensor):
        raise TypeError(f"{name}: params must be an iterable of Tensors or a dict of named Tensors, got one Tensor; "
                        f"pass [t]")
    if isinstance(params, Mapping):
        if "params" in params:
            raise TypeError(f"{name}: a parameter group dict must come in a list: {name}([{{'params': ...}}], ...)")
        return [{"params": params}]
    items = list(params)
    if items and all(isinstance(item, Mapping) for item in items):
        for k, item in enumerate(items):
            if "params" not in item:
                raise ValueError(f"{name}: parameter group {k} has no 'params' entry")
        return [dict(item) for item in items]
    return [{"params": items}]


def _named(params: Any) -> list[tuple[str | None, Any]]:
    """``(name or None, tensor)`` from a Tensor, an iterable of Tensors or of (name, Tensor) pairs, or a dict."""
    if isinstance(params, Tensor):
        return [(None, params)]
    if isinstance(params, Mapping):
        return [(str(k), v) for k, v in params.items()]
    out: list[tuple[str | None, Any]] = []
    for item in params:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            out.append((item[0], item[1]))  # module.named_parameters()
        else:
            out.append((None, item))
    return out


class SGD(Optimizer):
    """Stochastic gradient descent, with PyTorch's formulas for momentum, Nesterov and weight decay.

    With ``g = grad + weight_decay · p`` and the buffer ``b`` (``b = g`` at the first step,
    ``b = momentum · b + g`` after), the step is ``p -= lr · d`` where ``d = g + momentum · b`` with
    Nesterov, ``d = b`` with momentum, and ``d = g`` without.

    >>> import tinygrad_mvc as tg
    >>> w = tg.tensor([1.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 6)   # 1 - 0.5·2 = 0, then 0 - 0.5·(0.9·2 + 0) = -0.9
    -0.9
    """

    _STATE = ("buffers",)

    def __init__(self, params: Params, lr: float | None = None, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, momentum=momentum, nesterov=bool(nesterov), weight_decay=weight_decay)
        for k, group in enumerate(self.param_groups):
            if group["nesterov"] and group["momentum"] == 0:
                raise ValueError("SGD: nesterov=True needs momentum > 0"
                                 + (f" (parameter group {k})" if len(self.param_groups) > 1 else ""))
        self.buffers: list[np.ndarray | None] = [None] * len(self.params)

    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """One update from the current ``.grad`` (parameters without a gradient are left alone)."""
        loss = self._call_closure(closure)
        grads = self._grads()
        i = -1
        for group in self.param_groups:
            lr, momentum, nesterov, weight_decay = (group["lr"], group["momentum"], group["nesterov"],
                                                    group["weight_decay"])
            for p in group["params"]:
                i += 1
                g = grads[i]
                if g is None:
                    continue
                if weight_decay and not momentum:
                    # p − lr·(g + λp) = (1 − lr·λ)·p − lr·g: the same update with one temporary fewer.
                    p.data *= 1 - lr * weight_decay
                    p.data -= lr * g
                    self._updated(p)
                    continue
                if weight_decay:
                    g = g + weight_decay * p.data
                if momentum:
                    buf = self.buffers[i]
                    if buf is None:
                        buf = self.buffers[i] = np.array(g, dtype=p.data.dtype)
                    else:
                        buf *= momentum
                        buf += g
                    g = g + momentum * buf if nesterov else buf
                p.data -= lr * g
                self._updated(p)
        self.step_count += 1
        return loss


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction; ``weight_decay`` adds ``weight_decay · p`` to the gradient.

    ``m = β₁m + (1−β₁)g``, ``v = β₂v + (1−β₂)g²``, and ``p -= lr · m̂ / (√v̂ + eps)`` with
    ``m̂ = m / (1−β₁ᵗ)``, ``v̂ = v / (1−β₂ᵗ)``: PyTorch's ``torch.optim.Adam`` update.

    >>> import tinygrad_mvc as tg
    >>> w = tg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w   # the first step moves every entry by lr
    Tensor([ 0.9, -0.9], requires_grad=True)
    """

    _STATE = ("m", "v", "counts")

    def _fresh_state(self, key: str, p: Tensor) -> Any:
        return 0 if key == "counts" else np.zeros_like(p.data)

    def __init__(self, params: Params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        for group in self.param_groups:
            b1, b2 = group["betas"] = tuple(group["betas"])
            if not (0 <= b1 < 1 and 0 <= b2 < 1):
                raise ValueError(f"Adam: betas must lie in [0, 1), got {group['betas']}")
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]
        self.counts = [0] * len(self.params)  # per parameter: one that had no gradient did not take a step

    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """One Adam update from the current ``.grad``."""
        loss = self._call_closure(closure)
        grads = self._grads()
        i = -1
        for group in self.param_groups:
            lr, (b1, b2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                i += 1
                g = grads[i]
                if g is None:
                    continue
                if weight_decay:
                    g = g + weight_decay * p.data
                self.counts[i] += 1
                t = self.counts[i]
                m, v = self.m[i], self.v[i]
                m *= b1
                m += (1 - b1) * g
                v *= b2
                v += (1 - b2) * (g * g)
                denom = np.sqrt(v / (1 - b2 ** t))
                denom += eps
                p.data -= (lr / (1 - b1 ** t)) * m / denom
                self._updated(p)
        self.step_count += 1
        return loss


SPARSE_MIN_PARAMS = 64
"""sparse18: from this many parameters Newton tries a sparse Hessian (few coloured HVPs) before the dense one."""


class Newton(Optimizer):
    """Newton's method over all parameters at once, with the exact Hessian from the derivative table.

    ``step(closure)`` calls ``closure()`` (which only computes and returns the loss), takes the gradient
    g and the Hessian H of the loss over every parameter (flattened into one vector of n entries), and
    takes the step of :mod:`tinygrad_mvc.newton_step`, the rule ``tg.optimize.newton_minimize`` uses:
    ``d = −(H + damping·I)⁻¹g`` where that matrix is positive definite; near a saddle or a maximum a
    modified Hessian ``H + damping·I + τI``, shifted just enough to be positive definite, so ``d`` still
    goes downhill (``last_direction`` says ``"newton"`` or ``"shifted"``). With ``line_search`` the step
    ``p + t·d`` starts at t = 1 and, while Armijo's condition holds and the loss keeps falling, doubles
    (up to 1024: a nearly flat start crosses the plateau in a few steps instead of crawling), else
    halves until the loss falls enough; without it, t = 1. Cost: one Hessian (n forward-mode passes in
    one batch) and an n × n solve per step (plus an eigendecomposition when shifted), so it refuses
    more than ``max_params`` parameters.

    >>> import tinygrad_mvc as tg
    >>> w = tg.tensor([0.0, 0.0], requires_grad=True)
    >>> opt = Newton([w])
    >>> loss = opt.step(lambda: ((w - tg.tensor([1.0, 2.0])) ** 2).sum())  # a quadratic: one step
    >>> np.round(w.data, 6)
    array([1., 2.])
    """

    def __init__(self, params: Iterable[Tensor], damping: float = 1e-8, line_search: bool = True,
                 max_params: int = 2000) -> None:
        super().__init__(params, damping=damping, max_params=max_params)
        self.damping, self.line_search, self.max_params = damping, line_search, int(max_params)
        self.n = sum(p.size for p in self.params)
        if self.n > self.max_params:
            raise ValueError(f"Newton: {self.n} parameters would need a {self.n} x {self.n} Hessian "
                             f"({self.n * self.n * 8 / 1e6:.0f} MB in float64); the limit is max_params="
                             f"{self.max_params}. Use SGD or Adam, or raise max_params if memory allows")
        # what the last step did: "newton", "shifted" (modified Hessian), "gradient" (Hessian not finite)
        # or "none (stationary point)"
        self.last_direction = ""

    def _hessian(self, grads: list[Tensor], loss: Tensor | None = None) -> np.ndarray:
        """Row i: the gradient's derivative along parameter entry i, by forward mode over the recorded gradient."""
        flat = ops.concatenate([g.reshape(-1) for g in grads])
        # Basis vectors go through in chunks, so no batched intermediate exceeds the transforms' budget.
        known = {id(p): p for p in self.params}
        widest = max((t.data.size for t in forward._nodes_between(self.params, flat, known)), default=1)
        chunks = lambda count: transforms._chunks(count, max(self.n, widest))  # noqa: E731
        # --- sparse18: a sparse Hessian from a few coloured HVPs, when there are many parameters and the
        # loss's graph shows a pattern much sparser than dense (tg.hessian(..., sparsity="auto")).
        if loss is not None and self.n >= SPARSE_MIN_PARAMS:
            if not hasattr(self, "_patterns"):
                self._patterns = sparsity.PatternCache()
            found = self._patterns.colouring(loss, self.params)
            if found is not None and 4 * (int(found[2].max()) + 1) <= self.n:
                rows, cols, colours = found
                seeds = sparsity.seeds(colours, flat.dtype)
                products = np.concatenate([self._pushed(flat, seeds[lo:hi]) for lo, hi in chunks(len(seeds))])
                hess = sparsity.recover(products, rows, cols, colours)
                return (hess + hess.T) / 2
        # --- end sparse18
        eye = np.eye(self.n, dtype=flat.dtype)
        hess = np.concatenate([self._pushed(flat, eye[lo:hi]) for lo, hi in chunks(self.n)])
        return (hess + hess.T) / 2  # exact up to rounding; symmetric for the Cholesky test

    def _pushed(self, flat: Tensor, vectors: np.ndarray) -> np.ndarray:
        """H @ v for each row v of ``vectors`` (over all parameter entries): one batched forward pass."""
        tangents, start = [], 0
        for p in self.params:
            tangents.append(vectors[:, start:start + p.size].reshape((len(vectors), *p.shape)))
            start += p.size
        return forward.push_forward(flat, self.params, tangents, batch_ndim=1).data

    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor:
        """One damped Newton step; returns the loss before the step."""
        if closure is None:
            raise ValueError("Newton.step needs a closure that computes and returns the loss "
                             "(it takes the gradient and Hessian itself)")
        with engine.enable_grad():
            # Newton differentiates the closure itself, as a transform does: a conversion to a number
            # inside it would cut the derivative, so it is refused the same way.
            token = engine.begin_trace("optim.Newton", self.params)
            try:
                loss = closure()
            finally:
                engine.end_trace(token)
            if not isinstance(loss, Tensor) or loss.size != 1:
                raise ValueError(f"Newton: the closure must return a scalar loss Tensor, got "
                                 f"{type(loss).__name__} of shape {getattr(loss, 'shape', ())}")
            grads = engine.gradients(loss, self.params, create_graph=True)
            hess = self._hessian(grads, loss)
        g = np.concatenate([gr.data.ravel() for gr in grads]).astype(np.float64)
        direction, self.last_direction = newton_step.direction(hess.astype(np.float64), g, self.damping)
        if not self.line_search:
            self._move(direction)
        elif not float(g @ direction) < 0:
            # Every direction of the rule descends unless g = 0 (−gᵀM⁻¹g < 0 for a positive definite M),
            # so this is a stationary point up to rounding: stay.
            self.last_direction = "none (stationary point)"
        else:
            point = self._searched(closure, float(loss.item()), g, direction, self.last_direction)
            if point is not None:
                self._set(point)
        self.step_count += 1
        return loss.detach()

    def _move(self, delta: np.ndarray) -> None:
        start = 0
        for p in self.params:
            p.data += delta[start:start + p.size].reshape(p.shape).astype(p.data.dtype)
            self._updated(p)
            start += p.size

    def _flat(self) -> np.ndarray:
        return np.concatenate([p.data.ravel() for p in self.params]).astype(np.float64)

    def _set(self, point: np.ndarray) -> None:
        start = 0
        for p in self.params:
            p.data[...] = point[start:start + p.size].reshape(p.shape).astype(p.data.dtype)
            self._updated(p)
            start += p.size

    def _searched(self, closure: Callable[[], Tensor], f0: float, g: np.ndarray, d: np.ndarray,
                  kind: str) -> np.ndarray | None:
        """The shared line search (Armijo, growing or halving the step) over the flat parameter vector."""
        here = self._flat()

        def value_at(point: np.ndarray) -> float:
            self._set(point)
            with no_grad():
                return float(np.asarray(closure().data))

        try:
            found = newton_step.search(value_at, here, f0, g, d, kind)
        finally:
            self._set(here)
        return None if found is None else found.x
