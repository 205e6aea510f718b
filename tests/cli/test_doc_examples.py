"""Every code block of docs/plugins.md and docs/training.md runs, as written.

docs/plugins.md builds a plugin from blocks whose first line names a file: those blocks together
must make a plugin that registers, passes its own tests (the conformance kit) in process, and
installs from wheels into a fresh virtual environment holding only what the guide says to install,
where its tests pass again. The other Python blocks run in order with that plugin active.
"""

from __future__ import annotations

import os
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
