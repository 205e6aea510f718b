"""The README quickstart runs, and docs/cli.md agrees with the job specification."""

from __future__ import annotations

import contextlib
import io
import re

import attrs

from swets_train.jobs import DataSpec, JobSpec, OutputSpec, TrainingSpec
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
    with contextlib.redirect_stdout(out):
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
