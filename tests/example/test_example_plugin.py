"""The example third-party plugin, installed from its wheel beside the swets wheels, with no index."""

from __future__ import annotations

import sys
import textwrap

import pytest

from tests.conftest import ROOT, make_venv, run

pytestmark = [pytest.mark.wheelhouse, pytest.mark.slow]

EXAMPLE = ROOT / "plugins" / "example-dlinear"

TRAIN_SAVE_LOAD = textwrap.dedent(
    """
    import numpy as np, os, tempfile
    from swets_core import GradientTape, Tensor, registry
    from swets_core.checkpoint import load_checkpoint, save_checkpoint

    rng = np.random.default_rng(0)
    t = np.arange(400, dtype=np.float32)
    series = np.sin(2 * np.pi * t / 24) + 0.01 * t
    windows = np.lib.stride_tricks.sliding_window_view(series, 48 + 8)
    x, y = Tensor(windows[:, :48, None].copy()), Tensor(windows[:, 48:].copy())
    model = registry.create(
        "models", "example_dlinear", input_size=48, horizon=8, kernel_size=9
    )
    loss_fn = registry.create("losses", "log_cosh")
    opt = registry.create("optimizers", "adam", model.parameters(), lr=0.01)
    losses = []
    for _ in range(60):
        with GradientTape() as tape:
            loss = loss_fn(model(x), y)
        opt.step(model.parameters(), tape.backward(loss))
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0], losses[::10]
    path = os.path.join(tempfile.mkdtemp(), "dlinear.swets")
    save_checkpoint(path, model)
    loaded = load_checkpoint(path).model
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    print("trained", round(losses[0], 4), "->", round(losses[-1], 4), "saved and loaded")
    """
)

BOTH_DLINEARS = textwrap.dedent(
    """
    import os
    os.environ["SWETS_STRICT_PLUGINS"] = "1"  # a name registered twice would raise at load
    from swets_core import registry
    builtin = registry.create("models", "dlinear", lookback=32, horizon=4, seed=0)
    example = registry.create("models", "example_dlinear", input_size=32, horizon=4)
    print(type(builtin).__name__, type(example).__name__)
    """
)

CONFORMANCE = textwrap.dedent(
    """
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("plugin_tests", sys.argv[1])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    names = [n for n in dir(mod) if n.startswith("test_")]
    for n in names:
        getattr(mod, n)()
    print("conformance:", len(names), "passed")
    """
)


def test_example_plugin_end_to_end(wheelhouse, tmp_path):
    wheels = tmp_path / "plugin-wheel"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            wheels,
            EXAMPLE,
        ]
    )
    py = make_venv(tmp_path / "venv")
    run(
        [
            py,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--find-links",
            wheelhouse,
            "--find-links",
            wheels,
            "swets[nn,optim,msgpack,models]",
            "swets-example-dlinear",
        ]
    )
    swets = tmp_path / "venv" / "bin" / "swets"
    plugins = run([swets, "plugins"]).stdout
    assert "swets-example-dlinear 1.0.0" in plugins and "FAILED" not in plugins
    for kind, name in [
        ("ops", "moving_average"),
        ("layers", "series_decomposition"),
        ("models", "example_dlinear"),
        ("losses", "log_cosh"),
    ]:
        listing = run([swets, "list", kind]).stdout
        assert name in listing and "[swets-example-dlinear]" in listing
    out = run([py, "-c", BOTH_DLINEARS]).stdout
    assert "DLinearModel DLinear" in out
    out = run([py, "-c", TRAIN_SAVE_LOAD]).stdout
    assert "saved and loaded" in out
    out = run([py, "-c", CONFORMANCE, EXAMPLE / "tests" / "test_plugin.py"]).stdout
    assert "conformance: 5 passed" in out
