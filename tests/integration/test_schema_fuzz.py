"""Schema-level fuzzing: any field of a job checkpoint replaced, removed or added (with values chosen
to hurt: huge and negative numbers, arrays, big integers, NaN, wrong types), the file sealed again
so it passes every container check, then loaded through ``load_checkpoint``, ``load_job`` and
``Trainer.fit(resume_from=...)``: each either succeeds or raises a swets error, never anything
else. Deterministic in the suite; ``--hypothesis-profile=explore`` draws new examples.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swets_core import checkpoint as ck
from swets_core.errors import SwetsError
from swets_serde_msgpack import dumps, loads
from tests.conftest import fuzz_examples
from tests.integration import hostile
from tests.serde.test_fuzz import _node_paths, _replace, plain_values

pytestmark = pytest.mark.slow

ADVERSARIAL = st.one_of(
    plain_values,
    st.sampled_from(
        [
            2**62,
            2**63 - 1,
            10_000_000,
            -1,
            0,
            float("nan"),
            float("inf"),
            "",
            "nbeats",
            "lstm",
            "float128",
            [],
            {},
            [None],
            {"\x00int": "1" + "0" * 30},
            {"\x00tuple": [1, 2]},
            {"\x00map": [[1, 2]]},
            {"\x00scalar": np.array(3.5)},
        ]
    ),
    st.builds(
        np.zeros,
        st.lists(st.integers(0, 3), max_size=3).map(tuple),
        st.sampled_from(["float32", "float64", "int64", "bool"]),
    ),
)


class Job:
    """The tree of a small job checkpoint and the job's prepared objects for resuming."""

    def __init__(self, work: Any) -> None:
        from swets_train.jobs import load_job, prepare, run_job

        base = work / "base.swets"
        run_job({**hostile.BASE_JOB, "output": {"checkpoint": str(base)}})
        self.tree = loads(base.read_bytes())
        self.prepared = prepare(load_job(base).spec)
        self.work = work

    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return "Job()"


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    return Job(tmp_path_factory.mktemp("schema-fuzz"))


def _resume(prepared: Any, path: Any) -> None:
    from swets_train.jobs import fit_prepared

    fit_prepared(prepared, resume_from=path)


@settings(
    max_examples=fuzz_examples(200),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), new=ADVERSARIAL, how=st.sampled_from(["replace", "delete", "add"]))
def test_schema_mutations_through_every_loading_path(job, data, new, how):
    from swets_train.jobs import load_job

    tree, prepared, work = job.tree, job.prepared, job.work
    mutated = copy.deepcopy(tree)
    where = data.draw(st.sampled_from(_node_paths(mutated)))
    mutated = _replace(mutated, where, new, how)
    try:
        blob = dumps(mutated)
    except SwetsError:  # not storable (a non-plain value): the writer refuses it
        return
    path = work / "mutated.swets"
    path.write_bytes(blob)
    for load in (ck.load_checkpoint, load_job, lambda p: _resume(prepared, p)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ck.CheckpointWarning)
            with contextlib.suppress(SwetsError):
                load(path)
