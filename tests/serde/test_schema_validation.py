"""Well-formed files whose payload lies: every field is checked by type, the model is built under a
budget of the values the file stores, what is not a regular file is refused, NaN weights warn (or,
strict, fail), and the header's objects are bounded by its tensors."""

from __future__ import annotations

import os
import struct
import tracemalloc
import warnings

import numpy as np
import pytest

import swets_core
from swets_core import Module, Parameter
from swets_core import checkpoint as ck
from swets_core.errors import CheckpointError, StateDictError
from swets_core.registry import activate
from swets_serde_msgpack import dumps, loads
from tests.serde.helpers import TinyNet, isolated_registry, seal


class Stack(Module):
    """``depth`` square layers of ``width`` values each, built as a third-party model would be:
    ``Parameter(np.zeros(...))``, no swets layer involved. Counts the layers it created."""

    registry_name = "stack"
    built = 0

    def __init__(self, depth: int = 2, width: int = 4, swallow: bool = False) -> None:
        super().__init__()
        self.depth, self.width, self.swallow = depth, width, swallow
        self.layers = []
        for _ in range(depth):
            try:
                self.layers.append(Parameter(np.zeros((width, width), np.float32)))
            except CheckpointError:
                if not swallow:
                    raise
            Stack.built += 1

    def config(self):
        return {"depth": self.depth, "width": self.width, "swallow": self.swallow}


class StackPlugin:
    @swets_core.hookimpl
    def swets_register_models(self, register):
        register("stack", Stack)


@pytest.fixture
def reg():
    r = isolated_registry()
    r.add_plugin(StackPlugin(), name="stack", distribution="swets-test-stack", version="1")
    with activate(r):
        yield r


def _save(tmp_path, model, name="m.swets", **kw):
    path = tmp_path / name
    ck.save_checkpoint(path, model, **kw)
    return path


def _forge(path, mutate):
    """The file at ``path`` with its payload tree changed by ``mutate``, sealed again."""
    tree = loads(path.read_bytes())
    mutate(tree)
    path.write_bytes(dumps(tree))
    return path


# -- the model configuration against the stored tensors -------------------------------------------
@pytest.mark.parametrize("depth", [2_000_000, 10_000_000])
def test_a_configuration_asking_for_millions_of_layers_stops_at_the_budget(reg, tmp_path, depth):
    path = _forge(_save(tmp_path, Stack(2, 4)), lambda t: t["model"]["config"].update(depth=depth))
    Stack.built = 0
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="would create more than 1,048,640 parameter"):
            ck.load_checkpoint(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 2 * 32 stored values + 2**20: the build stops after 65,540 layers of 16 values, not millions
    assert Stack.built <= ck.build_limit(32) // 16 + 1
    assert peak < 64 * 2**20, f"peak traced allocation {peak} bytes"


def test_a_model_that_swallows_the_budget_error_is_still_refused(reg, tmp_path):
    model = Stack(2, 4, swallow=True)
    path = _forge(_save(tmp_path, model), lambda t: t["model"]["config"].update(depth=200_000))
    with pytest.raises(CheckpointError, match="does not describe the stored tensors"):
        ck.load_checkpoint(path)


@pytest.mark.parametrize("width", [2**62, {"\x00int": "1" + "0" * 30}])
def test_sizes_numpy_cannot_allocate_are_checkpoint_errors(reg, tmp_path, width):
    path = _forge(_save(tmp_path, Stack(2, 4)), lambda t: t["model"]["config"].update(width=width))
    with pytest.raises(CheckpointError, match="model 'stack' rejected the saved configuration"):
        ck.load_checkpoint(path)


def test_the_budget_counts_buffers_and_nests():
    from swets_core.budget import charge, parameter_budget

    with parameter_budget(10, "a test allows") as outer:
        charge(4)
        with parameter_budget(3, "the inner block allows") as inner:
            charge(3)
            with pytest.raises(CheckpointError, match="more than 3 parameter and buffer values"):
                Module().register_buffer("b", np.zeros(2))
        assert inner.exceeded and not outer.exceeded
        charge(6)
        with pytest.raises(CheckpointError):
            charge(1)
    charge(10**12)  # no budget open: nothing happens


def test_the_budget_leaves_a_model_that_differs_a_little_to_the_state_comparison(reg, tmp_path):
    path = _forge(_save(tmp_path, Stack(2, 4)), lambda t: t["model"]["config"].update(width=5))
    with pytest.raises(ck.CheckpointStateError, match=r"'layers\.0': shape"):
        ck.load_checkpoint(path)


# -- every field by type ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda t: t.update(format=np.arange(3)), "field 'format' is an array of shape"),
        (lambda t: t.update(format=["swets.checkpoint"]), "field 'format' is a list"),
        (lambda t: t.update(format_version="1"), r"field 'format_version' is a str \('1'\)"),
        (lambda t: t.update(model=[1, 2]), "field 'model' is a list, expected a mapping"),
        (lambda t: t["model"].update(name=np.zeros(2)), "field 'model.name' is an array"),
        (lambda t: t["model"].update(name=""), "field 'model.name' is empty"),
        (lambda t: t["model"].update(dtype=np.zeros(0)), "field 'model.dtype' is an array"),
        (lambda t: t["model"].update(dtype="float128"), "field 'model.dtype' is 'float128'"),
        (lambda t: t["model"].update(config=[1]), "field 'model.config' is a list"),
        (
            lambda t: t["model"]["config"].update(hidden=np.arange(3)),
            "field 'model.config.hidden' is an array",
        ),
        (lambda t: t["model"]["config"].update(n_in=b"4"), "field 'model.config.n_in' is a bytes"),
        (
            lambda t: t["model"]["config"].update(hidden={"\x00map": [[1, 2]]}),
            "field 'model.config.hidden' has a key 1 that is not a str",
        ),
        (lambda t: t.update(training="x"), "field 'training' is a str"),
        (lambda t: t.update(metadata=[1]), "field 'metadata' is a list"),
        (lambda t: t["metadata"].update(components="x"), "field 'metadata.components' is a str"),
        (
            lambda t: t["metadata"].update(components=[1]),
            r"field 'metadata.components\[0\]' is an int",
        ),
        (
            lambda t: t["metadata"]["components"][0].update(version=3),
            r"field 'metadata.components\[0\].version' is an int",
        ),
        (lambda t: t["metadata"].update(user=[1]), "field 'metadata.user' is a list"),
        (lambda t: t.clear() or t.update({"\x00int": "5"}), "the payload is a int, not a mapping"),
    ],
)
def test_every_payload_field_is_checked_by_type(reg, tmp_path, mutate, needle):
    path = _forge(_save(tmp_path, TinyNet()), mutate)
    with pytest.raises(CheckpointError, match=needle):
        ck.load_checkpoint(path)


