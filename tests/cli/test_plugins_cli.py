"""The ``swets`` script with hostile and slow plugins, and what it loads to print its help."""

from __future__ import annotations

import subprocess
import sys

from .conftest import TINY, fake_distribution, one_error_line, swets

MARKER_PLUGIN = """
import os
open(os.environ["SWETS_TEST_MARKER"], "a").write("imported\\n")

import swets_core


@swets_core.hookimpl
def swets_register_models(register):
    register("marker_model", object, doc="A model of a plugin that says when it is imported.")
"""


def _exiting_plugin(tmp_path):
    """The environment of an installed plugin whose import calls ``sys.exit(3)``."""
    source = "import sys\nsys.exit(3)\n"
    return fake_distribution(
        tmp_path / "site", "acme-exit", "acme_exit", source, {"swets": {"acme": "acme_exit"}}
    )


def test_a_plugin_calling_sys_exit_on_import_does_not_take_swets_down(tmp_path):
    env = _exiting_plugin(tmp_path)
    listing = swets("list", "models", "--short", cwd=tmp_path, env=env)
    assert "nbeats" in listing.stdout and "seasonal_naive" in listing.stdout
    assert listing.stderr.strip() == (
        "swets: warning: swets plugin 'acme' from distribution acme-exit 1.0: import failed: "
        "SystemExit: the plugin called sys.exit(3); the rest of swets keeps working"
    )
    plugins = swets("plugins", cwd=tmp_path, env=env)
    assert "acme  [acme-exit 1.0]  FAILED" in plugins.stdout
    assert "error: import failed: SystemExit: the plugin called sys.exit(3)" in plugins.stdout
    # a command that trains goes on as well
    swets("train", *TINY, "--max-steps", "1", "--output", "n.swets", cwd=tmp_path, env=env)


def test_strict_mode_names_the_plugin_on_the_first_line(tmp_path):
    env = _exiting_plugin(tmp_path)
    proc = swets("list", cwd=tmp_path, env={**env, "SWETS_STRICT_PLUGINS": "1"}, rc=None)
    line = one_error_line(proc)
    assert line == (
        "swets: error: swets plugin 'acme' from distribution acme-exit 1.0 failed to load "
        "(SWETS_STRICT_PLUGINS is set): import failed: SystemExit: the plugin called sys.exit(3)"
    )


def test_the_same_entry_point_name_in_two_distributions_keeps_both(tmp_path):
    source = (
        "import swets_core\n\n@swets_core.hookimpl\ndef swets_register_models(register):\n"
        "    register('acme_model', object, doc='Acme.')\n"
    )
    env = fake_distribution(
        tmp_path / "site",
        "acme-models",
        "acme_models",
        source,
        {"swets": {"models": "acme_models"}},
    )
    proc = swets("list", "models", "--short", cwd=tmp_path, env=env)
    assert "nbeats" in proc.stdout and "acme_model" in proc.stdout
    assert proc.stderr == ""
    plugins = swets("plugins", cwd=tmp_path, env=env).stdout
    assert "models  [acme-models 1.0]  ok" in plugins
    assert "models  [swets-models 0.1.0]  ok" in plugins


def test_version_and_help_load_no_plugin(tmp_path):
    marker = tmp_path / "imported.txt"
    env = fake_distribution(
        tmp_path / "site",
        "acme-marker",
        "acme_marker",
        MARKER_PLUGIN,
        {"swets": {"marker": "acme_marker"}},
    )
    env["SWETS_TEST_MARKER"] = str(marker)
    assert swets("--version", cwd=tmp_path, env=env).stdout.startswith("swets ")
    top = swets("--help", cwd=tmp_path, env=env).stdout
    assert swets("list", "--help", cwd=tmp_path, env=env).stdout.startswith("usage: swets list")
    assert swets("train", "--help", cwd=tmp_path, env=env).stdout.startswith("usage: swets train")
    assert not marker.exists(), "a plugin was imported to print the version or a help"
    # the commands of the plugins are listed from their distributions' metadata
    for command in (
        "plugins",
        "list",
        "train",
        "evaluate",
        "forecast",
        "backtest",
        "plot",
        "sweep",
    ):
        assert f"    {command} " in top
    assert "train     (from swets-train)" in top
    # running a command loads every plugin, and `swets plugins` says how long each one took
    plugins = swets("plugins", cwd=tmp_path, env=env).stdout
    assert marker.read_text() == "imported\n"
    line = next(ln for ln in plugins.splitlines() if ln.startswith("marker"))
    assert line.startswith("marker  [acme-marker 1.0]  ok  loaded in ") and line.endswith(" s")


def test_a_command_s_help_loads_only_the_plugin_that_adds_it():
    code = (
        "import sys\nfrom swets_core import cli\n"
        "try:\n    cli.main(['train', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m in "
        "('swets_train.plugin', 'swets_models.plugin', 'swets_dask.plugin', 'swets_ops.plugin')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert proc.stdout.strip().splitlines()[-1] == "['swets_train.plugin']"


def test_list_shows_the_options_of_each_model(tmp_path):
    out = swets("list", "models", cwd=tmp_path).stdout
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("nbeats "))
    block = []
    for ln in lines[start + 1 :]:
        if not ln.startswith("    "):
            break
        block.append(ln.strip())
    options = {ln.split("=", 1)[0]: ln for ln in block}
    assert options["layer_width"].split() == [
        "layer_width=512",
        "units",
        "of",
        "those",
        "layers",
        "(int",
        "or",
        "per-stack",
        "list).",
    ]
    assert (
        options["horizon"].startswith("horizon=24")
        and "steps forecast at once" in options["horizon"]
    )
    seasonal = out[out.index("seasonal_naive ") :]
    assert "season_length=1" in seasonal and "the period m" in seasonal
    # every kind at once stays a list of names
    assert "layer_width" not in swets("list", cwd=tmp_path).stdout


def test_every_command_of_the_built_in_plugins_is_declared():
    from swets_core.cli import _CORE_COMMANDS, build_parser, declared_commands

    _, cli = build_parser()
    added = {name for name in cli.commands if name not in _CORE_COMMANDS}
    declared = declared_commands()
    assert added == set(declared)
    assert {declared[name][0] for name in added} == {
        "swets-train",
        "swets-dask",
        "swets-competitions",
    }
