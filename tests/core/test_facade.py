"""The ``swets`` facade reaches registered components by registry, class or CamelCase names, and
behaves like any Python object under the attribute protocol (hasattr, getattr, dir, copy, mocks)."""

from __future__ import annotations

import copy
import pickle
from unittest import mock

import pytest

import swets
import swets_core
from swets_core.errors import UnknownAttributeError, UnknownComponentError
from swets_core.registry import Registry, activate


class SMAPELoss:
    """A loss class registered under a name its class name does not spell."""


class MeanError:
    """A metric class; the registry holds an instance."""

    def __call__(self, y_true, y_pred):
        return 0.0


METRIC = MeanError()


def clip_everything(grads, limit):
    """A function for hand-written training loops."""
    return grads


class Plugin:
    @swets_core.hookimpl
    def swets_register_layers(self, register):
        register("leaky_relu", "LR")
        register("multihead_attention", "MHA")
        register("linear", "LIN")

    @swets_core.hookimpl
    def swets_register_losses(self, register):
        register("smape", SMAPELoss)

    @swets_core.hookimpl
    def swets_register_metrics(self, register):
        register("me", METRIC)

    @swets_core.hookimpl
    def swets_register_functions(self, register):
        register("clip_everything", clip_everything)


@pytest.fixture
def reg():
    r = Registry(entry_points=False)
    r.add_plugin(Plugin(), name="plugin")
    with activate(r):
        yield r


@pytest.mark.parametrize(
    ("attr", "expected"),
    [("linear", "LIN"), ("Linear", "LIN"), ("LeakyReLU", "LR"), ("MultiheadAttention", "MHA")],
)
def test_names_resolve(reg, attr, expected):
    assert getattr(swets.layers, attr) == expected


def test_class_names_resolve_and_are_listed(reg):
    assert swets.losses.SMAPELoss is SMAPELoss
    assert swets.losses.smape is SMAPELoss
    assert {"SMAPELoss", "smape", "names", "get", "create"} <= set(dir(swets.losses))
    # a metric is registered as an instance: its name gives it, its class name gives the class
    assert swets.metrics.me is METRIC and swets.metrics.MeanError is MeanError
    assert "MeanError" in dir(swets.metrics)


def test_unknown_is_an_attribute_error_with_a_suggestion(reg):
    with pytest.raises(UnknownAttributeError, match="did you mean 'linear'") as info:
        swets.layers.linar
    assert isinstance(info.value, AttributeError) and isinstance(info.value, UnknownComponentError)
    with pytest.raises(AttributeError, match="did you mean 'SMAPELoss'"):
        swets.losses.SMAPELos


def test_attribute_protocol_works_on_the_namespaces(reg):
    assert not hasattr(swets.losses, "nope") and hasattr(swets.losses, "SMAPELoss")
    assert getattr(swets.layers, "nope", None) is None
    assert not hasattr(swets.ops, "no_such_op")
    for ns in (swets.layers, swets.losses, swets.metrics):
        assert copy.copy(ns).names() == ns.names()
        assert copy.deepcopy(ns).names() == ns.names()
        assert pickle.loads(pickle.dumps(ns)).names() == ns.names()
    spec = mock.create_autospec(swets.losses)
    assert hasattr(spec, "SMAPELoss") and not hasattr(spec, "nope")


def test_registered_functions_are_reachable_from_the_top(reg):
    assert swets.clip_everything is clip_everything
    assert swets.functions.clip_everything is clip_everything
    assert "clip_everything" in dir(swets)
    assert not hasattr(swets, "clip_everythin")
    with pytest.raises(AttributeError, match="did you mean 'clip_everything'"):
        swets.clip_everythin
    # looked up under the wrong kind: the error says where it is
    with pytest.raises(AttributeError, match=r"registered as functions: swets\.clip_everything"):
        swets.optimizers.clip_everything


def test_core_names_are_reexported():
    assert swets.Tensor is swets_core.Tensor and swets.GradientTape is swets_core.GradientTape
    from swets_core.checkpoint import load_checkpoint, save_checkpoint

    assert swets.save_checkpoint is save_checkpoint and swets.load_checkpoint is load_checkpoint


def test_a_hand_written_loop_needs_only_the_facade():
    import numpy as np

    rng = np.random.default_rng(0)
    x = swets.Tensor(rng.standard_normal((16, 3)).astype(np.float32))
    y = swets.Tensor(rng.standard_normal((16, 1)).astype(np.float32))
    layer, loss_fn = swets.layers.Linear(3, 1, rng=0), swets.losses.MSELoss()
    opt = swets.optimizers.SGD(layer.parameters(), lr=0.1)
    sched = swets.schedulers.StepLR(opt, step_size=1, gamma=0.5)
    with swets.GradientTape() as tape:
        loss = loss_fn(layer(x), y)
    grads, norm = swets.clip_grad_norm(tape.backward(loss), max_norm=1e-3)
    assert norm > 1e-3 and swets.grad_norm(grads) == pytest.approx(1e-3, rel=1e-3)
    grads = swets.clip_grad_value(grads, 1e-4)
    before = layer.weight.numpy().copy()
    opt.step(layer.parameters(), grads)
    sched.step()
    # every step is at most lr * clip_value = 1e-5, up to float32 rounding of the weights
    ulp = float(np.spacing(np.abs(before).max()))
    assert np.abs(layer.weight.numpy() - before).max() <= 1e-5 + 2 * ulp
    with swets.no_grad():
        assert layer(x).shape == (16, 1)


def test_every_registry_kind_has_a_namespace():
    from swets_core.hookspecs import KINDS

    for kind in KINDS:
        namespace = getattr(swets, kind)
        if kind == "ops":  # the functional namespace, swets_core.ops
            assert namespace is swets_core.ops
            continue
        assert repr(namespace).startswith(f"<swets.{kind}:")
        assert set(namespace.names()) <= set(dir(namespace))
