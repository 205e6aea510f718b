"""Registry lookups, duplicates, unknown names and plugin validation, on isolated registries."""

from __future__ import annotations

import pytest

import swets_core
from swets_core.errors import (
    DuplicateComponentError,
    PluginLoadError,
    UnknownComponentError,
)
from swets_core.registry import PluginWarning, Registry


class LayersA:
    @swets_core.hookimpl
    def swets_register_layers(self, register):
        class Linear:
            """A dense layer."""

            def __init__(self, n=1):
                self.n = n

        register("linear", Linear)
        register("conv1d", lambda **cfg: ("conv", cfg), doc="A convolution.")


class LayersB:
    @swets_core.hookimpl
    def swets_register_layers(self, register):
        register("linear", object)


def _registry(*plugins):
    reg = Registry(entry_points=False)
    for i, (plugin, dist) in enumerate(plugins):
        reg.add_plugin(plugin, name=f"p{i}", distribution=dist, version="2.0")
    return reg


def test_names_get_create_info():
    reg = _registry((LayersA(), "dist-a"))
    assert reg.names("layers") == ["conv1d", "linear"]
    layer = reg.create("layers", "linear", n=3)
    assert layer.n == 3
    info = reg.info("layers", "linear")
    assert (info.distribution, info.version, info.doc) == ("dist-a", "2.0", "A dense layer.")
    assert reg.info("layers", "conv1d").doc == "A convolution."
    assert reg.names("models") == []


def test_unknown_name_lists_close_matches():
    reg = _registry((LayersA(), "dist-a"))
    with pytest.raises(
        UnknownComponentError, match=r"unknown layer 'linaer'; did you mean 'linear'"
    ):
        reg.get("layers", "linaer")
    with pytest.raises(UnknownComponentError, match="unknown kind 'layer'; did you mean 'layers'"):
        reg.names("layer")
    with pytest.raises(UnknownComponentError, match="no models are registered"):
        reg.get("models", "nbeats")


def test_duplicate_across_distributions_names_both():
    reg = _registry((LayersA(), "dist-a"), (LayersB(), "dist-b"))
    with pytest.warns(PluginWarning, match="registered twice"):
        reg.load()
    with pytest.raises(DuplicateComponentError) as err:
        reg.get("layers", "linear")
    msg = str(err.value)
    assert "dist-a" in msg and "dist-b" in msg and "'linear'" in msg
    assert reg.get("layers", "conv1d") is not None  # the rest keeps working


def test_duplicate_is_fatal_in_strict_mode(monkeypatch):
    monkeypatch.setenv("SWETS_STRICT_PLUGINS", "1")
    reg = _registry((LayersA(), "dist-a"), (LayersB(), "dist-b"))
    with pytest.raises(DuplicateComponentError, match=r"dist-a.*dist-b"):
        reg.load()


class Misspelled:
    @swets_core.hookimpl
    def swets_register_layer(self, register):  # missing "s"
        register("x", object)


class BadArgs:
    @swets_core.hookimpl
    def swets_register_models(self, register, extra):
        pass


class Raises:
    @swets_core.hookimpl
    def swets_register_losses(self, register):
        register("half", object)
        raise RuntimeError("boom in register")


@pytest.mark.parametrize(
    ("plugin", "pattern"),
    [
        (Misspelled(), "swets_register_layer"),
        (BadArgs(), "extra"),
        (Raises(), "boom in register"),
    ],
)
def test_invalid_plugins_fail_loudly_but_isolated(plugin, pattern):
    reg = _registry((LayersA(), "dist-a"), (plugin, "dist-bad"))
    with pytest.warns(PluginWarning, match=pattern):
        reg.load()
    failed = reg.failures()
    assert [f.distribution for f in failed] == ["dist-bad"]
    assert pattern in failed[0].error
    assert reg.names("layers") == ["conv1d", "linear"]
    assert reg.names("losses") == []  # nothing half-registered


def test_invalid_plugin_raises_in_strict_mode(monkeypatch):
    monkeypatch.setenv("SWETS_STRICT_PLUGINS", "1")
    reg = _registry((Misspelled(), "dist-bad"))
    with pytest.raises(PluginLoadError, match="dist-bad"):
        reg.load()


