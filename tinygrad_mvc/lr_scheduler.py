"""Learning-rate schedules with PyTorch's names and formulas: ``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR``.

Reachable as ``tg.optim.lr_scheduler``. A scheduler sets ``lr`` in every parameter group of its
optimizer. Making it counts as the first step (``last_epoch`` becomes 0, the groups keep their
lr, remembered as ``base_lrs`` and as each group's ``"initial_lr"``); each ``step()`` (once per
epoch, after ``optimizer.step()``) moves ``last_epoch`` on by one and updates the rates. As in
PyTorch the update is chainable: it starts from each group's current ``lr``, so an lr changed by
hand between steps is carried on. ``get_last_lr()`` is the list of rates last set, one per group.

>>> import tinygrad_mvc as tg
>>> w = tg.zeros(1, requires_grad=True)
>>> opt = tg.optim.SGD([w], lr=1.0)
>>> sched = tg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> rates = []
>>> for epoch in range(5):
...     rates.append(sched.get_last_lr()[0]); opt.step(); sched.step()
>>> rates
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR"]


class LRScheduler:
    """Base class: subclasses define ``get_lr()``, the new rates from the current ones at ``last_epoch``."""

    def __init__(self, optimizer: Any, last_epoch: int = -1) -> None:
        name = type(self).__name__
        groups = getattr(optimizer, "param_groups", None)
        if not isinstance(groups, list) or not groups:
            raise TypeError(f"{name}: expected an optimizer (with param_groups), got {type(optimizer).__name__}")
        if not isinstance(last_epoch, int) or isinstance(last_epoch, bool) or last_epoch < -1:
            raise ValueError(f"{name}: last_epoch must be an integer ≥ -1, got {last_epoch!r}")
        for k, group in enumerate(groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{name}: resuming at last_epoch={last_epoch} needs 'initial_lr' in parameter group "
                               f"{k} (set by the scheduler that ran before)")
        self.optimizer = optimizer
        self.base_lrs: list[float] = [group["initial_lr"] for group in groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = [group["lr"] for group in groups]
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch: ``last_epoch += 1`` and every group's ``lr`` set from the schedule."""
        self._step_count += 1
        self.last_epoch += 1
        rates = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, rates, strict=True):
            group["lr"] = lr
        self._last_lr = list(rates)

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state (everything but the optimizer)."""
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                             if not k.startswith("_") and k not in ("optimizer", "base_lrs"))
        return f"{type(self).__name__}({settings}, lr={self._last_lr})"

    def _current(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


def _positive_int(name: str, what: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: {what} must be a positive integer, got {value!r}")
    return value


def _rate(name: str, what: str, value: Any) -> float:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name}: {what} must be a finite number ≥ 0, got {value!r}")
    return float(value)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: ``lr = base · gamma ** (epoch // step_size)``.

    >>> import tinygrad_mvc as tg
    >>> opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1)
    >>> s = StepLR(opt, step_size=1, gamma=0.1); s.step(); s.get_last_lr(), s.last_epoch
    ([0.010000000000000002], 1)
    """

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = _positive_int("StepLR", "step_size", step_size)
        self.gamma = _rate("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: ``lr = base · gamma ** epoch``.

    >>> import tinygrad_mvc as tg
    >>> opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    >>> s = ExponentialLR(opt, gamma=0.5); s.step(); s.step(); s.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer: Any, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _rate("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class CosineAnnealingLR(LRScheduler):
    """Cosine from the base rate down to ``eta_min`` over ``T_max`` epochs, then back up (period 2·T_max).

    ``lr = eta_min + (base − eta_min) · (1 + cos(π · epoch / T_max)) / 2``, computed, as PyTorch
    does, by the chainable ratio of successive values (so an lr set by hand is carried on).

    >>> import tinygrad_mvc as tg
    >>> opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    >>> s = CosineAnnealingLR(opt, T_max=2); rates = [s.get_last_lr()[0]]
    >>> for _ in range(4):
    ...     s.step(); rates.append(round(s.get_last_lr()[0], 12))
    >>> rates
    [1.0, 0.5, 0.0, 0.5, 1.0]
    """

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:  # noqa: N803
        self.T_max = _positive_int("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = _rate("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        e, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        current = self._current()
        if e == 0:
            return current
        if self._step_count == 1:  # resumed at last_epoch > 0: the closed form
            return [eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / t_max)) / 2 for base in self.base_lrs]
        if (e - 1 - t_max) % (2 * t_max) == 0:  # the trough: the ratio below would divide by zero
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for lr, base in zip(current, self.base_lrs, strict=True)]
        ratio = (1 + math.cos(math.pi * e / t_max)) / (1 + math.cos(math.pi * (e - 1) / t_max))
        return [ratio * (lr - eta_min) + eta_min for lr in current]
