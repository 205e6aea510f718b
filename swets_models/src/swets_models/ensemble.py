"""An ensemble of forecasters as one model: registered models combined by median or mean.

N-BEATS' published results are ensembles (Oreshkin et al., ICLR 2020, section 3.4): members that
differ in lookback (2H to 7H), training loss (sMAPE, MASE, MAPE) and random initialisation, their
forecasts combined by the median. :class:`EnsembleModel` is such an ensemble as a model: it is built
from plain data (``registry.create("models", "ensemble", members=[...])``), every member is built
through the registry by its name and configuration, its ``config()`` lists them, and a checkpoint
stores it like any model (parameters ``members.<i>.<member's own names>``).

The input is the window of the **longest** member lookback; member ``i`` reads its own last
``lookback_i`` steps of it. The members' forecasts ``(batch, horizon[, Q])`` are stacked on a last
axis of ``K`` members and combined per value: the mean, or the median (the middle value for odd
``K``, the mean of the two middle values for even ``K``), written with ops so that it runs on both
paths (composed once, as every model's forward, on a ``ForwardPath``: arrays through the members'
``forward_arrays`` when nothing records) and its gradient (a subgradient: the middle member's)
reaches the members.

Training an ensemble the protocol's way, each member on its own lookback with its own loss and
seed, in parallel, is ``swets_train.ensemble.fit_ensemble``; each member spec may carry the
``loss`` and ``seed`` that training uses.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from swets_core import registry
from swets_core.errors import ConfigError, ShapeError
from swets_models._base import ForecastingModel, RngLike, resolve_rng
from swets_nn.paths import ForwardPath, as_array

__all__ = ["COMBINE", "EnsembleModel", "combine_forecasts", "member_spec"]

COMBINE = ("median", "mean")
"""How the members' forecasts are combined."""

_MEMBER_KEYS = ("model", "config", "loss", "seed")


def _plain_loss(value: Any, where: str) -> Any:
    """A member's training loss: None, a registered loss name, or ``{"name": ..., "config":
    {...}}``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        unknown = sorted(set(value) - {"name", "config"})
        cfg = value.get("config", {})
        if not unknown and isinstance(cfg, Mapping):
            return {"name": value["name"], "config": dict(cfg)}
    raise ConfigError(
        f"EnsembleModel: {where}.loss must be None, a loss name ('smape') or "
        f"{{'name': ..., 'config': {{...}}}}, got {value!r}"
    )


def member_spec(
    model: str,
    config: Mapping[str, Any],
    *,
    loss: Any = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """One member of an :class:`EnsembleModel` as plain data: the registry name and configuration
    of its model, and the training ``loss`` (a registered loss name or ``{"name", "config"}``) and
    ``seed`` that ``fit_ensemble`` uses (the seed also draws the member's initial parameters)."""
    return {"model": model, "config": dict(config), "loss": loss, "seed": seed}


def _check_spec(spec: Any, i: int) -> dict[str, Any]:
    where = f"members[{i}]"
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"EnsembleModel: {where} must be a mapping with 'model' and 'config' (member_spec()), "
            f"got {type(spec).__name__}"
        )
    unknown = sorted(set(spec) - set(_MEMBER_KEYS))
    if unknown:
        raise ConfigError(
            f"EnsembleModel: {where} has unknown key(s) {unknown}; a member has "
            f"{', '.join(_MEMBER_KEYS)}"
        )
    name, cfg = spec.get("model"), spec.get("config", {})
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"EnsembleModel: {where}.model must be a registered model name, got {name!r}"
        )
    if not isinstance(cfg, Mapping):
        raise ConfigError(f"EnsembleModel: {where}.config must be a mapping, got {cfg!r}")
    for key in ("seed", "rng"):
        if key in cfg:
            raise ConfigError(
                f"EnsembleModel: {where}.config must not hold {key!r}: give the member's seed as "
                f"{where}.seed"
            )
    seed = spec.get("seed")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
    ):
        raise ConfigError(f"EnsembleModel: {where}.seed must be None or an int >= 0, got {seed!r}")
    return {
        "model": name,
        "config": dict(cfg),
        "loss": _plain_loss(spec.get("loss"), where),
        "seed": None if seed is None else int(seed),
    }