def test_ops_register_plain_functions_as_opdefs():
    class Ops:
        @swets_core.hookimpl
        def swets_register_ops(self, register):
            def double(x):
                """Twice x."""
                return x * 2, lambda g, n: (g * 2,)

            register("double", double)

    reg = _registry((Ops(), "dist-ops"))
    op = reg.get("ops", "double")
    assert isinstance(op, swets_core.OpDef)
    assert reg.info("ops", "double").doc == "Twice x."


def test_plugin_added_after_load_is_visible():
    reg = _registry((LayersA(), "dist-a"))
    reg.load()
    with pytest.warns(PluginWarning, match="dist-late"):
        reg.add_plugin(LayersB(), name="late", distribution="dist-late")
    with pytest.raises(DuplicateComponentError):
        reg.get("layers", "linear")


@pytest.mark.parametrize(
    ("kind", "word"), [("losses", "loss"), ("metrics", "metric"), ("ops", "op")]
)
def test_unknown_component_message_uses_the_singular(kind, word):
    reg = _registry((LayersA(), "dist-a"))
    with pytest.raises(UnknownComponentError, match=rf"^unknown {word} 'nope'"):
        reg.get(kind, "nope")


class _DoubleOp:
    @swets_core.hookimpl
    def swets_register_ops(self, register):
        def forward(x):
            """x doubled (a test op that shares the name of the standard ``exp``)."""
            return x * 2.0, None

        register("exp", forward)


def test_functional_namespace_follows_the_activated_registry():
    """``swets_core.ops.<name>`` and ``run_op`` look the op up per call, so a function fetched before
    ``activate`` runs the activated registry's op inside the block and the default one after it."""
    import numpy as np

    from swets_core import ops, registry, run_op

    x = np.array([0.0, 1.0], dtype=np.float64)
    exp = ops.exp  # resolved (and cached as a function) under the default registry
    np.testing.assert_allclose(exp(x).numpy(), np.exp(x))
    with registry.activate(_registry((_DoubleOp(), "dist-double"))):
        np.testing.assert_array_equal(exp(x).numpy(), [0.0, 2.0])
        np.testing.assert_array_equal(ops.exp(x).numpy(), [0.0, 2.0])
        np.testing.assert_array_equal(run_op("exp", x), [0.0, 2.0])
    np.testing.assert_allclose(exp(x).numpy(), np.exp(x))
    np.testing.assert_allclose(run_op("exp", x), np.exp(x))


def test_activate_called_plainly_switches_until_restored():
    """``registry.activate(reg)`` without ``with`` activates at once (it used to do nothing)."""
    import numpy as np

    from swets_core import registry, run_op

    before = registry.default_registry()
    x = np.array([0.0, 1.0])
    reg = _registry((_DoubleOp(), "dist-double"))
    active = registry.activate(reg)
    try:
        assert registry.default_registry() is reg
        np.testing.assert_array_equal(run_op("exp", x), [0.0, 2.0])
        with pytest.raises(UnknownComponentError, match="unknown op 'mul'"):
            swets_core.Tensor(x) * 1.0  # only the activated registry's ops run
    finally:
        active.restore()
    active.restore()  # a second restore changes nothing
    assert registry.default_registry() is before
    np.testing.assert_allclose(run_op("exp", x), np.exp(x))
    with registry.activate(reg) as got:  # the context-manager form is unchanged
        assert got is reg and registry.default_registry() is reg
        with registry.activate(before):  # and nests
            np.testing.assert_allclose(run_op("exp", x), np.exp(x))
        np.testing.assert_array_equal(run_op("exp", x), [0.0, 2.0])
    assert registry.default_registry() is before


class _NumpyErrorOp:
    @swets_core.hookimpl
    def swets_register_ops(self, register):
        def forward(x):
            """Reshapes to an impossible shape (numpy raises ValueError)."""
            return x.reshape(7), None

        register("bad_reshape", forward)


