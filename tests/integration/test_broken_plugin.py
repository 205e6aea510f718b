"""A real installed distribution whose entry point raises on import."""

from __future__ import annotations

import os
import textwrap

import pytest

from tests.conftest import make_venv, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def broken_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("broken")
    src = root / "src"
    (src / "swets_broken_demo").mkdir(parents=True)
    (src / "swets_broken_demo" / "__init__.py").write_text(
        'raise ImportError("this plugin is broken on purpose")\n'
    )
    (src / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "swets-broken-demo"
            version = "0.0.1"
            [project.entry-points.swets]
            broken = "swets_broken_demo"
            """
        )
    )
    py = make_venv(root / "venv", see_dev_env=True)
    run(
        [
            py,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            src,
        ]
    )
    return py


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWETS_")}
    env.update(extra)
    return env


def test_plugins_command_shows_the_failure_and_keeps_working(broken_env):
    proc = run([broken_env, "-m", "swets_core", "plugins"], env=_env())
    assert proc.returncode == 0
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("broken"))
    assert "swets-broken-demo 0.0.1" in line and "FAILED" in line
    assert "this plugin is broken on purpose" in proc.stdout
    assert "swets-ops" in proc.stdout  # the others still load
    assert "swets-broken-demo" in proc.stderr  # the warning names the distribution


def test_registry_keeps_working(broken_env):
    code = (
        "from swets_core import registry; print(len(registry.names('ops')) >= 0, "
        "[p.distribution for p in registry.plugins() if p.error])"
    )
    proc = run([broken_env, "-W", "ignore", "-c", code], env=_env())
    assert proc.stdout.strip() == "True ['swets-broken-demo']"


def test_strict_mode_fails_with_a_clear_message(broken_env):
    proc = run(
        [broken_env, "-m", "swets_core", "plugins"], env=_env(SWETS_STRICT_PLUGINS="1"), check=False
    )
    assert proc.returncode == 1
    assert "swets: error:" in proc.stderr
    assert "swets-broken-demo" in proc.stderr and "SWETS_STRICT_PLUGINS" in proc.stderr


def test_disable_plugins_skips_it(broken_env):
    proc = run(
        [broken_env, "-m", "swets_core", "plugins"],
        env=_env(SWETS_DISABLE_PLUGINS="swets-broken-demo", SWETS_STRICT_PLUGINS="1"),
    )
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("broken"))
    assert "disabled" in line
