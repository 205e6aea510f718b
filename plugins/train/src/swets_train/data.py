"""From a series to training loaders in one call: :func:`prepare`, and scalers from checkpoints.

:func:`prepare` does the usual, leakage-free sequence: chronological train / validation / test
splits of the windows, a scaler fitted on the training rows only, the data scaled with it, a shuffled
training :class:`~swets_timeseries.DataLoader` (explicit seed) and an ordered validation loader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from swets_core.errors import CheckpointError, ConfigError

__all__ = ["Prepared", "prepare", "scaler_from_state"]

_SCALERS = ("standard", "minmax", "robust")


def _scaler_classes() -> dict[str, Any]:
    from swets_timeseries import MinMaxScaler, RobustScaler, StandardScaler

    return {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}


class Prepared:
    """What :func:`prepare` returns.

    Attributes:
        train: the shuffled training DataLoader (scaled windows).
        val: the validation DataLoader, or None.
        test: the scaled test WindowDataset, or None.
        splits: the splits of the unscaled windows (``splits.train.rows`` are the training rows).
        scaler: the scaler fitted on the training rows, or None.
        n_features: F, the number of input features of each window.
        lookback, horizon: the window geometry.
    """

    __slots__ = ("horizon", "lookback", "n_features", "scaler", "splits", "test", "train", "val")

    def __init__(self, train, val, test, splits, scaler, n_features, lookback, horizon) -> None:
        self.train, self.val, self.test, self.splits = train, val, test, splits
        self.scaler, self.n_features = scaler, n_features
        self.lookback, self.horizon = lookback, horizon

    def __repr__(self) -> str:
        val = "none" if self.val is None else f"{len(self.val.dataset)} windows"
        test = "none" if self.test is None else f"{len(self.test)} windows"
        return (
            f"Prepared(train={len(self.train.dataset)} windows in {len(self.train)} batches, "
            f"val={val}, test={test}, n_features={self.n_features}, scaler={self.scaler!r})"
        )


def prepare(
    data: Any,
    lookback: int,
    horizon: int,
    *,
    val: Any = 0.15,
    test: Any = 0.0,
    gap: int = 0,
    batch_size: int = 64,
    seed: int = 0,
    scaler: Any = "standard",
    dtype: str = "float32",
    target: str | Sequence[str] | None = None,
    covariates: Sequence[str] | None = None,
    val_batch_size: int = 512,
    drop_last: bool = False,
    prefetch: int = 0,
) -> Prepared:
    """Split, scale (fitted on the training rows only) and load a series for training.

    Args:
        data: TimeSeries / SeriesCollection / OHLCV in the original scale.
        lookback, horizon: window geometry.
        val, test, gap: the sizes of the validation and test parts (fractions, row counts or start
            timestamps) and the rows left out between parts, as ``WindowDataset.split``.
        batch_size, seed, drop_last, prefetch: the training loader (shuffled with ``seed``).
        scaler: ``"standard"``, ``"minmax"``, ``"robust"``, None (no scaling), or a scaler object
            (fitted on the training rows here unless it is already fitted).
        dtype: float32 (default) or float64 batches.
        target, covariates: column roles (default: the data's).
        val_batch_size: windows per validation batch.
    """
    from swets_timeseries import DataLoader, WindowDataset
    from swets_timeseries.series import as_collection

    coll = as_collection(data)
    raw = WindowDataset(coll, lookback, horizon, target=target, covariates=covariates, dtype=dtype)
    splits = raw.split(val=val, test=test, gap=gap)
    if isinstance(scaler, str):
        classes = _scaler_classes()
        if scaler not in classes:
            raise ConfigError(
                f"prepare: scaler must be one of {', '.join(_SCALERS)} or None, got {scaler!r}"
            )
        scaler = classes[scaler]()
    if scaler is not None:
        if not getattr(scaler, "fitted", False):
            scaler.fit(coll, rows=splits.train.rows)
        coll = scaler.transform(coll)
        parts = WindowDataset(
            coll, lookback, horizon, target=target, covariates=covariates, dtype=dtype
        ).split(val=val, test=test, gap=gap)
    else:
        parts = splits
    train = DataLoader(
        parts.train,
        batch_size,
        shuffle=True,
        seed=seed,
        dtype=dtype,
        drop_last=drop_last,
        prefetch=prefetch,
    )
    val_loader = None if parts.val is None else DataLoader(parts.val, val_batch_size, dtype=dtype)
    return Prepared(
        train, val_loader, parts.test, splits, scaler, parts.train.n_features, lookback, horizon
    )


def scaler_from_state(state: Mapping[str, Any] | None) -> Any:
    """Rebuild a swets-timeseries scaler from its ``state_dict()`` (as stored by
    ``fit(..., scaler=...)`` under ``training_state["scaler"]``); None gives None.

    Raises:
        CheckpointError: an unknown scaler kind or a state that does not load.
    """
    if state is None:
        return None
    if not isinstance(state, Mapping) or "kind" not in state:
        raise CheckpointError(f"a scaler state must be a mapping with a 'kind', got {state!r:.80}")
    classes = _scaler_classes()
    cls = classes.get(state["kind"])
    if cls is None:
        raise CheckpointError(f"unknown scaler kind {state['kind']!r}; known: {', '.join(classes)}")
    config = state.get("config") or {}
    try:
        scaler = cls(**config)
        scaler.load_state_dict(state)
    except Exception as exc:
        raise CheckpointError(f"cannot rebuild the {state['kind']} scaler: {exc}") from exc
    return scaler