def test_run_op_reports_numpy_errors_as_op_errors():
    import numpy as np

    from swets_core import registry, run_op
    from swets_core.errors import OpError

    with registry.activate(_registry((_NumpyErrorOp(), "dist-bad"))):
        with pytest.raises(OpError, match=r"bad_reshape: .*\(inputs: \(2, 3\)\)"):
            run_op("bad_reshape", np.ones((2, 3)))
        with pytest.raises(UnknownComponentError, match="did you mean"):
            run_op("bad_reshap", np.ones(2))


class _EntryPoint:
    """What ``importlib.metadata.entry_points`` yields, for a plugin of a made-up distribution."""

    def __init__(self, name, dist, load, value=None):
        from types import SimpleNamespace

        self.name, self._load = name, load
        self.value = value or f"{dist.replace('-', '_')}.plugin"
        # a Distribution: name and version read from its metadata
        meta = {"Name": dist, "Version": "1.0"}
        self.dist = SimpleNamespace(name=dist, version="1.0", metadata=meta)

    def load(self):
        return self._load()


def _from_entry_points(monkeypatch, *eps):
    from swets_core import registry as registry_module

    monkeypatch.setattr(registry_module.md, "entry_points", lambda group: list(eps))
    return Registry()


def _exits():
    import sys

    sys.exit(3)


class ExitsWhileRegistering:
    @swets_core.hookimpl
    def swets_register_losses(self, register):
        raise SystemExit("bye")


def test_a_plugin_calling_sys_exit_on_import_is_a_recorded_failure(monkeypatch):
    reg = _from_entry_points(
        monkeypatch,
        _EntryPoint("exits", "dist-exit", _exits),
        _EntryPoint("layers", "dist-a", LayersA),
        _EntryPoint("raises", "dist-register", ExitsWhileRegistering),
    )
    with pytest.warns(PluginWarning) as caught:
        reg.load()
    assert any("dist-exit" in str(w.message) for w in caught)
    assert reg.names("layers") == ["conv1d", "linear"]
    failed = {r.distribution: r.error for r in reg.failures()}
    assert failed == {
        "dist-exit": "import failed: SystemExit: the plugin called sys.exit(3)",
        "dist-register": "swets_register_losses raised SystemExit: the plugin called sys.exit('bye')",
    }


def test_keyboard_interrupt_in_a_plugin_stays_an_interrupt(monkeypatch):
    def interrupted():
        raise KeyboardInterrupt

    reg = _from_entry_points(monkeypatch, _EntryPoint("slow", "dist-slow", interrupted))
    with pytest.raises(KeyboardInterrupt):
        reg.load()


class ModelsOfAcme:
    @swets_core.hookimpl
    def swets_register_models(self, register):
        register("acme", object, doc="Acme's model.")


class ModelsBuiltIn:
    @swets_core.hookimpl
    def swets_register_models(self, register):
        register("nbeats", object, doc="N-BEATS.")


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_two_distributions_may_use_the_same_entry_point_name(monkeypatch, order):
    eps = [
        _EntryPoint("models", "swets-models", ModelsBuiltIn),
        _EntryPoint("models", "acme-models", ModelsOfAcme),
    ]
    reg = _from_entry_points(monkeypatch, *(eps[i] for i in order))
    reg.load()  # no warning: nothing collides
    assert reg.names("models") == ["acme", "nbeats"]
    assert reg.info("models", "nbeats").distribution == "swets-models"
    assert reg.info("models", "acme").distribution == "acme-models"
    assert [(r.name, r.distribution, r.ok) for r in reg.plugins()] == [
        ("models", "acme-models", True),
        ("models", "swets-models", True),
    ]


def test_each_plugin_records_how_long_it_took_to_load(monkeypatch):
    from swets_core import registry as registry_module

    clock = iter([10.0, 12.5, 20.0, 20.25])
    monkeypatch.setattr(registry_module.time, "perf_counter", lambda: next(clock))
    reg = _from_entry_points(
        monkeypatch,
        _EntryPoint("layers", "dist-a", LayersA),
        _EntryPoint("models", "dist-m", ModelsOfAcme),
    )
    reg.load()
    assert {r.distribution: r.seconds for r in reg.plugins()} == {"dist-a": 2.5, "dist-m": 0.25}