# -- what is not a regular file ----------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(reg, tmp_path):
    fifo = tmp_path / "pipe.swets"
    os.mkfifo(fifo)
    for serializer in (None, "msgpack"):
        with pytest.raises(CheckpointError, match=r"is a named pipe \(FIFO\), not a regular file"):
            ck.load_checkpoint(fifo, serializer=serializer)
    link = tmp_path / "zero.swets"
    link.symlink_to("/dev/zero")
    with pytest.raises(CheckpointError, match=r"a link to /dev/zero.*character device"):
        ck.load_checkpoint(link)
    with pytest.raises(CheckpointError, match="is a directory"):
        ck.load_checkpoint(tmp_path)


# -- values that cannot forecast ----------------------------------------------------------------------
def test_nan_weights_warn_naming_the_tensor_or_fail_when_strict(reg, tmp_path, monkeypatch):
    model = TinyNet()
    model.w1._data[0, :2] = np.nan
    model.b1._data[1] = np.inf
    path = _save(tmp_path, model)
    monkeypatch.delenv(ck.STRICT_ENV, raising=False)
    with pytest.warns(ck.CheckpointWarning) as caught:
        ck.load_checkpoint(path)
    text = str(caught[0].message)
    assert "'w1' holds 2 NaN and 0 infinite value(s) of 32" in text
    assert "'b1' holds 0 NaN and 1 infinite value(s) of 8" in text
    with pytest.raises(CheckpointError, match="'w1' holds 2 NaN"):
        ck.load_checkpoint(path, strict=True)
    monkeypatch.setenv(ck.STRICT_ENV, "1")
    with pytest.raises(CheckpointError, match="strict loading"):
        ck.load_checkpoint(path)
    with warnings.catch_warnings(record=True) as lenient:
        warnings.simplefilter("always")
        ck.load_checkpoint(path, strict=False)  # the argument wins over the environment
    assert len(lenient) == 1
    clean = _save(tmp_path, TinyNet(), "clean.swets")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ck.load_checkpoint(clean)


# -- bounds ---------------------------------------------------------------------------------------------
def _junk(count: int, item: bytes) -> bytes:
    body = b"\x81\xa4junk\xdd" + struct.pack(">I", count) + item * count
    return seal(b"\x82\xa4tree" + body + b"\xa7tensors\x90", b"")


@pytest.mark.parametrize(("count", "item"), [(12_000_000, b"\x90"), (2_000_000, b"\x80")])
def test_a_header_of_millions_of_empty_containers_stops_at_the_object_bound(count, item):
    blob = _junk(count, item)
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="holds more than 250,000 objects"):
            loads(blob)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20, f"peak traced allocation {peak} bytes"


def test_the_object_bound_grows_with_the_tensors():
    # 300,000 objects beside 1,000 tensors: within 250,000 + 64 * 1,000
    tree = {"x": list(range(299_000)), "t": [np.zeros(1, np.uint8) for _ in range(1000)]}
    assert len(loads(dumps(tree))["x"]) == 299_000
    with pytest.raises(CheckpointError, match="holds more than 250,064 objects"):
        loads(dumps({"x": list(range(300_000)), "t": [np.zeros(1)]}))


def test_a_list_of_many_problems_shows_twenty_and_counts_the_rest():
    err = StateDictError("Thing", [f"unexpected key 'k{i}'" for i in range(100_000)])
    lines = str(err).splitlines()
    assert lines[0] == "cannot load state into Thing: 100,000 problem(s):"
    assert lines[1:3] == ["  unexpected key 'k0'", "  unexpected key 'k1'"]
    assert lines[-1] == "  ... and 99,900 more" and len(lines) == 102
    assert len(err.problems) == 100_000


def test_many_unexpected_tensors_give_a_short_message(reg, tmp_path):
    def add(t):
        for i in range(5000):
            t["model"]["state"][f"stacks.{i}.weight"] = np.zeros(0, np.float32)

    path = _forge(_save(tmp_path, TinyNet()), add)
    with pytest.raises(ck.CheckpointStateError) as err:
        ck.load_checkpoint(path)
    assert len(err.value.problems) == 5000
    assert len(str(err.value).splitlines()) == 102 and "... and 4,900 more" in str(err.value)
