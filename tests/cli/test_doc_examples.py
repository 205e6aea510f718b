"""Every code block of docs/plugins.md and docs/training.md runs, as written.

docs/plugins.md builds a plugin from blocks whose first line names a file: those blocks together
must make a plugin that registers, passes its own tests (the conformance kit) in process, and
installs from wheels into a fresh virtual environment holding only what the guide says to install,
where its tests pass again. The other Python blocks run in order with that plugin active.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import io
import os
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from swets_core.registry import Registry, activate
from tests.cli.doc_blocks import blocks, files, no_fresh_entropy
from tests.conftest import ROOT, make_venv, run

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PLUGINS = ROOT / "docs" / "plugins.md"
LANGS = {"python", "toml", "bash", "text"}


def _run_tests(module: types.ModuleType) -> list[str]:
    ran = []
    for name in sorted(n for n in dir(module) if n.startswith("test_")):
        getattr(module, name)()
        ran.append(name)
    return ran


def _module(name: str, code: str, filename: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = filename
    exec(compile(code, filename, "exec"), module.__dict__)
    return module


def test_every_block_of_the_plugin_guide_has_a_language():
    found = blocks(PLUGINS)
    assert len(found) >= 12
    for b in found:
        assert b.lang in LANGS, f"docs/plugins.md line {b.line}: block language {b.lang!r}"
        if b.lang == "toml":
            assert b.file == "pyproject.toml", f"docs/plugins.md line {b.line}: which file?"


def test_the_guide_pyproject_declares_the_plugin():
    project = tomllib.loads(files(blocks(PLUGINS))["pyproject.toml"])
    assert project["project"]["name"] == "swets-my-plugin"
    assert project["project"]["entry-points"]["swets"] == {"my_plugin": "swets_my_plugin.plugin"}
    deps = " ".join(project["project"]["dependencies"])
    for dist in ("swets-core", "swets-ops", "swets-nn"):
        assert dist in deps
    assert any(
        "swets-serde-msgpack" in d for d in project["project"]["optional-dependencies"]["test"]
    )


def test_the_guide_plugin_registers_and_passes_its_tests_in_process(tmp_path, monkeypatch):
    found = blocks(PLUGINS)
    made = files(found)
    assert set(made) == {
        "pyproject.toml",
        "src/swets_my_plugin/__init__.py",
        "src/swets_my_plugin/plugin.py",
        "tests/test_plugin.py",
        "tests/test_wrong_backward.py",
    }
    monkeypatch.setenv("SWETS_STRICT_PLUGINS", "1")
    monkeypatch.chdir(tmp_path)
    with no_fresh_entropy():
        plugin = _module(
            "swets_my_plugin.plugin", made["src/swets_my_plugin/plugin.py"], "plugin.py"
        )
        world = Registry()
        world.add_plugin(plugin, name="my_plugin", distribution="swets-my-plugin", version="1.0.0")
        with activate(world):
            for path in ("tests/test_plugin.py", "tests/test_wrong_backward.py"):
                ran = _run_tests(_module(Path(path).stem, made[path], path))
                assert ran, path
            usage = [b for b in found if b.lang == "python" and b.file is None]
            assert len(usage) == 3
            spaces = []
            for b in usage:
                spaces.append({"__name__": "__doc_example__"})
                exec(compile(b.code, f"docs/plugins.md:{b.line}", "exec"), spaces[-1])
        assert world.info("models", "softsign_mlp").distribution == "swets-my-plugin"
    # what the blocks' comments promise
    op, loss, _job = spaces
    np.testing.assert_allclose(op["y"].numpy(), [-2 / 3, 0, 3 / 4], rtol=1e-15)
    np.testing.assert_allclose(op["grad"].numpy(), [1 / 9, 1, 1 / 16], rtol=1e-15)
    d = np.array([0.5, 0.5])
    np.testing.assert_allclose(loss["value"].item(), np.mean(np.log(np.cosh(d))), rtol=1e-12)


def test_the_install_commands_are_the_ones_the_wheel_test_runs():
    (bash,) = [b for b in blocks(PLUGINS) if b.lang == "bash"]
    assert '.venv/bin/pip install -e ".[test]"' in bash.code
    assert "SWETS_STRICT_PLUGINS=1 .venv/bin/python -m pytest tests" in bash.code


@pytest.mark.wheelhouse
@pytest.mark.slow
def test_the_guide_plugin_installs_into_a_fresh_venv_and_passes_its_tests(wheelhouse, tmp_path):
    project = tmp_path / "swets-my-plugin"
    for name, text in files(blocks(PLUGINS)).items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", dist, project])  # fmt: skip
    # the test runner the guide's test extra names, as a wheel (from the pip cache or the index)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "-w", dist, "pytest"])
    py = make_venv(tmp_path / "venv")
    run([py, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", wheelhouse,
         "--find-links", dist, "swets-my-plugin[test]"])  # fmt: skip
    listing = run([tmp_path / "venv" / "bin" / "swets", "list", "models"]).stdout
    assert "softsign_mlp" in listing and "[swets-my-plugin]" in listing
    env = {**os.environ, "SWETS_STRICT_PLUGINS": "1"}
    env.pop("PYTHONPATH", None)
    out = run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=project, env=env)
    assert "6 passed" in out.stdout, out.stdout


# -- docs/training.md -------------------------------------------------------------------------------
TRAINING = ROOT / "docs" / "training.md"
MARKER = re.compile(r"<!-- test: (.*?) -->\n```", re.S)


def _markers(path: Path) -> dict[int, str]:
    """Block start line -> the ``<!-- test: ... -->`` marker just above it."""
    text = path.read_text()
    return {text.count("\n", 0, m.end()) + 1: m.group(1) for m in MARKER.finditer(text)}


def _check_signature(block: str, target: str) -> None:
    """The documented call signature equals ``target``'s: names, kinds and defaults in order."""
    parts = target.split(".")
    fn = importlib.import_module(parts[0])
    for part in parts[1:]:  # swets_train.Trainer.fit: a module, then attributes
        fn = getattr(fn, part)
    text = " ".join(block.split())
    end = text.rindex(")")  # the parameter list is the last parenthesised group
    depth, start = 0, end
    while start > 0:
        depth += {")": 1, "(": -1}.get(text[start], 0)
        if depth == 0:
            break
        start -= 1
    params = text[start + 1 : end]
    documented = ast.parse(f"def f({params}): pass").body[0].args
    real = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
    doc_params = [(a.arg, "positional") for a in documented.args]
    doc_params += [(a.arg, "keyword") for a in documented.kwonlyargs]
    assert [n for n, _ in doc_params] == [p.name for p in real], target
    positional = {inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.POSITIONAL_ONLY}
    for (n, kind), p in zip(doc_params, real):
        assert (p.kind in positional) == (kind == "positional"), f"{target}: {n} kind"
    defaults = dict(zip([a.arg for a in documented.args][::-1], documented.defaults[::-1]))
    defaults.update(
        {a.arg: d for a, d in zip(documented.kwonlyargs, documented.kw_defaults) if d is not None}
    )
    for p in real:
        if p.default is inspect.Parameter.empty:
            assert p.name not in defaults, f"{target}: {p.name} has no default"
        else:
            assert p.name in defaults, f"{target}: the default of {p.name} is not documented"
            assert ast.literal_eval(defaults[p.name]) == p.default, f"{target}: {p.name}"


