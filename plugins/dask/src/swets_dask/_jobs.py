"""The bridge to ``swets_train.jobs``: a job specification in, ready training pieces out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from swets_core.errors import ConfigError

__all__ = ["Setup", "build_setup", "normalize_spec"]


def normalize_spec(spec: Any) -> dict[str, Any]:
    """Validate a job specification (a ``JobSpec`` or its plain data) and return its plain data.

    Raises:
        ConfigError: from :meth:`swets_train.jobs.JobSpec.from_dict`, naming the section and key.
    """
    from swets_train.jobs import JobSpec

    if not isinstance(spec, JobSpec):
        if not isinstance(spec, Mapping):
            raise ConfigError(
                f"a job specification must be a JobSpec or a mapping of sections, got "
                f"{type(spec).__name__}"
            )
        spec = JobSpec.from_dict(spec)
    return spec.to_dict()


def _is_plateau(scheduler: Any) -> bool:
    from swets_optim import ReduceLROnPlateau

    return isinstance(scheduler, ReduceLROnPlateau) or bool(
        getattr(scheduler, "needs_metric", False)
    )


def _has_quantiles(model: Any) -> bool:
    config = model.config() if callable(getattr(model, "config", None)) else {}
    return config.get("quantiles") is not None


class Setup:
    """A prepared job plus the training options ``run_job`` would pass to ``fit``.

    Attributes:
        prepared: the :class:`swets_train.jobs.Prepared` (data, splits, scaler, loaders, model,
            loss, optimizer, scheduler, season length).
        model, loss, optimizer, scheduler, train, val, scaler: shortcuts into ``prepared``.
        epochs, max_steps, clip_grad_norm, scheduler_interval, seed, patience: from ``[training]``.
        metrics: the validation metrics of the History (``("mae",)``, none for a quantile model).
        metric_context: their context (empty); monitor: what a plateau scheduler follows.
        plateau: the scheduler follows an epoch metric (ReduceLROnPlateau).
        spec: the resolved specification as plain data.
        components: ``(kind, name)`` pairs recorded in checkpoints.
    """

    __slots__ = (
        "clip_grad_norm",
        "components",
        "epochs",
        "loss",
        "max_steps",
        "metric_context",
        "metrics",
        "model",
        "monitor",
        "optimizer",
        "patience",
        "plateau",
        "prepared",
        "scaler",
        "scheduler",
        "scheduler_interval",
        "seed",
        "spec",
        "train",
        "val",
    )

    def __init__(self, prepared: Any) -> None:
        p = prepared
        t = p.spec.training
        self.prepared = p
        self.model, self.loss, self.optimizer = p.model, p.loss, p.optimizer
        self.scheduler, self.train, self.val, self.scaler = p.scheduler, p.train, p.val, p.scaler
        self.epochs, self.max_steps = t.epochs, t.max_steps
        self.clip_grad_norm = t.clip_grad_norm
        self.scheduler_interval = t.scheduler_interval
        self.seed = t.seed
        self.patience = t.patience
        self.metrics: tuple[str, ...] = () if _has_quantiles(p.model) else ("mae",)
        self.metric_context: dict[str, Any] = {}
        self.monitor = "val_loss" if p.val is not None else "loss"
        self.plateau = p.scheduler is not None and _is_plateau(p.scheduler)
        if self.plateau and self.scheduler_interval == "step":
            raise ConfigError(
                "training.scheduler_interval: a plateau scheduler follows an epoch metric; use "
                "'epoch'"
            )
        self.spec = p.spec.to_dict()
        self.components = [
            ("optimizers", t.optimizer),
            ("schedulers", t.scheduler),
            ("losses", t.loss),
        ]


def build_setup(spec: Any) -> Setup:
    """:func:`swets_train.jobs.prepare` the job (deterministic for its seed) into a :class:`Setup`."""
    from swets_train.jobs import prepare

    return Setup(prepare(spec))
