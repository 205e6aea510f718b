"""The README quickstart runs, seeded, and prints what it says; docs/cli.md agrees with the job
specification; the class names the docs give reach the components through the ``swets`` facade."""

from __future__ import annotations

import contextlib
import io
import re

import attrs
import pytest

from swets_core import registry
from swets_train.jobs import DataSpec, JobSpec, OutputSpec, TrainingSpec
from tests.cli.doc_blocks import no_fresh_entropy
from tests.conftest import ROOT

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def _block_after(text: str, marker: str, lang: str) -> str:
    at = text.index(marker)
    m = re.compile(rf"```{lang}\n(.*?)```", re.S).search(text, at)
    assert m is not None, f"no ```{lang} block after {marker!r}"
    return m.group(1)


def test_readme_quickstart_runs_and_prints_what_it_says():
    code = _block_after((ROOT / "README.md").read_text(), "<!-- quickstart", "python")
    assert len(code.strip().splitlines()) <= 13
    out = io.StringIO()
    # seeded throughout, so it prints the same on every run and machine: the promised figures are
    # rounded far from their last digit (loss about 2e-9, bias within 2e-5 of 0.5)
    with contextlib.redirect_stdout(out), no_fresh_entropy():
        exec(compile(code, "README.md", "exec"), {})
    promised = re.search(r"# (loss [\d.]+, bias [\d.]+)", code).group(1)
    assert out.getvalue().strip() == promised


def test_the_job_file_example_is_a_valid_job():
    text = (ROOT / "docs" / "cli.md").read_text()
    spec = JobSpec.from_dict(tomllib.loads(_block_after(text, "## The job file", "toml")))
    assert spec.model.options == {"num_blocks": 2, "num_layers": 2, "layer_width": 128}
    assert spec.training.scheduler_options == {"patience": 1, "factor": 0.5}


def test_every_key_of_the_job_is_documented():
    text = (ROOT / "docs" / "cli.md").read_text()
    table = text[text.index("| key | default | meaning |") :]
    for section, cls in (("data", DataSpec), ("training", TrainingSpec), ("output", OutputSpec)):
        for f in attrs.fields(cls):
            # "training.loss, .loss_options" documents two keys in one row
            assert f"`{section}.{f.name}`" in table or f"`.{f.name}`" in table, (section, f.name)


# -- the class names the docs give, through the facade -----------------------------------------------
CLASS_TABLES = [  # (doc, kind, header of the table whose first two columns are name and class)
    ("layers.md", "layers", "| registry name | class |"),
    ("losses.md", "losses", "| name | class |"),
    ("optim.md", "optimizers", "| name | class | hyper-parameters"),
    ("optim.md", "schedulers", "| name | class | arguments"),
]
TICKED = re.compile(r"`([^`]*)`")


def _table_pairs(text: str, header: str) -> list[tuple[str, str]]:
    """(registry name, class name) of every row of the table under ``header``; a row naming several
    components (``relu`` ``leaky_relu`` ...) pairs them in order."""
    rows = text[text.index(header) :].split("\n\n", 1)[0].splitlines()[2:]
    pairs = []
    for row in rows:
        cells = row.split(" | ")
        names = TICKED.findall(cells[0])
        spelled = [re.match(r"[A-Za-z0-9_]+", c).group(0) for c in TICKED.findall(cells[1])]
        classes = list(dict.fromkeys(spelled))  # Sequential(*layers) / Sequential({...}): one class
        assert len(names) == len(classes), row
        pairs += list(zip(names, classes))
    return pairs


@pytest.mark.parametrize(("doc", "kind", "header"), CLASS_TABLES, ids=lambda v: str(v)[:12])
def test_documented_class_names_reach_the_components(doc, kind, header):
    import swets

    pairs = _table_pairs((ROOT / "docs" / doc).read_text(), header)
    assert len(pairs) >= 4
    namespace = getattr(swets, kind)
    listed = set(dir(namespace))
    for name, cls in pairs:
        registered = registry.get(kind, name)
        assert getattr(namespace, cls) is registered, f"{doc}: swets.{kind}.{cls} is not {name!r}"
        assert getattr(namespace, name) is registered
        assert registered.__name__ == cls, f"{doc}: {name!r} is class {registered.__name__}"
        assert {name, cls} <= listed, f"dir(swets.{kind}) lacks {name!r} or {cls!r}"


def test_documented_model_and_metric_classes_reach_the_components():
    import swets

    models = re.findall(
        r"^## .*\(`(\w+)`, `(\w+)`\)$", (ROOT / "docs" / "models.md").read_text(), re.M
    )
    from swets_models import MODELS

    assert {name for name, _ in models} == set(MODELS)  # every model has its section
    for name, cls in models:
        assert getattr(swets.models, cls) is registry.get("models", name)
        assert cls in dir(swets.models)
    text = (ROOT / "docs" / "metrics.md").read_text()
    listed = text[text.index("The classes live in `swets_train.metrics`") :].split(";", 1)[0]
    classes = TICKED.findall(listed)[1:]
    assert len(classes) == 10
    for cls in classes:  # a metric is registered as an instance: its class name gives its class
        assert any(
            type(registry.get("metrics", n)) is getattr(swets.metrics, cls)
            for n in registry.names("metrics")
        ), cls
        assert cls in dir(swets.metrics)
