"""Learning-rate schedulers with PyTorch's semantics (``torch.optim.lr_scheduler``).

A scheduler changes ``group["lr"]`` of its optimizer's parameter groups. As in PyTorch:

* building a scheduler records ``group["initial_lr"]`` (once) and performs the initial step, which
  sets the learning rates of epoch 0;
* :meth:`LRScheduler.step` is called after the optimizer's step, once per epoch or per batch;
* most schedulers are *chainable*: the next learning rate is computed from the current
  ``group["lr"]`` (the recursive form), so several schedulers can act on the same optimizer;
* :meth:`get_last_lr` returns the learning rates the scheduler set last.

``step(metric)`` takes an optional metric so a training loop can call every scheduler the same way;
only :class:`ReduceLROnPlateau` uses it. State dicts are plain data (numbers, strings, lists, dicts).
Restore a run by building the optimizer and the scheduler as at the start, then loading the
optimizer's state dict and the scheduler's state dict.
"""

from __future__ import annotations

import math
import numbers
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from itertools import pairwise
from typing import Any, ClassVar

from swets_core.errors import ConfigError, StateDictError
from swets_optim import _validate as v


def _check_optimizer(owner: str, optimizer: Any) -> None:
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not groups:
        raise ConfigError(
            f"{owner}: expected an optimizer with param_groups, got {type(optimizer).__name__}"
        )
    for gi, group in enumerate(groups):
        if not isinstance(group, dict) or "lr" not in group:
            raise ConfigError(f"{owner}: the optimizer's param group {gi} has no 'lr'")


def _milestones(owner: str, name: str, value: Any) -> list[int]:
    """A list of positive epoch indices, in the order given."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ConfigError(f"{owner}: {name} must be a list of ints, got {value!r}")
    return [v.integer(owner, f"{name}[{i}]", m, minimum=1) for i, m in enumerate(value)]


def _sorted_milestones(owner: str, name: str, value: Any) -> list[int]:
    """:func:`_milestones`, sorted."""
    return sorted(_milestones(owner, name, value))


_epochs = partial(v.integer, minimum=1)
"""A number of epochs (or a period, a growth factor): an int ``>= 1``."""


def _per_group(owner: str, name: str, value: Any, n: int, check: Any) -> list[float]:
    """A scalar repeated for every group, or a list with one value per group."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ConfigError(
                f"{owner}: {name} has {len(value)} values but the optimizer has {n} param group(s)"
            )
        return [check(owner, f"{name}[{i}]", x) for i, x in enumerate(value)]
    return [check(owner, name, value)] * n


