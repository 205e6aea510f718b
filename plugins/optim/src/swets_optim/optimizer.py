"""The optimizer base class: parameter groups, lazy per-parameter state, state dicts as plain data.

An optimizer is built from a list of parameters or a list of parameter-group dicts
(``{"params": [...], "lr": 0.01, ...}``); every hyper-parameter a group does not set comes from the
optimizer's defaults. :meth:`Optimizer.step` takes the gradient mapping a
:class:`~swets_core.GradientTape` returns and updates each parameter's array **in place**, so a
parameter's id never changes. The gradient arrays are only read: they may share storage with each other.

Subclasses implement three things:

* ``_hyper``: the hyper-parameters, each with the check that validates and normalises it (raising
  :class:`~swets_core.errors.ConfigError` naming the bad one; ``_validate.hyper(*names)`` gives the
  one check of each shared name, ``lr``, ``eps``...); ``__init__`` passes its arguments
  through :meth:`Optimizer._defaults`, and a rule tying several together goes in an override of
  ``_check_hyper``;
* the per-parameter state, as tables: ``_scalar_state`` (counters) and ``_array_state`` (arrays
  shaped like the parameter) name every entry, ``_required_state`` those every state has (created
  at 0 / zeros the first time a parameter gets a gradient), ``_state_when`` the arrays created then
  only when a hyper-parameter of the group is set (``{"max_exp_avg_sq": "amsgrad"}``); the update
  creates any other entry it needs when it first uses it;
* ``_update(group, items)``: the update for one group, ``items`` being ``(param_array, grad_array,
  state)`` triples of the parameters that received a gradient in this step.

The in-place pieces of maths the updates share are written once, in :mod:`swets_optim._inplace`.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from swets_core.autograd import Tensor, TensorId
from swets_core.errors import ConfigError, DTypeError, ShapeError, StateDictError

ParamsArg = Iterable[Tensor] | Iterable[Mapping[str, Any]]
UpdateItems = list[tuple[np.ndarray, np.ndarray, dict[str, Any]]]
"""What ``_update`` is given: ``(param_array, grad_array, state)`` of each parameter of the group
that received a gradient in the step."""
Check = Callable[[str, str, Any], Any]
"""A hyper-parameter check: ``check(owner, name, value) -> normalised value`` (see ``_validate``)."""


class Optimizer:
    """Base class of the swets optimizers (implements :class:`swets_core.protocols.Optimizer`).

    Args:
        params: the parameters to optimize (float tensors, usually :class:`~swets_core.Parameter`),
            or a list of parameter-group dicts ``{"params": [...], <hyper-parameter overrides>}``.
        defaults: the hyper-parameters of every group that does not override them.

    Attributes:
        param_groups: list of dicts, each with ``"params"`` (list of tensors) and every
            hyper-parameter. Schedulers change ``group["lr"]`` (and momentum/betas) between steps.
        defaults: the default hyper-parameters.
        state: per-parameter state keyed by the parameter's id, created lazily at its first gradient.
    """

    name: ClassVar[str] = "optimizer"
    summary: ClassVar[str] = ""
    """The one line ``swets list`` shows for the registered class."""
    _hyper: ClassVar[Mapping[str, Check]] = {}
    _scalar_state: ClassVar[tuple[str, ...]] = ()
    _array_state: ClassVar[tuple[str, ...]] = ()
    _required_state: ClassVar[tuple[str, ...]] = ()
    _state_when: ClassVar[Mapping[str, str]] = {}

    def __init__(self, params: ParamsArg, defaults: Mapping[str, Any]) -> None:
        self.defaults: dict[str, Any] = self._check_hyper(dict(defaults), "")
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        self._managed: set[int] = set()
        self._scratch: dict[tuple[np.dtype, int], np.ndarray] = {}
        if isinstance(params, Tensor):
            raise ConfigError(
                f"{self.name}: params must be a list of tensors or of parameter-group dicts, "
                "got a single Tensor (wrap it in a list)"
            )
        if hasattr(params, "parameters") and not isinstance(params, (list, tuple)):
            raise ConfigError(
                f"{self.name}: params must be a list of tensors or of parameter-group dicts, "
                f"got a {type(params).__name__}; pass model.parameters()"
            )
        try:
            groups = list(params)
        except TypeError:
            raise ConfigError(
                f"{self.name}: params must be a list of tensors or of parameter-group dicts, "
                f"got {type(params).__name__}"
            ) from None
        if not groups:
            raise ConfigError(f"{self.name}: got an empty parameter list")
        if all(isinstance(g, Mapping) for g in groups):
            for g in groups:
                self.add_param_group(g)
        elif any(isinstance(g, Mapping) for g in groups):
            raise ConfigError(
                f"{self.name}: params mixes tensors and parameter-group dicts; use one or the other"
            )
        else:
            self.add_param_group({"params": groups})

    # -- hyper-parameters -----------------------------------------------------------------------
    @classmethod
    def _defaults(cls, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The hyper-parameters among a constructor's ``locals()``, in the order of ``_hyper``."""
        return {name: arguments[name] for name in cls._hyper}

    def _check_hyper(self, hyper: dict[str, Any], where: str) -> dict[str, Any]:
        """Validate and normalise every hyper-parameter in ``hyper`` with its ``_hyper`` check."""
        owner = self._where(where)
        for name, check in self._hyper.items():
            hyper[name] = check(owner, name, hyper.get(name))
        return hyper

    def _where(self, where: str) -> str:
        return f"{self.name}{where}"

    def add_param_group(self, group: Mapping[str, Any]) -> None:
        """Add a parameter group: ``{"params": [...], <overrides>}``; the rest comes from defaults."""
        gi = len(self.param_groups)
        where = f" (param group {gi})"
        if not isinstance(group, Mapping):
            raise ConfigError(f"{self.name}{where}: a parameter group must be a dict")
        if "params" not in group:
            raise ConfigError(f"{self.name}{where}: a parameter group needs a 'params' entry")
        for key in group:
            if not isinstance(key, str):
                raise ConfigError(f"{self.name}{where}: group keys must be strings, got {key!r}")
        raw = group["params"]
        if isinstance(raw, Tensor):
            params = [raw]
        else:
            try:
                params = list(raw)
            except TypeError:
                raise ConfigError(
                    f"{self.name}{where}: 'params' must be a list of tensors, got {type(raw).__name__}"
                ) from None
        if not params:
            raise ConfigError(f"{self.name}{where}: 'params' is empty")
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise ConfigError(
                    f"{self.name}{where}: params[{i}] is a {type(p).__name__}, not a Tensor"
                )
            if p._data.dtype.kind != "f":
                raise DTypeError(
                    f"{self.name}{where}: params[{i}] has dtype {p._data.dtype}; "
                    "only float tensors can be optimized"
                )
            if p.id in seen or p.id in self._managed:
                raise ConfigError(
                    f"{self.name}{where}: params[{i}] (shape {p.shape}) appears more than once "
                    "in the optimizer's parameter groups"
                )
            seen.add(p.id)
        merged = dict(self.defaults)
        merged.update({k: v for k, v in group.items() if k != "params"})
        merged = self._check_hyper(merged, where)
        merged["params"] = params
        self._managed.update(seen)
        self.param_groups.append(merged)

    # -- stepping -------------------------------------------------------------------------------
    def step(
        self,
        params: Iterable[Tensor] | Mapping[TensorId, Tensor] | None,
        grads: Mapping[TensorId, Tensor | np.ndarray] | None = None,
    ) -> None:
        """Update the parameters in place from ``grads``.

        Args:
            params: the parameters to update (a subset of those the optimizer was built with), or
                None for all of them. ``step(grads)`` (the mapping alone) is short for
                ``step(None, grads)``.
            grads: ``{TensorId: gradient}`` as returned by :meth:`GradientTape.backward`; each
                gradient has its parameter's shape. A parameter absent from ``grads`` is skipped:
                its state (moments, step counter) does not advance.
        """
        if grads is None and isinstance(params, Mapping):
            params, grads = None, params
        if not isinstance(grads, Mapping):
            raise ConfigError(
                f"{self.name}.step: grads must be the {{TensorId: Tensor}} mapping a tape returns, "
                f"got {type(grads).__name__}"
            )
        only: set[int] | None = None
        if params is not None:
            only = set()
            for p in params:
                if not isinstance(p, Tensor):
                    raise ConfigError(
                        f"{self.name}.step: params must be tensors, got {type(p).__name__}"
                    )
                if p.id not in self._managed:
                    raise ConfigError(
                        f"{self.name}.step: a parameter of shape {p.shape} is not managed by this "
                        "optimizer (add it with add_param_group)"
                    )
                only.add(p.id)
        state = self.state
        for gi, group in enumerate(self.param_groups):
            items = []
            for pi, p in enumerate(group["params"]):
                pid = p.id
                if only is not None and pid not in only:
                    continue
                g = grads.get(pid)
                if g is None:
                    continue
                garr = g._data if isinstance(g, Tensor) else g
                parr = p._data
                if (
                    type(garr) is not np.ndarray
                    or garr.shape != parr.shape
                    or garr.dtype != parr.dtype
                ):
                    garr = self._fix_grad(g, parr, gi, pi)
                st = state.get(pid)
                if st is None:
                    st = state[pid] = self._init_state(parr, group)
                items.append((parr, garr, st))
            if items:
                self._update(group, items)

    def _fix_grad(self, g: Any, parr: np.ndarray, gi: int, pi: int) -> np.ndarray:
        where = f"{self.name}.step: gradient of param group {gi}, params[{pi}]"
        arr = g._data if isinstance(g, Tensor) else g
        if not isinstance(arr, np.ndarray):
            raise ConfigError(f"{where} is a {type(g).__name__}, expected a Tensor")
        if arr.shape != parr.shape:
            raise ShapeError(f"{where} has shape {arr.shape}, the parameter has shape {parr.shape}")
        if arr.dtype.kind != "f":
            raise DTypeError(f"{where} has dtype {arr.dtype}, expected a float dtype")
        return arr.astype(parr.dtype)

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        """A parameter's state at its first gradient: the required counters at 0, then (in
        ``_array_state`` order) zeros for each required array and each one ``_state_when`` asks
        the group for."""
        required = self._required_state
        st: dict[str, Any] = {k: 0 for k in self._scalar_state if k in required}
        when = self._state_when
        for k in self._array_state:
            if k in required or (k in when and group[when[k]]):
                st[k] = np.zeros_like(param)
        return st

    def _update(self, group: dict[str, Any], items: UpdateItems) -> None:
        raise NotImplementedError

    def _descent_grad(
        self, p: np.ndarray, g: np.ndarray, weight_decay: float, maximize: bool
    ) -> np.ndarray:
        """The gradient to descend: ``g + weight_decay * p`` (L2 penalty), negated when maximizing.

        Returns ``g`` itself when there is nothing to add, else scratch buffer 1.
        """
        if weight_decay != 0.0:
            e = self._buffer(p, 1)
            np.multiply(p, weight_decay, out=e)
            if maximize:
                np.subtract(e, g, out=e)
            else:
                np.add(g, e, out=e)
            return e
        if maximize:
            return np.negative(g, out=self._buffer(p, 1))
        return g

    def _buffer(self, like: np.ndarray, slot: int) -> np.ndarray:
        """A scratch array shaped like ``like`` (``slot`` picks one of several independent ones)."""
        key = (like.dtype, slot)
        buf = self._scratch.get(key)
        n = like.size
        if buf is None or buf.size < n:
            largest = max(p._data.size for g in self.param_groups for p in g["params"])
            buf = self._scratch[key] = np.empty(max(n, largest), dtype=like.dtype)
        return buf[:n].reshape(like.shape)

    # -- state dicts ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain data (no pickle needed).

        Returns:
            ``{"state": {"<index>": {...}}, "param_groups": [{...hyper-parameters, "params": [indices]}]}``
            where a parameter's index counts through the groups in order, as in PyTorch. Per-parameter
            states hold numbers and copies of numpy arrays; parameters that never received a gradient
            have no entry.
        """
        groups = []
        state: dict[str, Any] = {}
        index = 0
        for gi, group in enumerate(self.param_groups):
            packed: dict[str, Any] = {}
            for key, value in group.items():
                if key != "params":
                    packed[key] = _plain(
                        value, f"{self.name}.state_dict: param group {gi}, {key!r}"
                    )
            ids = []
            for p in group["params"]:
                st = self.state.get(p.id)
                if st:
                    state[str(index)] = {
                        k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in st.items()
                    }
                ids.append(index)
                index += 1
            packed["params"] = ids
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict` (arrays are copied; parameter ids are unchanged).

        The hyper-parameters of each group are replaced by the saved ones. Raises
        :class:`~swets_core.errors.StateDictError` listing every mismatch (group count, group sizes,
        unknown or missing state entries, array shapes) before changing anything.
        """
        owner = type(self).__name__
        if not isinstance(state, Mapping):
            raise StateDictError(owner, [f"expected a dict, got {type(state).__name__}"])
        problems: list[str] = []
        extra = sorted(set(map(str, state)) - {"state", "param_groups"})
        if extra:
            problems.append(f"unexpected keys {extra}")
        saved_groups = state.get("param_groups")
        saved_state = state.get("state")
        if not isinstance(saved_groups, list):
            problems.append("'param_groups' is missing or not a list")
        if not isinstance(saved_state, Mapping):
            problems.append("'state' is missing or not a dict")
        if problems:
            raise StateDictError(owner, problems)
        assert isinstance(saved_groups, list) and isinstance(saved_state, Mapping)
        if len(saved_groups) != len(self.param_groups):
            raise StateDictError(
                owner,
                [
                    f"the state has {len(saved_groups)} param group(s), "
                    f"the optimizer has {len(self.param_groups)}"
                ],
            )
        new_groups: list[dict[str, Any]] = []
        index_to_param: dict[int, tuple[Tensor, dict[str, Any]]] = {}
        for gi, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if not isinstance(saved, Mapping) or not isinstance(saved.get("params"), list):
                problems.append(f"param group {gi}: not a dict with a 'params' list")
                continue
            ids = saved["params"]
            if len(ids) != len(group["params"]):
                problems.append(
                    f"param group {gi}: the state has {len(ids)} parameter(s), "
                    f"the optimizer has {len(group['params'])}"
                )
                continue
            hyper = {k: v for k, v in saved.items() if k != "params"}
            missing = sorted(set(self.defaults) - set(hyper))
            if missing:
                problems.append(
                    f"param group {gi}: missing hyper-parameters {missing} "
                    f"(is this the state of another kind of optimizer than {self.name}?)"
                )
                continue
            try:
                hyper = self._check_hyper(hyper, f" (loaded param group {gi})")
            except ConfigError as exc:
                problems.append(str(exc))
                continue
            hyper["params"] = group["params"]
            new_groups.append(hyper)
            for idx, p in zip(ids, group["params"]):
                try:
                    index_to_param[_as_index(idx)] = (p, hyper)
                except (TypeError, ValueError):
                    problems.append(f"param group {gi}: {idx!r} is not a parameter index")
        new_state: dict[int, dict[str, Any]] = {}
        if not problems:
            for key, st in saved_state.items():
                try:
                    idx = _as_index(key)
                except (TypeError, ValueError):
                    problems.append(f"state key {key!r} is not a parameter index")
                    continue
                if idx not in index_to_param:
                    problems.append(f"state[{key!r}]: no parameter with index {idx}")
                    continue
                p, hyper = index_to_param[idx]
                loaded = self._load_param_state(f"state[{key!r}]", st, p, problems)
                if loaded is not None:
                    new_state[p.id] = loaded
        if problems:
            raise StateDictError(owner, problems)
        for group, hyper in zip(self.param_groups, new_groups):
            group.clear()
            group.update(hyper)
        self.state = new_state

    def _load_param_state(
        self, where: str, st: Any, p: Tensor, problems: list[str]
    ) -> dict[str, Any] | None:
        if not isinstance(st, Mapping):
            problems.append(f"{where}: expected a dict, got {type(st).__name__}")
            return None
        known = set(self._scalar_state) | set(self._array_state)
        out: dict[str, Any] = {}
        ok = True
        unknown = sorted(set(map(str, st)) - known)
        if unknown:
            problems.append(f"{where}: unexpected entries {unknown} for {self.name}")
            ok = False
        missing = sorted(set(self._required_state) - set(st))
        if missing:
            problems.append(f"{where}: missing entries {missing}")
            ok = False
        for k in self._scalar_state:
            if k not in st:
                continue
            v = st[k]
            if isinstance(v, np.ndarray) and v.size == 1:
                v = v.item()
            if (
                isinstance(v, bool)
                or not isinstance(v, numbers.Real)
                or not float(v).is_integer()
                or v < 0
            ):
                problems.append(f"{where}: {k!r} must be a non-negative integer, got {v!r}")
                ok = False
            else:
                out[k] = int(v)
        for k in self._array_state:
            if k not in st:
                continue
            arr = np.asarray(st[k])
            if arr.shape != p.shape:
                problems.append(
                    f"{where}: {k!r} has shape {arr.shape}, the parameter has {p.shape}"
                )
                ok = False
            elif arr.dtype.kind not in "fiu":
                problems.append(f"{where}: {k!r} has dtype {arr.dtype}, expected floats")
                ok = False
            else:
                out[k] = np.array(arr, dtype=p._data.dtype, copy=True)
        return out if ok else None

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        for gi, group in enumerate(self.param_groups):
            hyper = ", ".join(f"{k}={v!r}" for k, v in group.items() if k != "params")
            lines.append(f"  group {gi}: {len(group['params'])} tensor(s), {hyper}")
        return "\n".join([*lines, ")"])


def _as_index(key: Any) -> int:
    if isinstance(key, bool):
        raise TypeError(key)
    if isinstance(key, numbers.Integral):
        return int(key)
    if isinstance(key, str) and key.isdigit():
        return int(key)
    raise ValueError(key)


def _plain(value: Any, where: str) -> Any:
    """Group values as plain data: tuples become lists, numpy scalars Python numbers."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v, where) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v, where) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.copy()
    raise ConfigError(f"{where}: a {type(value).__name__} cannot be stored as plain data")
