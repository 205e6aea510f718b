"""A job checkpoint whose training state, job description, scaler or data lies: load_job and resume
name the field in a CheckpointError; the data is read from regular files only; a scaler that would
give non-finite forecasts warns (or, strict, fails); a time budget stops where the clock says."""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest

from swets_core import checkpoint as ck
from swets_core.errors import CheckpointError, ConfigError, DataValidationError, StateDictError
from swets_serde_msgpack import dumps, loads
from swets_train import EarlyStopping, History, ModelCheckpoint, Trainer
from swets_train.jobs import fit_prepared, load_job, prepare, run_job
from tests.integration.hostile import BASE_JOB
from tests.train.conftest import data, mse_loss, small_model
from tests.train.test_resume_matrix import Clock


@pytest.fixture(scope="module")
def job_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("job") / "base.swets"
    run_job({**BASE_JOB, "output": {"checkpoint": str(path)}})
    return path


def _forge(src, dst, mutate):
    tree = loads(src.read_bytes())
    mutate(tree)
    dst.write_bytes(dumps(tree))
    return dst


def _resume_with_base_objects(base, path):
    """Resume ``path`` with the objects the (valid) base job prepares (the job's resume path)."""
    fit_prepared(prepare(load_job(base).spec), resume_from=path)


@pytest.mark.parametrize(
    ("mutate", "needle", "resume_too"),
    [
        (
            lambda t: t["training"]["history"].update(records=[1, 2]),
            r"field 'training.history.records\[0\]' is an int \(1\), expected a mapping",
            True,
        ),
        (
            lambda t: t["training"]["history"].update(records="epochs"),
            "field 'training.history.records' is a str",
            True,
        ),
        (lambda t: t["training"].update(epoch="1"), "field 'training.epoch' is a str", True),
        (lambda t: t["training"].update(version=2), "unknown training-state version 2", True),
        (
            lambda t: t["training"]["stop"].pop("reason"),
            "missing field 'training.stop.reason'",
            True,
        ),
        (
            lambda t: t["training"].update(batch=1),
            "field 'training.batch' says 1 batch.* but the data loader's position",
            True,
        ),
        (
            lambda t: t["metadata"]["user"]["job"].update(model=np.arange(3)),
            "field 'metadata.user.job': .*\\[model\\] must be a table",
            False,
        ),
        (
            lambda t: t["metadata"]["user"]["job"]["model"].update(name="lstm"),
            "field 'metadata.user.job.model.name' is 'lstm' but the checkpoint holds model 'nbeats'",
            False,
        ),
        (
            lambda t: t["metadata"]["user"]["job"]["data"].update(lookback=96),
            "'metadata.user.job.data.lookback' is 96 but the model's configuration",
            False,
        ),
        (
            lambda t: t["training"]["scaler"].update(kind=[1]),
            "field 'training.scaler': unknown scaler kind",
            True,
        ),
    ],
)
def test_load_job_and_resume_name_the_field(job_file, tmp_path, mutate, needle, resume_too):
    path = _forge(job_file, tmp_path / "bad.swets", mutate)
    ck.load_checkpoint(path)  # core reads none of these fields
    with pytest.raises(CheckpointError, match=needle):
        load_job(path)
    if resume_too:
        with pytest.raises(CheckpointError):
            _resume_with_base_objects(job_file, path)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda t: t["training"]["optimizer"].update(state=[1]), "training.optimizer"),
        (lambda t: t["training"]["rng"]["model"].update(x={"bit_generator": "Evil"}), "rng"),
        (lambda t: t["training"]["loader"].update(rng_state={"bit_generator": [1]}), "loader"),
        (
            lambda t: t["training"]["callbacks"]["EarlyStopping"].update(best="x"),
            "training.callbacks.EarlyStopping",
        ),
    ],
)
def test_a_component_state_that_does_not_load_is_a_checkpoint_error(
    job_file, tmp_path, mutate, field
):
    path = _forge(job_file, tmp_path / "bad.swets", mutate)
    with pytest.raises(CheckpointError, match=field):
        _resume_with_base_objects(job_file, path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_job_whose_data_is_a_named_pipe_is_refused_without_waiting(job_file, tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)

    def point_at(target):
        def mutate(t):
            d = t["metadata"]["user"]["job"]["data"]
            d.pop("dataset")
            d["path"] = str(target)

        return mutate

    job = load_job(_forge(job_file, tmp_path / "fifo.swets", point_at(fifo)))
    with pytest.raises(DataValidationError, match=r"is a named pipe \(FIFO\), not a regular file"):
        job.forecast()
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    job = load_job(_forge(job_file, tmp_path / "zero.swets", point_at(link)))
    with pytest.raises(DataValidationError, match="a link to /dev/zero"):
        job.evaluate()


def test_a_scaler_that_divides_by_zero_warns_or_fails_when_strict(job_file, tmp_path, monkeypatch):
    def zero(t):
        t["training"]["scaler"]["stats"]["*"]["scale"][0] = 0.0  # the target's column

    path = _forge(job_file, tmp_path / "zero.swets", zero)
    monkeypatch.delenv(ck.STRICT_ENV, raising=False)
    with pytest.warns(
        ck.CheckpointWarning, match=r"scaler scale\[0\] \(column 'demand_mw'\) is 0.0"
    ):
        load_job(path)
    with pytest.raises(CheckpointError, match=r"scaler scale\[0\]"):
        load_job(path, strict=True)
    monkeypatch.setenv(ck.STRICT_ENV, "1")
    with pytest.raises(CheckpointError, match="cannot give finite forecasts"):
        load_job(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_job(job_file)  # the valid file: no warning


def test_history_state_is_checked_and_keeps_partial():
    h = History([{"epoch": 0, "loss": 1.0}], partial=True)
    state = h.state_dict()
    assert state["partial"] is True
    back = History()
    back.load_state_dict(state)
    assert back.partial and back.records == h.records
    back.load_state_dict({"records": [], "stop_reason": None})  # older states lack "partial"
    assert back.partial is False
    with pytest.raises(StateDictError, match=r"records\[1\] is a int"):
        back.load_state_dict({"records": [{}, 3], "stop_reason": None})
    with pytest.raises(StateDictError, match="'stop_reason' must be a str or None"):
        back.load_state_dict({"records": [], "stop_reason": 5})


def test_callback_states_are_checked_by_type():
    es = EarlyStopping()
    good = es.state_dict()
    for key, value in [("best", "x"), ("best", np.zeros(0)), ("wait", -1), ("best_epoch", 1.5)]:
        with pytest.raises(StateDictError, match=repr(key)):
            es.load_state_dict({**good, key: value})
    with pytest.raises(StateDictError, match="'best_weights' must be None or a mapping"):
        es.load_state_dict({**good, "best_weights": [1]})
    mc = ModelCheckpoint("unused", save_best=False)
    with pytest.raises(StateDictError, match="'best' must be None or a number"):
        mc.load_state_dict({"best": [1], "best_epoch": None})


def test_a_time_budget_stops_where_the_clock_says_and_counts_across_a_resume(tmp_path):
    _, _, train, val = data("float32", batch_size=64)
    assert len(train) == 5
    model = small_model("float32", dropout=0.0)
    from swets_optim import Adam

    trainer = Trainer()
    # one reading when training starts, then one per batch and one per epoch end: 5 batches and
    # an epoch end take 6 seconds; 2 more batches reach 8
    history = trainer.fit(
        model,
        mse_loss(),
        Adam(model.parameters()),
        train,
        val,
        max_time=8,
        clock=Clock(),
        progress=False,
    )
    assert trainer.global_step == 7 and history.partial and len(history) == 2
    state = trainer.training_state()
    assert state["elapsed"] == 8.0 and state["batch"] == 2 and len(state["history"]["records"]) == 2
    trainer.save_checkpoint(tmp_path / "t.swets")
    model2 = small_model("float32", dropout=0.0)
    t2 = Trainer()
    t2.fit(
        model2,
        mse_loss(),
        Adam(model2.parameters()),
        train,
        val,
        max_time=10,
        clock=Clock(),
        progress=False,
        resume_from=tmp_path / "t.swets",
    )
    assert t2.global_step == 9  # two more seconds: two more batches


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, "60", True])
def test_max_time_must_be_a_positive_number_of_seconds(bad):
    _, _, train, _ = data("float32")
    model = small_model("float32")
    from swets_optim import Adam

    with pytest.raises(ConfigError, match="max_time must be a number of seconds > 0"):
        Trainer().fit(model, mse_loss(), Adam(model.parameters()), train, max_time=bad)
    with pytest.raises(ConfigError, match="clock must be a function"):
        Trainer().fit(model, mse_loss(), Adam(model.parameters()), train, epochs=1, clock=3)
