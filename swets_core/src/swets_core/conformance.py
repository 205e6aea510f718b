"""The conformance kit: checks that plugin authors call from their own tests.

Every check raises ``AssertionError`` with a precise message when the component breaks the swets
contract, and returns nothing otherwise. Re-exported by :mod:`swets_core.testing`.

- :func:`check_registered`: a distribution registered exactly the components it declares.
- :func:`check_op`: a registered op's backward agrees with central finite differences (float64).
- :func:`check_layer`: forward runs, every parameter receives a gradient, state dicts round-trip.
- :func:`check_loss`: scalar output, gradient w.r.t. the prediction agrees with finite differences.
- :func:`check_model`: registry name and configuration rebuild the model, its state loaded into the
  rebuilt model reproduces its outputs exactly, and so does a checkpoint file when a checkpoint
  serializer is installed (``swets-serde-msgpack`` provides one).

Floating-point inputs are converted to the dtype of the component's parameters (float32 by default),
so a check written with ``numpy``'s float64 arrays runs on a float32 model.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from swets_core import registry as _registry
from swets_core.autograd import GradientTape, Tensor, apply, no_grad
from swets_core.checkpoint import load_checkpoint, save_checkpoint
from swets_core.gradcheck import gradcheck
from swets_core.hookspecs import KINDS


def check_registered(distribution: str, expected: Mapping[str, Iterable[str]]) -> None:
    """Assert that ``distribution`` provides each ``{kind: [names]}`` through the registry."""
    for kind, names in expected.items():
        assert kind in KINDS, f"unknown registry kind {kind!r}; kinds are {', '.join(KINDS)}"
        for name in names:
            assert name in _registry.names(kind), f"{kind} {name!r} is not registered"
            got = _registry.info(kind, name).distribution
            assert got == distribution, (
                f"{kind} {name!r} is provided by {got!r}, expected {distribution!r}"
            )
    failed = [p for p in _registry.plugins() if p.distribution == distribution and p.error]
    assert not failed, f"{distribution} failed to load: {failed[0].error}"


def check_op(name: str, *inputs: Any, atol: float = 1e-5, rtol: float = 1e-3, **attrs: Any) -> None:
    """Gradient-check the registered op ``name`` on float64 copies of ``inputs``."""
    op = _registry.get("ops", name)
    args = [
        Tensor(np.asarray(x, dtype=np.float64)) if np.asarray(x).dtype.kind == "f" else x
        for x in inputs
    ]
    gradcheck(lambda *xs: apply(op, *xs, **attrs), *args, atol=atol, rtol=rtol)


def _param_grads(layer: Any, run: Any, watch: Any = None) -> dict[str, Any]:
    params = dict(layer.named_parameters())
    with GradientTape() as tape:
        if watch is not None and watch.numpy().dtype.kind == "f":
            tape.watch(watch)
        out = run()
        if isinstance(out, tuple):
            out = out[0]
        loss = (out * out).sum()
    grads = tape.backward(loss)
    return {name: grads.get(p.id) for name, p in params.items()}


def _in_dtype_of(component: Any, x: Any) -> Tensor:
    """``x`` as a Tensor; floating-point data in the dtype of ``component``'s float parameters."""
    data = x._data if isinstance(x, Tensor) else np.asarray(x)
    dtypes = {p.numpy().dtype for p in component.parameters() if p.numpy().dtype.kind == "f"}
    if data.dtype.kind == "f" and len(dtypes) == 1:
        data = data.astype(dtypes.pop(), copy=False)
    return x if isinstance(x, Tensor) and data is x._data else Tensor(data)


def check_layer(layer: Any, x: Any) -> None:
    """Forward runs on ``x``, every parameter gets a finite gradient, and state dicts round-trip.

    A floating-point ``x`` is converted to the layer's parameter dtype.
    """
    x = _in_dtype_of(layer, x)
    grads = _param_grads(layer, lambda: layer(x), watch=x)
    missing = [n for n, g in grads.items() if g is None]
    assert not missing, f"{type(layer).__name__}: no gradient reached {', '.join(missing)}"
    bad = [n for n, g in grads.items() if not np.all(np.isfinite(g.numpy()))]
    assert not bad, f"{type(layer).__name__}: non-finite gradient for {', '.join(bad)}"
    layer.eval()
    with no_grad():
        before = _first(layer(x)).numpy().copy()
        state = layer.state_dict()
        for p in layer.parameters():
            p.numpy()[...] = 0
        layer.load_state_dict(state)
        after = _first(layer(x)).numpy()
    np.testing.assert_array_equal(after, before, err_msg="state_dict round trip changed outputs")