class EnsembleModel(ForecastingModel, registry_name="ensemble"):
    """Registered forecasters combined into one (registry name ``"ensemble"``).

    Args:
        members: one spec per member (:func:`member_spec`): ``{"model": registry name, "config":
            {...}, "loss": None | name | {"name", "config"}, "seed": None | int}``. Every member
            must forecast the same ``horizon`` with the same ``quantiles``, ``n_features``,
            covariate inputs (``n_future_features``, ``static_cardinalities``) and ``dtype``;
            lookbacks (and instance normalization) may differ.
        combine: ``"median"`` (default, as N-BEATS) or ``"mean"``.
        n_features, horizon, quantiles, dtype: shared by every member: given here, they are the
            configuration of members that do not set them, and checked against all of them.
        lookback: the longest member lookback (what ``config()`` stores), checked.
        rng / seed: draw the initial parameters of members without a seed of their own (each gets
            a child seed in member order).

    Shapes:
        input ``(batch, lookback)`` or ``(batch, lookback, n_features)`` with ``lookback`` the
        longest member lookback (member ``i`` reads ``x[:, -lookback_i:]``, and
        ``mask[:, -lookback_i:]`` of an input mask ``(batch, lookback)``; the members' known and
        static covariates are passed to every member as they are); output ``(batch, horizon)``
        or ``(batch, horizon, Q)``.

    Raises:
        ConfigError: no member, a malformed spec (named by index), an unknown combine, members that
            disagree on horizon, quantiles, features or dtype, or a given shared key that
            contradicts the members.
        UnknownComponentError: a member model name no plugin registered.
    """

    def __init__(
        self,
        members: Sequence[Mapping[str, Any]] = (),
        combine: str = "median",
        n_features: int | None = None,
        lookback: int | None = None,
        horizon: int | None = None,
        quantiles: list[float] | None = None,
        dtype: Any = None,
        rng: RngLike = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        owner = "EnsembleModel"
        if isinstance(members, (str, bytes, Mapping)) or not isinstance(members, Sequence):
            raise ConfigError(f"{owner}: members must be a list of member specs, got {members!r}")
        if not members:
            raise ConfigError(f"{owner}: members must name at least one model")
        if combine not in COMBINE:
            raise ConfigError(f"{owner}: combine must be 'median' or 'mean', got {combine!r}")
        self.combine = str(combine)
        specs = [_check_spec(s, i) for i, s in enumerate(members)]
        gen = resolve_rng(rng, seed, owner) if (rng is not None or seed is not None) else None
        self.members: list[Any] = []
        for i, spec in enumerate(specs):
            kw = dict(spec["config"])
            if spec["seed"] is not None:
                kw["seed"] = spec["seed"]
            elif gen is not None:
                kw["seed"] = int(gen.integers(0, 2**31 - 1))
            for key, value in (
                ("n_features", n_features),
                ("horizon", horizon),
                ("quantiles", quantiles),
                ("dtype", dtype),
            ):  # a shared key given to the ensemble is every member's unless it sets its own
                if value is not None and key not in kw:
                    kw[key] = value
            try:
                member = registry.create("models", spec["model"], **kw)
            except ConfigError as exc:
                raise ConfigError(f"{owner}: members[{i}] ({spec['model']}): {exc}") from None
            self.members.append(member)
        self._specs = [{"model": s["model"], "loss": s["loss"], "seed": s["seed"]} for s in specs]
        self._agree(n_features, lookback, horizon, quantiles, dtype)
        # the covariate inputs the members share pass through to each of them; instance
        # normalization is each member's own
        self.n_future_features = int(_member_value(self.members[0], "n_future_features") or 0)
        self.static_cardinalities = list(
            _member_value(self.members[0], "static_cardinalities") or []
        )
        self.static_covariates = None
        self.revin = None
        self._plain = not (self.n_future_features or self.static_cardinalities)

    def _agree(
        self, n_features: Any, lookback: Any, horizon: Any, quantiles: Any, dtype: Any
    ) -> None:
        """Derive the shared keys from the members; check those given against them."""
        owner = "EnsembleModel"
        derived: dict[str, Any] = {}
        for key in (
            "horizon",
            "quantiles",
            "n_features",
            "dtype",
            "n_future_features",
            "static_cardinalities",
        ):
            values = [_member_value(m, key) for m in self.members]
            if any(v != values[0] for v in values):
                listing = ", ".join(f"members[{i}]: {v!r}" for i, v in enumerate(values))
                raise ConfigError(f"{owner}: the members must share one {key}; got {listing}")
            derived[key] = values[0]
        self._lookbacks = [int(_member_value(m, "lookback")) for m in self.members]
        derived["lookback"] = max(self._lookbacks)
        given = {
            "n_features": n_features,
            "lookback": lookback,
            "horizon": horizon,
            "quantiles": None if quantiles is None else [float(q) for q in quantiles],
            "dtype": dtype,
        }
        for key, value in given.items():
            if value is None:
                continue
            mine = derived[key]
            if key == "dtype":
                value = np.dtype(value).name if not isinstance(value, str) else value
            if value != mine:
                raise ConfigError(
                    f"{owner}: {key}={value!r} contradicts the members, whose {key} is {mine!r} "
                    "(the ensemble's lookback is its longest member's)"
                )
        self.n_features = int(derived["n_features"])
        self.lookback = int(derived["lookback"])
        self.horizon = int(derived["horizon"])
        q = derived["quantiles"]
        self.quantiles = None if q is None else list(q)

    @classmethod
    def grid(
        cls,
        model: str,
        *,
        lookbacks: Sequence[int],
        losses: Sequence[Any] = (None,),
        seeds: Sequence[int] = (0,),
        combine: str = "median",
        **config: Any,
    ) -> EnsembleModel:
        """One member per (seed, lookback, loss), in that nesting order: model ``model`` with
        ``config`` and ``lookback`` set, trained with that loss and seed. The N-BEATS ensemble of
        a horizon ``H``: ``EnsembleModel.grid("nbeats", horizon=H, lookbacks=[k * H for k in
        range(2, 8)], losses=["smape", "mase", "mape"], seeds=range(10))``."""
        members = [
            member_spec(model, {**config, "lookback": int(lb)}, loss=loss, seed=int(seed))
            for seed, lb, loss in itertools.product(seeds, lookbacks, losses)
        ]
        return cls(members=members, combine=combine)

    # -- shapes --------------------------------------------------------------------------------
    def _reference_parameter(self) -> Any:
        return self.members[0]._reference_parameter()

    @property
    def lookbacks(self) -> list[int]:
        """Each member's lookback, in member order."""
        return list(self._lookbacks)

    def member_specs(self) -> list[dict[str, Any]]:
        """Each member as :func:`member_spec` data (its current ``config()``)."""
        return [
            {"model": s["model"], "config": m.config(), "loss": s["loss"], "seed": s["seed"]}
            for s, m in zip(self._specs, self.members)
        ]

    def config(self) -> dict[str, Any]:
        """``members`` (:meth:`member_specs`), ``combine`` and the shared keys ``n_features,
        lookback, horizon, quantiles, dtype``."""
        return {
            "n_features": self.n_features,
            "lookback": self.lookback,
            "horizon": self.horizon,
            "quantiles": None if self.quantiles is None else list(self.quantiles),
            "members": self.member_specs(),
            "combine": self.combine,
            "dtype": self.dtype,
        }

    # -- forward ---------------------------------------------------------------------------------
    def _check_input(self, data: np.ndarray) -> None:
        """``data`` is ``(batch, lookback)`` or ``(batch, lookback, n_features)`` of the parameters'
        dtype, ``lookback`` the longest member's."""
        shape = data.shape
        if (
            len(shape) not in (2, 3)
            or shape[1] != self.lookback
            or (len(shape) == 3 and shape[2] != self.n_features)
        ):
            raise ShapeError(
                f"EnsembleModel: expected input of shape (batch, {self.lookback}) or (batch, "
                f"{self.lookback}, {self.n_features}) = (batch, longest member lookback[, "
                f"features]), got shape {shape}"
            )
        self._check_dtype(data)

    def _compute(self, p: ForwardPath, x: Any, future: Any, static: Any, mask: Any) -> Any:
        """Every member on its own last ``lookback_i`` steps (and the same steps of the input
        mask, with the shared covariates), then the median or mean."""
        outs = []
        for member, n in zip(self.members, self._lookbacks):
            xi = x if n == self.lookback else x[:, -n:]
            if future is None and static is None and mask is None:
                outs.append(p.forward(member)(xi))
                continue
            mi = None if mask is None else (mask if n == self.lookback else mask[:, -n:])
            outs.append(p.forward(member)(xi, future, static, mi))
        return combine_forecasts(p, outs, self.combine)

    def extra_repr(self) -> str:
        names = ", ".join(
            f"{s['model']}(lookback={n})" for s, n in zip(self._specs, self._lookbacks)
        )
        return f"combine={self.combine!r}, members=[{names}]"


def _member_value(member: Any, key: str) -> Any:
    if key == "dtype":
        return member.dtype
    value = getattr(member, key, None)
    if value is None and key != "quantiles":
        value = member.config().get(key)
    if key == "static_cardinalities" and value is not None:
        value = list(value)
    return value


def combine_forecasts(p: ForwardPath, outs: Sequence[Any], how: str = "median") -> Any:
    """The median or mean of ``K`` forecasts of one shape, per value, on the path ``p`` (arrays, or
    Tensors recorded when a tape is active): stacked on a last axis ``(..., K)``, then the mean over
    it, or the mean of the middle one (odd K) or two (even K) values of each row sorted (ties keep
    member order)."""
    if len(outs) == 1:
        return outs[0]
    stacked = p.op("stack", *outs, axis=-1)
    if how == "mean":
        return p.op("mean", stacked, axis=-1)
    k = len(outs)
    order = np.argsort(as_array(stacked), axis=-1, kind="stable")
    middle = np.ascontiguousarray(order[..., (k - 1) // 2 : k // 2 + 1])
    return p.op("mean", p.op("gather", stacked, middle, axis=-1), axis=-1)