def _step_objects() -> dict:
    from swets_core import Tensor, registry
    from swets_optim import SGD, StepLR

    rng = np.random.default_rng(0)
    model = registry.create(
        "models", "nbeats", lookback=8, horizon=2, num_blocks=1, num_layers=1, layer_width=8, seed=0
    )
    optimizer = SGD(model.parameters(), lr=0.1)
    return {
        "model": model,
        "loss_fn": registry.create("losses", "mse"),
        "x": Tensor(rng.standard_normal((4, 8, 1)).astype(np.float32)),
        "y": Tensor(rng.standard_normal((4, 2)).astype(np.float32)),
        "optimizer": optimizer,
        "scheduler": StepLR(optimizer, step_size=1, gamma=0.5),
        "max_norm": 1e-3,
    }


def _write_tcn_job() -> None:
    from swets_train.jobs import JobSpec, run_job

    spec = {
        "model": {"name": "tcn", "channels": 8, "levels": 2},
        "data": {"lookback": 48, "horizon": 12},
        "training": {"max_steps": 4, "seed": 0},
        "output": {"checkpoint": "runs/tcn.swets"},
    }
    run_job(JobSpec.from_dict(spec))


def test_every_code_block_of_the_training_guide_runs(tmp_path, monkeypatch):
    found = blocks(TRAINING)
    markers = _markers(TRAINING)
    for b in found:
        assert b.lang in LANGS, f"docs/training.md line {b.line}: block language {b.lang!r}"
    monkeypatch.chdir(tmp_path)
    ran, spaces = [], {}
    with no_fresh_entropy():
        for i, b in enumerate(found):
            if b.lang != "python":
                continue
            marker = markers.get(b.line, "")
            space = {"__name__": "__doc_example__"}
            if marker.startswith("the signature of "):
                _check_signature(b.code, marker.removeprefix("the signature of "))
                ran.append(marker)
                continue
            if marker == "with model, loss_fn, x, y, optimizer, scheduler, max_norm":
                space.update(_step_objects())
            elif marker == "after a job wrote runs/tcn.swets":
                _write_tcn_job()
            elif marker == "after the whole path above":
                assert "whole path" in spaces, "the whole-path block must come first"
            elif marker == "prediction intervals":
                pass
            else:
                assert marker == "", f"docs/training.md line {b.line}: unknown marker {marker!r}"
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(b.code, f"docs/training.md:{b.line}", "exec"), space)
            key = "whole path" if i == 0 else (marker or f"line {b.line}")
            spaces[key] = (space, out.getvalue(), i)
            ran.append(marker or f"line {b.line}")
    assert len(ran) == 10, ran

    # the whole path prints a table laid out as the documented output after it
    space, printed, i = spaces["whole path"]
    documented = found[i + 1]
    assert documented.lang == "text"
    rows = [ln.split()[0] for ln in documented.code.splitlines()]
    assert [ln.split()[0] for ln in printed.strip().splitlines()] == rows
    assert printed.splitlines()[0].split() == documented.code.splitlines()[0].split()
    assert space["future"].values.shape == (1, 48)
    # the step updated the parameters with clipped gradients
    step, _, _ = spaces["with model, loss_fn, x, y, optimizer, scheduler, max_norm"]
    assert step["norm"] > 1e-3 and step["optimizer"].param_groups[0]["lr"] == 0.05
    job, _, _ = spaces["after a job wrote runs/tcn.swets"]
    assert job["future"].values.shape == (1, 12)
    ckpt, _, _ = spaces["after the whole path above"]
    np.testing.assert_allclose(ckpt["future"].values, space["future"].values, rtol=1e-5)
    # the covariate job: it printed what its comments say, and forecast with the plan's promotions
    cov = next(v for v in spaces.values() if "sales_example" in v[0])
    lines = cov[1].splitlines()
    assert lines[0] == "49 ['dayofweek', 'dayofyear']"
    assert lines[1] == "2024-01-01T00:00:00.000000000 (1, 24)"
    assert cov[0]["job"].spec.data.known_covariates == ("promo",)