def check_loss(loss: Any, pred: Any, target: Any) -> None:
    """The loss is a scalar and its gradient w.r.t. ``pred`` matches finite differences (float64)."""
    p = Tensor(np.asarray(pred, dtype=np.float64))
    t = Tensor(np.asarray(target, dtype=np.float64))
    value = loss(p, t)
    assert value.shape == (), f"{type(loss).__name__}: expected a scalar, got shape {value.shape}"
    gradcheck(lambda a: loss(a, t), p)


def _first(out: Any) -> Tensor:
    return out[0] if isinstance(out, tuple) else out


def check_model(
    name: str, config: Mapping[str, Any], x: Any, *, checkpoint: bool | None = None
) -> None:
    """Create model ``name`` from ``config`` and check its contract.

    - ``registry_name`` equals ``name`` and ``config()`` is plain data that recreates the model;
    - every parameter receives a gradient (a model with ``teacher_forcing = True`` is called with
      ``target=``, targets of its horizon, and its first output is differentiated);
    - a model rebuilt from ``config()`` with the state dict loaded gives identical outputs;
    - a checkpoint written and read through :mod:`swets_core.checkpoint` gives identical outputs.

    Args:
        name: the model's registry name.
        config: keyword configuration for ``registry.create("models", name, **config)``.
        x: an input batch ``(batch, lookback, features)``; floating-point data is converted to the
            model's parameter dtype.
        checkpoint: the checkpoint-file round trip needs a registered checkpoint serializer
            (``swets-serde-msgpack`` provides one). None (default): run it through every installed
            serializer, when there is one; True: require one (fail when none is installed); False:
            skip it.
    """
    model = _registry.create("models", name, **config)
    assert getattr(model, "registry_name", None) == name, (
        f"model {name!r}: registry_name is {getattr(model, 'registry_name', None)!r}"
    )
    cfg = model.config()
    _assert_plain(cfg, f"model {name!r} config()")
    twin = _registry.create("models", name, **cfg)
    assert twin.config() == cfg, f"model {name!r}: config() does not round-trip through create()"
    x = _in_dtype_of(model, x)
    if getattr(model, "teacher_forcing", False):
        # trained with teacher forcing (DeepAR): the recorded pass reads the horizon's targets;
        # non-negative whole numbers suit every output distribution
        horizon = int(cfg["horizon"])
        target = np.abs(np.round(x.numpy()[:, -horizon:, 0]))
        grads = _param_grads(model, lambda: model(x, target=target))
    else:
        grads = _param_grads(model, lambda: model(x))
    missing = [n for n, g in grads.items() if g is None]
    assert not missing, f"model {name!r}: no gradient reached {', '.join(missing)}"
    model.eval()
    with no_grad():
        expected = _first(model(x)).numpy().copy()
    twin.load_state_dict(model.state_dict())
    twin.eval()
    with no_grad():
        got = _first(twin(x)).numpy()
    np.testing.assert_array_equal(
        got, expected, err_msg=f"model {name!r}: rebuilt from config() and state_dict()"
    )
    serializers = _registry.names("serializers")
    if checkpoint is None:
        checkpoint = bool(serializers)
    if not checkpoint:
        return
    assert serializers, (
        f"model {name!r}: check_model(checkpoint=True) needs a checkpoint serializer and none is "
        "installed (swets list serializers is empty); install the distribution that provides one"
    )
    for serializer in serializers:  # every installed format
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, f"{name}.swets")
            save_checkpoint(path, model, serializer=serializer)
            loaded = load_checkpoint(path).model
        loaded.eval()
        with no_grad():
            got = _first(loaded(x)).numpy()
        np.testing.assert_array_equal(
            got, expected, err_msg=f"model {name!r}: checkpoint round trip ({serializer})"
        )


def _assert_plain(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str), f"{where}: key {k!r} is not a string"
            _assert_plain(v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _assert_plain(v, f"{where}[{i}]")
    else:
        assert value is None or isinstance(value, (bool, int, float, str)), (
            f"{where}: {type(value).__name__} is not plain data"
        )


__all__ = ["check_layer", "check_loss", "check_model", "check_op", "check_registered"]