class LRScheduler:
    """Base class of the epoch-indexed schedulers (implements :class:`swets_core.protocols.Scheduler`).

    Subclasses implement ``_compute_lrs()`` (the chainable form, reading ``group["lr"]``) and
    optionally ``_closed_form_lrs()`` (the value at ``last_epoch`` from the base learning rates).
    Their configuration is a table, ``_config_checks`` (each value's check, by name): ``__init__``
    passes its ``locals()`` to :meth:`_configure`, which validates and stores them, before calling
    ``LRScheduler.__init__``.

    Attributes:
        optimizer: the optimizer whose learning rates are set.
        base_lrs: each group's ``initial_lr``.
        last_epoch: the index of the last step (0 after construction).
    """

    name: ClassVar[str] = "lr_scheduler"
    summary: ClassVar[str] = ""
    """The one line ``swets list`` shows for the registered class."""
    _config_checks: ClassVar[Mapping[str, Callable[[str, str, Any], Any]]] = {}
    _config_keys: ClassVar[tuple[str, ...]] = ()
    """The configuration in the state dict and the repr (the keys of ``_config_checks`` unless a
    class sets it)."""
    _extra_keys: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_config_checks" in cls.__dict__ and "_config_keys" not in cls.__dict__:
            cls._config_keys = tuple(cls._config_checks)

    def _configure(self, arguments: Mapping[str, Any]) -> None:
        """Validate every value of ``_config_checks`` among a constructor's ``locals()`` and store it
        as an attribute of the same name (a ConfigError names the scheduler and the argument)."""
        for key, check in self._config_checks.items():
            setattr(self, key, check(self.name, key, arguments[key]))

    def __init__(self, optimizer: Any) -> None:
        _check_optimizer(self.name, optimizer)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self._step_count = 0
        self._is_initial = False
        self._last_lr: list[float] = [group["lr"] for group in optimizer.param_groups]
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def step(self, metric: float | None = None) -> None:
        """Advance one epoch (or batch) and set the optimizer's learning rates.

        ``metric`` is accepted for a uniform training-loop call and ignored (see
        :class:`ReduceLROnPlateau`).
        """
        self._step_count += 1
        self._update_lr(None)

    def _update_lr(self, epoch: int | None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self._compute_lrs()
        else:
            self.last_epoch = epoch
            values = self._closed_form_lrs()
            if values is None:
                values = self._compute_lrs()
        groups = self.optimizer.param_groups
        if len(values) != len(groups):
            raise ConfigError(
                f"{self.name}: the optimizer has {len(groups)} param group(s) but the scheduler "
                f"was built for {len(values)}"
            )
        for group, lr in zip(groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def _current(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def _compute_lrs(self) -> list[float]:
        raise NotImplementedError

    def _closed_form_lrs(self) -> list[float] | None:
        return None

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last step, one per parameter group."""
        return list(self._last_lr)

    # -- state ----------------------------------------------------------------------------------
    def _state_keys(self) -> tuple[str, ...]:
        return (
            "base_lrs",
            "last_epoch",
            "step_count",
            "last_lr",
            *self._config_keys,
            *self._extra_keys,
        )

    def _get(self, key: str) -> Any:
        attr = {"step_count": "_step_count", "last_lr": "_last_lr"}.get(key, key)
        return getattr(self, attr)

    def _set(self, key: str, value: Any) -> None:
        attr = {"step_count": "_step_count", "last_lr": "_last_lr"}.get(key, key)
        setattr(self, attr, value)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's counters and configuration as plain data."""
        return {key: _plain(self._get(key)) for key in self._state_keys()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; raises :class:`StateDictError` on missing/unknown keys."""
        problems = _check_keys(state, self._state_keys())
        if not problems:
            n = len(self.optimizer.param_groups)
            for key in ("base_lrs", "last_lr"):
                if not isinstance(state[key], list) or len(state[key]) != n:
                    problems.append(f"{key!r} must be a list of {n} learning rate(s)")
        if problems:
            raise StateDictError(type(self).__name__, problems)
        for key in self._state_keys():
            self._set(key, _restore(state[key]))

    def __repr__(self) -> str:
        conf = ", ".join(f"{k}={self._get(k)!r}" for k in self._config_keys)
        return f"{type(self).__name__}({conf}, last_epoch={self.last_epoch})"


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(x) for x in value]
    if isinstance(value, dict):
        return {str(k): _plain(x) for k, x in value.items()}
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, list):
        return [_restore(x) for x in value]
    if isinstance(value, dict):
        return {k: _restore(x) for k, x in value.items()}
    return value


def _check_keys(state: Any, expected: Sequence[str]) -> list[str]:
    if not isinstance(state, Mapping):
        return [f"expected a dict, got {type(state).__name__}"]
    problems = []
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(map(str, state)) - set(expected))
    if missing:
        problems.append(f"missing keys {missing}")
    if unexpected:
        problems.append(f"unexpected keys {unexpected}")
    return problems


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr(epoch) = initial_lr * gamma ** (epoch // step_size)``.

    Args:
        optimizer: the optimizer.
        step_size: period of the decay, a positive int.
        gamma: multiplicative factor, ``> 0``.
    """

    name = "step_lr"
    summary = "Decay the lr by gamma every step_size epochs."
    _config_checks = v.checks(step_size=_epochs, gamma=v.positive)

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1) -> None:
        self._configure(locals())
        super().__init__(optimizer)

    def _compute_lrs(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _closed_form_lrs(self) -> list[float]:
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone epoch.

    A milestone listed ``k`` times multiplies by ``gamma ** k``.

    Args:
        optimizer: the optimizer.
        milestones: epoch indices, positive ints.
        gamma: multiplicative factor, ``> 0``.
    """

    name = "multi_step_lr"
    summary = "Decay the lr by gamma at each milestone."
    _config_checks = v.checks(milestones=_sorted_milestones, gamma=v.positive)

    def __init__(self, optimizer: Any, milestones: Sequence[int], gamma: float = 0.1) -> None:
        self._configure(locals())
        self._counts = Counter(self.milestones)
        super().__init__(optimizer)

    def _set(self, key: str, value: Any) -> None:
        super()._set(key, value)
        if key == "milestones":
            self._counts = Counter(value)

    def _compute_lrs(self) -> list[float]:
        if self.last_epoch not in self._counts:
            return self._current()
        factor = self.gamma ** self._counts[self.last_epoch]
        return [lr * factor for lr in self._current()]

    def _closed_form_lrs(self) -> list[float]:
        k = bisect_right(self.milestones, self.last_epoch)
        return [b * self.gamma**k for b in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch: ``lr(epoch) = initial_lr * gamma ** epoch``.

    Args:
        optimizer: the optimizer.
        gamma: multiplicative factor, ``> 0``.
    """

    name = "exponential_lr"
    summary = "Decay the lr by gamma every epoch."
    _config_checks = v.checks(gamma=v.positive)

    def __init__(self, optimizer: Any, gamma: float) -> None:
        self._configure(locals())
        super().__init__(optimizer)

    def _compute_lrs(self) -> list[float]:
        if self._is_initial:
            return self._current()
        return [lr * self.gamma for lr in self._current()]

    def _closed_form_lrs(self) -> list[float]:
        return [b * self.gamma**self.last_epoch for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the initial learning rate down to ``eta_min`` over ``T_max`` epochs.

    Uses PyTorch's recursive form, so the sequence matches ``torch.optim.lr_scheduler.CosineAnnealingLR``
    exactly, including past ``T_max`` (the cosine continues and rises again)::

        lr(e) = eta_min + (lr(e-1) - eta_min) * (1 + cos(pi e / T_max)) / (1 + cos(pi (e-1) / T_max))

    Args:
        optimizer: the optimizer.
        T_max: half period in epochs, a positive int.
        eta_min: the minimum learning rate, ``>= 0``.
    """

    name = "cosine_annealing_lr"
    summary = "Cosine annealing over T_max epochs."
    _config_checks = v.checks(T_max=_epochs, eta_min=v.non_negative)

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0) -> None:
        self._configure(locals())
        super().__init__(optimizer)

    def _compute_lrs(self) -> list[float]:
        e, T, lo = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current()
        if self._step_count == 1 and e > 0:
            return [lo + (b - lo) * (1 + math.cos(e * math.pi / T)) / 2 for b in self.base_lrs]
        if (e - 1 - T) % (2 * T) == 0:
            return [
                lr + (b - lo) * (1 - math.cos(math.pi / T)) / 2
                for b, lr in zip(self.base_lrs, self._current())
            ]
        return [
            (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) * (lr - lo) + lo
            for lr in self._current()
        ]

    def _closed_form_lrs(self) -> list[float]:
        e, T, lo = self.last_epoch, self.T_max, self.eta_min
        return [lo + (b - lo) * (1 + math.cos(math.pi * e / T)) / 2 for b in self.base_lrs]


class LinearLR(LRScheduler):
    """Linear warm-up (or decay): the factor goes from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs, then stays.

    ``lr(e) = initial_lr * (start + (end - start) * min(e, total_iters) / total_iters)``, computed in
    PyTorch's recursive form.

    Args:
        optimizer: the optimizer.
        start_factor: in ``(0, 1]``.
        end_factor: in ``[0, 1]``.
        total_iters: number of epochs of the ramp, a positive int.
    """

    name = "linear_lr"
    summary = "Linear warm-up (or decay) of the lr factor."
    _config_checks = v.checks(
        start_factor=partial(v.in_range, low=0.0, high=1.0, low_open=True),
        end_factor=v.unit_interval,
        total_iters=_epochs,
    )

    def __init__(
        self,
        optimizer: Any,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        self._configure(locals())
        super().__init__(optimizer)

    def _compute_lrs(self) -> list[float]:
        e = self.last_epoch
        if e == 0:
            return [lr * self.start_factor for lr in self._current()]
        if self._is_initial or e > self.total_iters:
            return self._current()
        s, f = self.start_factor, self.end_factor
        factor = 1.0 + (f - s) / (self.total_iters * s + (e - 1) * (f - s))
        return [lr * factor for lr in self._current()]

    def _closed_form_lrs(self) -> list[float]:
        s, f = self.start_factor, self.end_factor
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        return [b * (s + (f - s) * frac) for b in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing with warm restarts (SGDR): restart every ``T_i`` epochs, ``T_i`` growing by
    ``T_mult`` after each restart.

    ``lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``.

    Args:
        optimizer: the optimizer.
        T_0: epochs until the first restart, a positive int.
        T_mult: growth factor of the period, an int ``>= 1``.
        eta_min: the minimum learning rate, ``>= 0``.

    ``step(epoch=x)`` may be given a fractional epoch (``epoch + batch / batches``), as in PyTorch.
    """

    name = "cosine_annealing_warm_restarts"
    summary = "Cosine annealing with warm restarts (SGDR)."
    _config_checks = v.checks(T_0=_epochs, T_mult=_epochs, eta_min=v.non_negative)
    _extra_keys = ("T_i", "T_cur")

    def __init__(self, optimizer: Any, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> None:
        self._configure(locals())
        self.T_i: float = self.T_0
        self.T_cur: float = -1
        super().__init__(optimizer)

    def _compute_lrs(self) -> list[float]:
        lo = self.eta_min
        c = math.cos(math.pi * self.T_cur / self.T_i)
        return [lo + (b - lo) * (1 + c) / 2 for b in self.base_lrs]

    def step(self, metric: float | None = None, *, epoch: float | None = None) -> None:
        """Advance one epoch, or jump to ``epoch`` (may be fractional, ``>= 0``)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            v.non_negative(self.name, "epoch", epoch)
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        groups = self.optimizer.param_groups
        for group, lr in zip(groups, self._compute_lrs()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]


class SequentialLR(LRScheduler):
    """Run schedulers one after another, switching at the milestone epochs.

    At milestone ``m_i`` scheduler ``i + 1`` takes over and restarts from its epoch 0 (its closed
    form), exactly like ``torch.optim.lr_scheduler.SequentialLR``.

    Args:
        optimizer: the optimizer (the same as every inner scheduler's).
        schedulers: scheduler objects built on ``optimizer``, or specs ``{"name": ..., **config}``
            created through the registry (e.g. ``{"name": "linear_lr", "total_iters": 5}``).
        milestones: ``len(schedulers) - 1`` strictly increasing positive epoch indices.
    """

    name = "sequential_lr"
    summary = "Schedulers one after another, at milestones."

    def __init__(
        self,
        optimizer: Any,
        schedulers: Sequence[LRScheduler | Mapping[str, Any]],
        milestones: Sequence[int],
    ) -> None:
        _check_optimizer(self.name, optimizer)
        if isinstance(schedulers, (str, bytes, Mapping)) or not isinstance(schedulers, Sequence):
            raise ConfigError(f"{self.name}: schedulers must be a list, got {schedulers!r}")
        if len(schedulers) < 1:
            raise ConfigError(f"{self.name}: expects at least one scheduler, got none")
        built: list[LRScheduler] = []
        for i, s in enumerate(schedulers):
            if isinstance(s, Mapping):
                s = _from_spec(self.name, i, optimizer, s)
            if isinstance(s, ReduceLROnPlateau):
                raise ConfigError(
                    f"{self.name}: schedulers[{i}] is reduce_lr_on_plateau, which needs a metric "
                    "at every step and cannot be sequenced"
                )
            if not isinstance(s, LRScheduler):
                raise ConfigError(
                    f"{self.name}: schedulers[{i}] is a {type(s).__name__}, not a scheduler"
                )
            if s.optimizer is not optimizer:
                raise ConfigError(
                    f"{self.name}: schedulers[{i}] ({s.name}) was built on another optimizer"
                )
            built.append(s)
        ms = _milestones(self.name, "milestones", milestones)
        if len(ms) != len(built) - 1:
            raise ConfigError(
                f"{self.name}: expects {len(built) - 1} milestone(s) for {len(built)} schedulers, "
                f"got {len(ms)}"
            )
        if any(b <= a for a, b in pairwise(ms)):
            raise ConfigError(f"{self.name}: milestones must be strictly increasing, got {ms}")
        self.optimizer = optimizer
        self._schedulers = built
        self.milestones = ms
        self.last_epoch = 0
        self._step_count = 0
        self._is_initial = False
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for s in built:
            _undo(s)
        first = built[bisect_right(self.milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    @property
    def schedulers(self) -> list[LRScheduler]:
        """The inner schedulers, in order."""
        return list(self._schedulers)

    def step(self, metric: float | None = None) -> None:
        """Advance one epoch: step the active scheduler, or restart the next one at a milestone."""
        self.last_epoch += 1
        idx = bisect_right(self.milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self.milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def _state_keys(self) -> tuple[str, ...]:
        return ("milestones", "last_epoch", "last_lr", "base_lrs", "schedulers")

    def state_dict(self) -> dict[str, Any]:
        """Counters, milestones and the state dict of every inner scheduler."""
        return {
            "milestones": list(self.milestones),
            "last_epoch": self.last_epoch,
            "last_lr": list(self._last_lr),
            "base_lrs": list(self.base_lrs),
            "schedulers": [s.state_dict() for s in self._schedulers],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`, including the inner schedulers'."""
        problems = _check_keys(state, self._state_keys())
        if not problems and (
            not isinstance(state["schedulers"], list)
            or len(state["schedulers"]) != len(self._schedulers)
        ):
            problems.append(f"'schedulers' must be a list of {len(self._schedulers)} state dicts")
        if problems:
            raise StateDictError(type(self).__name__, problems)
        for s, sub in zip(self._schedulers, state["schedulers"]):
            s.load_state_dict(sub)
        self.milestones = list(state["milestones"])
        self.last_epoch = state["last_epoch"]
        self._last_lr = list(state["last_lr"])
        self.base_lrs = list(state["base_lrs"])

    def __repr__(self) -> str:
        inner = ", ".join(repr(s) for s in self._schedulers)
        return (
            f"SequentialLR([{inner}], milestones={self.milestones}, last_epoch={self.last_epoch})"
        )


def _undo(s: LRScheduler) -> None:
    # a nested SequentialLR keeps its own counter; its inner schedulers are rewound
    if isinstance(s, SequentialLR):
        for inner in s._schedulers:
            _undo(inner)
    else:
        s.last_epoch -= 1


def _from_spec(owner: str, i: int, optimizer: Any, spec: Mapping[str, Any]) -> LRScheduler:
    from swets_core import registry

    config = dict(spec)
    name = config.pop("name", None)
    if not isinstance(name, str):
        raise ConfigError(f"{owner}: schedulers[{i}] spec needs a 'name' string, got {spec!r}")
    return registry.create("schedulers", name, optimizer, **config)


class OneCycleLR(LRScheduler):
    """The 1cycle policy: warm up from ``max_lr / div_factor`` to ``max_lr``, then anneal to
    ``initial_lr / final_div_factor`` (per batch), cycling momentum the opposite way.

    Matches ``torch.optim.lr_scheduler.OneCycleLR``. With ``three_phase`` the annealing first goes back
    to the initial learning rate, then down to the minimum. When ``cycle_momentum`` is set, the
    optimizer's ``momentum`` (SGD, RMSprop) or ``betas[0]`` (Adam, AdamW) goes from ``max_momentum``
    to ``base_momentum`` and back.

    Args:
        optimizer: the optimizer.
        max_lr: peak learning rate (``> 0``), or one per param group.
        total_steps: number of steps in the cycle; or give ``epochs`` and ``steps_per_epoch``.
        pct_start: fraction of the cycle spent increasing the learning rate, in ``[0, 1]``.
        anneal_strategy: ``"cos"`` or ``"linear"``.
        cycle_momentum: cycle the momentum / beta1.
        base_momentum, max_momentum: momentum bounds in ``[0, 1)`` (or one per group).
        div_factor: ``initial_lr = max_lr / div_factor`` (``> 0``).
        final_div_factor: ``min_lr = initial_lr / final_div_factor`` (``> 0``).
        three_phase: use the three-phase schedule.

    Stepping more than ``total_steps`` times raises :class:`~swets_core.errors.ConfigError`.
    """

    name = "one_cycle_lr"
    summary = "The 1cycle policy (lr and momentum)."
    _config_keys = (
        "total_steps",
        "anneal_strategy",
        "cycle_momentum",
        "use_beta1",
        "schedule_phases",
    )

    def __init__(
        self,
        optimizer: Any,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        owner = self.name
        _check_optimizer(owner, optimizer)
        if total_steps is not None:
            self.total_steps = v.integer(owner, "total_steps", total_steps, minimum=1)
        elif epochs is not None and steps_per_epoch is not None:
            e = v.integer(owner, "epochs", epochs, minimum=1)
            s = v.integer(owner, "steps_per_epoch", steps_per_epoch, minimum=1)
            self.total_steps = e * s
        else:
            raise ConfigError(f"{owner}: give total_steps, or epochs and steps_per_epoch")
        pct = v.in_range(owner, "pct_start", pct_start, 0.0, 1.0)
        self.anneal_strategy = v.choice(
            owner, "anneal_strategy", anneal_strategy, ("cos", "linear")
        )
        self.cycle_momentum = v.boolean(owner, "cycle_momentum", cycle_momentum)
        three_phase = v.boolean(owner, "three_phase", three_phase)
        div = v.positive(owner, "div_factor", div_factor)
        final_div = v.positive(owner, "final_div_factor", final_div_factor)
        n = len(optimizer.param_groups)
        max_lrs = _per_group(owner, "max_lr", max_lr, n, v.positive)
        total = self.total_steps
        if three_phase:
            self.schedule_phases = [
                _phase(
                    float(pct * total) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"
                ),
                _phase(
                    float(2 * pct * total) - 2,
                    "max_lr",
                    "initial_lr",
                    "base_momentum",
                    "max_momentum",
                ),
                _phase(total - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self.schedule_phases = [
                _phase(
                    float(pct * total) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"
                ),
                _phase(total - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        self.use_beta1 = False
        if self.cycle_momentum:
            defaults = getattr(optimizer, "defaults", {})
            if "momentum" not in defaults and "betas" not in defaults:
                raise ConfigError(
                    f"{owner}: cycle_momentum=True needs an optimizer with momentum or betas "
                    f"({type(optimizer).__name__} has neither); pass cycle_momentum=False"
                )
            self.use_beta1 = "betas" in defaults
            unit = _momentum_check
            max_ms = _per_group(owner, "max_momentum", max_momentum, n, unit)
            base_ms = _per_group(owner, "base_momentum", base_momentum, n, unit)
        for i, group in enumerate(optimizer.param_groups):
            group["initial_lr"] = max_lrs[i] / div
            group["max_lr"] = max_lrs[i]
            group["min_lr"] = group["initial_lr"] / final_div
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (max_ms[i], *group["betas"][1:])
                else:
                    group["momentum"] = max_ms[i]
                group["max_momentum"] = max_ms[i]
                group["base_momentum"] = base_ms[i]
        super().__init__(optimizer)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def step(self, metric: float | None = None) -> None:
        """Advance one batch; raises ConfigError past ``total_steps``."""
        if self.last_epoch + 1 > self.total_steps:
            raise ConfigError(
                f"{self.name}: stepped {self.last_epoch + 1} times but total_steps is "
                f"{self.total_steps}"
            )
        super().step()

    def _compute_lrs(self) -> list[float]:
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ConfigError(
                f"{self.name}: stepped {step_num} times but total_steps is {self.total_steps}"
            )
        lrs = []
        phases = self.schedule_phases
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lr = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        mom = self._anneal(
                            group[phase["start_momentum"]], group[phase["end_momentum"]], pct
                        )
                    break
                start_step = phase["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (mom, *group["betas"][1:])
                else:
                    group["momentum"] = mom
        return lrs


def _momentum_check(owner: str, name: str, value: Any) -> float:
    return v.in_range(owner, name, value, 0.0, 1.0, high_open=True)


def _phase(end_step: float, start_lr: str, end_lr: str, start_m: str, end_m: str) -> dict[str, Any]:
    return {
        "end_step": end_step,
        "start_lr": start_lr,
        "end_lr": end_lr,
        "start_momentum": start_m,
        "end_momentum": end_m,
    }


class ReduceLROnPlateau:
    """Reduce the learning rate when a monitored metric stops improving.

    After ``patience`` epochs without an improvement, every group's lr becomes
    ``max(lr * factor, min_lr)`` (changes smaller than ``eps`` are skipped), then ``cooldown`` epochs
    are ignored. "Improvement" depends on ``mode`` and ``threshold_mode``::

        min/rel: metric < best * (1 - threshold)     min/abs: metric < best - threshold
        max/rel: metric > best * (1 + threshold)     max/abs: metric > best + threshold

    Semantics of ``torch.optim.lr_scheduler.ReduceLROnPlateau``. ``step(metric)`` requires the metric
    (a number or a one-element tensor); a NaN metric never counts as an improvement.

    Args:
        optimizer: the optimizer.
        mode: ``"min"`` or ``"max"``.
        factor: multiplier of the learning rate, in ``(0, 1)``.
        patience: epochs without improvement tolerated, an int ``>= 0``.
        threshold: significance threshold, ``>= 0``.
        threshold_mode: ``"rel"`` or ``"abs"``.
        cooldown: epochs to wait after a reduction, an int ``>= 0``.
        min_lr: lower bound of the learning rate (``>= 0``), or one per group.
        eps: minimal change of the learning rate applied, ``>= 0``.
    """

    name = "reduce_lr_on_plateau"
    summary = "Reduce the lr when a metric plateaus."
    needs_metric = True
    """``step`` takes the monitored metric: the trainer steps it per epoch with that value."""
    _keys = (
        "mode",
        "factor",
        "patience",
        "threshold",
        "threshold_mode",
        "cooldown",
        "min_lrs",
        "eps",
        "best",
        "num_bad_epochs",
        "cooldown_counter",
        "last_epoch",
        "last_lr",
    )

    def __init__(
        self,
        optimizer: Any,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        owner = self.name
        _check_optimizer(owner, optimizer)
        self.optimizer = optimizer
        self.mode = v.choice(owner, "mode", mode, ("min", "max"))
        self.factor = v.in_range(owner, "factor", factor, 0.0, 1.0, low_open=True, high_open=True)
        self.patience = v.integer(owner, "patience", patience, minimum=0)
        self.threshold = v.non_negative(owner, "threshold", threshold)
        self.threshold_mode = v.choice(owner, "threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = v.integer(owner, "cooldown", cooldown, minimum=0)
        n = len(optimizer.param_groups)
        self.min_lrs = _per_group(owner, "min_lr", min_lr, n, v.non_negative)
        self.eps = v.non_negative(owner, "eps", eps)
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self.best = self._worse
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    @property
    def _worse(self) -> float:
        return math.inf if self.mode == "min" else -math.inf

    @property
    def in_cooldown(self) -> bool:
        """True while the scheduler ignores bad epochs after a reduction."""
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return a < best * (1.0 - self.threshold)
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metric: float | None = None) -> None:
        """Record one epoch's ``metric`` and reduce the learning rates when it has plateaued."""
        if metric is None:
            raise ConfigError(f"{self.name}: step() needs the monitored metric, got None")
        current = _metric_value(self.name, metric)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            raise ConfigError(
                f"{self.name}: the optimizer has {len(groups)} param group(s) but min_lr was given "
                f"for {len(self.min_lrs)}"
            )
        for i, group in enumerate(groups):
            old = float(group["lr"])
            new = max(old * self.factor, self.min_lrs[i])
            if old - new > self.eps:
                group["lr"] = new

    def get_last_lr(self) -> list[float]:
        """The learning rates after the last step, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Configuration and counters (best value, bad epochs, cooldown) as plain data."""
        out = {k: getattr(self, k) for k in self._keys if k != "last_lr"}
        out["min_lrs"] = list(self.min_lrs)
        out["last_lr"] = list(self._last_lr)
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; raises :class:`StateDictError` on missing/unknown keys."""
        problems = _check_keys(state, self._keys)
        if problems:
            raise StateDictError(type(self).__name__, problems)
        for k in self._keys:
            if k == "last_lr":
                self._last_lr = list(state[k])
            elif k == "min_lrs":
                self.min_lrs = list(state[k])
            else:
                setattr(self, k, state[k])

    def __repr__(self) -> str:
        return (
            f"ReduceLROnPlateau(mode={self.mode!r}, factor={self.factor}, patience={self.patience}, "
            f"best={self.best}, num_bad_epochs={self.num_bad_epochs})"
        )


def _metric_value(owner: str, metric: Any) -> float:
    if isinstance(metric, numbers.Real) and not isinstance(metric, bool):
        return float(metric)
    item = getattr(metric, "item", None)
    if item is not None:
        try:
            value = item()
        except Exception as exc:
            raise ConfigError(
                f"{owner}: the metric must be a single number, got {metric!r}"
            ) from exc
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return float(value)
    raise ConfigError(f"{owner}: the metric must be a number, got {metric!r}")
