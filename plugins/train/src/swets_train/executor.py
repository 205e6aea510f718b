"""Where a training step's gradients come from: the executor seam of :meth:`Trainer.fit`.

:meth:`~swets_train.Trainer.fit` is the one training loop. For each batch it asks its executor for
the batch's mean loss and the gradient of that loss for the model's parameters, and does everything
else itself: callbacks, gradient clipping, the optimizer and scheduler steps, validation, early
stopping, the training state and checkpoints. An executor decides only where the forward and backward
passes run and how their gradients are combined:

* :class:`LocalExecutor` (the default, registered as ``"local"``): one forward and backward pass of the
  whole batch on the trainer's model, in this process (:func:`batch_gradients`).
* ``swets_dask.DataParallel`` (registered as ``"dask"`` by swets-dask): replicas of the model on Dask
  workers, one shard of each batch per replica, their gradients averaged weighted by shard size.

The protocol (:class:`LocalExecutor` is a complete example):

``start(trainer)``
    once, before the first batch, after the seed and a resumed state have been applied.
``gradients(trainer, batch, x, y) -> (loss, grads)``
    ``batch`` as the training data yielded it, ``x`` and ``y`` its inputs and targets as Tensors;
    the batch's other model inputs (known-future and static covariates, an input mask) are
    :func:`model_inputs` and its targets' mask :func:`target_mask`, which :func:`batch_gradients`
    takes. Returns the mean loss over the batch (a float) and ``{TensorId: Tensor}``: the gradient
    of that loss for the parameters of ``trainer.model`` (a parameter without influence is absent).
``finish(trainer)``
    once, after the last batch of a run that ends without an exception, before the callbacks'
    ``on_fit_end`` (so early stopping restores its best weights after it).
``close()``
    always, last, also when training raised.
``metadata() -> dict``
    plain data describing where training ran: :func:`swets_train.jobs.run_job` records it in the
    checkpoint's metadata and in ``JobResult.execution`` (``{}`` here).

An executor whose workers build their own copy of a job has one more method, ``for_job(spec,
data=None) -> executor``: :func:`~swets_train.jobs.run_job` calls it with the job's resolved
specification (plain data) and its ``data=`` argument before training.

Executors are a registry kind (``executors``, filled by the ``swets_register_executors`` hook); the
registered factory takes the executor's options as keywords (``registry.create("executors", "dask",
address=...)``), and ``fit(..., executor="dask")`` creates one with its defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from swets_core import GradientTape, Tensor
from swets_core.errors import ConfigError, DataValidationError, ShapeError

__all__ = [
    "LocalExecutor",
    "batch_gradients",
    "call_model",
    "check_executor",
    "loss_keywords",
    "loss_value",
    "model_inputs",
    "target_mask",
    "unpack_batch",
    "with_target",
]

_METHODS = ("start", "gradients", "finish", "close")

# a batch attribute (or mapping key) -> the model's keyword input it is
_INPUTS = (("x_future", "future"), ("future", "future"), ("static", "static"))
_INPUTS += (("x_mask", "mask"), ("mask", "mask"))


def unpack_batch(batch: Any) -> tuple[Tensor, Tensor]:
    """``(x, y)`` as Tensors from a batch: a ``swets_timeseries.Batch`` (``x_past`` and ``y``), an
    ``(x, y)`` pair, a mapping with ``"x"`` and ``"y"``, or an object with ``x`` and ``y``
    attributes (a ``swets_timeseries.PanelBatch``). The model's other inputs are
    :func:`model_inputs`, the targets' mask :func:`target_mask`.

    Raises:
        DataValidationError: any other batch.
    """
    if hasattr(batch, "x_past") and hasattr(batch, "y"):  # swets_timeseries.Batch
        x, y = batch.x_past, batch.y
    elif isinstance(batch, (tuple, list)):
        if len(batch) != 2:
            raise DataValidationError(
                f"a training batch must be (x, y); got a {type(batch).__name__} of {len(batch)} items"
            )
        x, y = batch
    elif isinstance(batch, Mapping):
        if "x" not in batch or "y" not in batch:
            raise DataValidationError(
                f"a training batch mapping needs keys 'x' and 'y'; got {sorted(map(str, batch))}"
            )
        x, y = batch["x"], batch["y"]
    elif hasattr(batch, "x") and hasattr(batch, "y"):
        x, y = batch.x, batch.y
    else:
        raise DataValidationError(
            f"a training batch must be (x, y), a mapping with 'x' and 'y', or an object with x and y "
            f"attributes; got {type(batch).__name__}"
        )
    return _as_tensor(x), _as_tensor(y)


def model_inputs(batch: Any) -> dict[str, Tensor]:
    """The model's keyword inputs a batch holds, as Tensors: ``future`` (known-future covariates
    over the horizon, a batch's ``x_future``), ``static`` (static covariates) and ``mask`` (1 for
    observed input positions, a batch's ``x_mask``), from the attributes or mapping keys of those
    names that are not None. ``{}`` for a plain ``(x, y)`` pair: the model is called as ``model(x)``.
    """
    if isinstance(batch, (tuple, list)):
        return {}
    get = batch.get if isinstance(batch, Mapping) else lambda k: getattr(batch, k, None)
    out: dict[str, Tensor] = {}
    for attr, name in _INPUTS:
        value = get(attr)
        if value is not None and name not in out:
            out[name] = _as_tensor(value)
    return out


def target_mask(batch: Any) -> np.ndarray | None:
    """The batch's ``y_mask`` (1 where the target is observed; a mapping's ``"y_mask"``) as a
    bool array the loss takes as ``mask=``, or None (every target observed)."""
    if isinstance(batch, (tuple, list)):
        return None
    value = batch.get("y_mask") if isinstance(batch, Mapping) else getattr(batch, "y_mask", None)
    if value is None:
        return None
    arr = np.asarray(value._data if isinstance(value, Tensor) else value)
    return arr if arr.dtype == bool else arr != 0


def _as_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value))


def call_model(
    model: Any, x: Any, inputs: Mapping[str, Any] | None = None, *, arrays: bool = False
) -> Any:
    """``model(x, **inputs)``, or with ``arrays`` its array forward ``model.forward_arrays(x,
    **inputs)`` (numpy arrays in and out, nothing recorded); a model that does not take one of
    the inputs raises a ConfigError naming the model and the input (the keyword contract:
    ``future``, ``static``, ``mask``)."""
    call = model.forward_arrays if arrays else model
    if not inputs:
        return call(x)
    try:
        return call(x, **inputs)
    except TypeError as exc:
        unexpected = [k for k in inputs if f"'{k}'" in str(exc)]
        if "unexpected keyword" not in str(exc) or not unexpected:
            raise
        name = getattr(model, "registry_name", None) or type(model).__name__
        raise ConfigError(
            f"model {name!r} takes no {unexpected[0]!r} input, but the batch holds one (a model "
            f"declares the covariates it uses: supports_past_covariates, "
            f"supports_future_covariates, supports_static_covariates)"
        ) from None


def loss_value(loss_t: Any, where: str) -> float:
    """The value of a loss that must be a scalar Tensor.

    Raises:
        ShapeError: anything else (``where`` names the caller: ``fit``, ``validate``).
    """
    if not isinstance(loss_t, Tensor) or loss_t.size != 1:
        shape = getattr(loss_t, "shape", type(loss_t).__name__)
        raise ShapeError(
            f"{where}: the loss must return a scalar Tensor, got {shape}; use reduction='mean'"
        )
    return float(loss_t._data)


def with_target(model: Any, inputs: Mapping[str, Any] | None, y: Tensor) -> dict[str, Any]:
    """The model's keyword inputs, with ``target=y`` for a model trained with teacher forcing
    (``teacher_forcing = True``, DeepAR: it reads the horizon's true values as lagged inputs)."""
    out = dict(inputs or {})
    if getattr(model, "teacher_forcing", False):
        out["target"] = y
    return out


def loss_keywords(loss: Any, batch: Any) -> dict[str, Any]:
    """The keyword arguments beside ``mask`` a batch gives its loss (``{}`` for most batches):
    every name the loss lists in its ``call_keys`` that the batch has as a non-None attribute
    (``scale``, a ``swets_timeseries.PanelLoader`` batch's per-window MASE scale, for the MASE
    loss). The targets' mask is :func:`target_mask`."""
    keys = getattr(loss, "call_keys", ())
    if not keys or isinstance(batch, (tuple, list)):
        return {}
    get = batch.get if isinstance(batch, Mapping) else lambda k: getattr(batch, k, None)
    return {key: value for key in keys if (value := get(key)) is not None}


def batch_loss(
    loss: Any,
    pred: Any,
    y: Tensor,
    mask: np.ndarray | None,
    keywords: Mapping[str, Any] | None = None,
) -> Any:
    """``loss(pred, y)``, with ``mask=mask`` when the targets have a mask and the batch's
    :func:`loss_keywords`."""
    kwargs = dict(keywords or {})
    if mask is not None:
        kwargs["mask"] = mask
    return loss(pred, y, **kwargs) if kwargs else loss(pred, y)


def batch_gradients(
    model: Any,
    loss: Any,
    x: Tensor,
    y: Tensor,
    inputs: Mapping[str, Any] | None = None,
    mask: np.ndarray | None = None,
    keywords: Mapping[str, Any] | None = None,
) -> tuple[float, dict[int, Tensor]]:
    """One forward and backward pass: ``(loss value, {TensorId: gradient})`` of
    ``loss(model(x, **inputs), y[, mask=mask], **keywords)`` for the model's parameters (and any
    other tracked leaf); ``inputs`` are the batch's :func:`model_inputs`, ``mask`` its
    :func:`target_mask`, ``keywords`` its :func:`loss_keywords`; a model with ``teacher_forcing``
    also gets ``target=y`` (:func:`with_target`).

    The single definition of a training step's gradients; every executor computes them with it.
    """
    with GradientTape() as tape:
        pred = call_model(model, x, with_target(model, inputs, y))
        loss_t = batch_loss(loss, pred, y, mask, keywords)
    value = loss_value(loss_t, "fit")
    return value, tape.backward(loss_t)


class LocalExecutor:
    """Gradients of the whole batch on the trainer's own model, in this process (the default)."""

    def start(self, trainer: Any) -> None:
        """Nothing to set up."""

    def gradients(
        self, trainer: Any, batch: Any, x: Tensor, y: Tensor
    ) -> tuple[float, dict[int, Tensor]]:
        """:func:`batch_gradients` of ``trainer.model`` and ``trainer.loss`` on ``(x, y)`` and
        the batch's other model inputs, target mask and loss keywords."""
        loss = trainer.loss
        return batch_gradients(
            trainer.model,
            loss,
            x,
            y,
            model_inputs(batch),
            target_mask(batch),
            loss_keywords(loss, batch),
        )

    def finish(self, trainer: Any) -> None:
        """Nothing to check."""

    def close(self) -> None:
        """Nothing to release."""

    def metadata(self) -> dict[str, Any]:
        """``{}``: a local run records nothing beyond the training state."""
        return {}

    def __repr__(self) -> str:
        return "LocalExecutor()"


def check_executor(executor: Any, where: str = "fit") -> Any:
    """``executor``, a :class:`LocalExecutor` for None, or the registered executor of that name
    for a string (``"local"``, ``"dask"``) created with its default options.

    Raises:
        ConfigError: an object lacking one of ``start``, ``gradients``, ``finish``, ``close``.
        UnknownComponentError: a name no installed plugin registered.
    """
    if executor is None:
        return LocalExecutor()
    if isinstance(executor, str):
        from swets_core import registry

        executor = registry.create("executors", executor)
    missing = [m for m in _METHODS if not callable(getattr(executor, m, None))]
    if missing:
        raise ConfigError(
            f"{where}: executor {type(executor).__name__} has no {', '.join(missing)}() (an executor "
            "has start, gradients, finish and close; see swets_train.executor)"
        )
    return executor
