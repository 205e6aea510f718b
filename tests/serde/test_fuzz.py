"""Property-based fuzzing of the reader: mutated, truncated and re-sealed files never raise anything but
CheckpointError (and what loads is plain data).

In the suite the examples are the same on every run (the ``swets`` profile of tests/conftest.py);
``--hypothesis-profile=explore`` draws new ones, 20 times as many.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swets_core import checkpoint as ck
from swets_core.errors import CheckpointError
from swets_core.registry import activate
from swets_serde_msgpack import dumps, loads
from tests.conftest import fuzz_examples
from tests.serde.helpers import TinyNet, isolated_registry, perturbed, seal, split_file

FUZZ = settings(
    max_examples=fuzz_examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SEEDS = [
    dumps(
        {
            "a": np.arange(6, dtype=np.float32).reshape(2, 3),
            "b": [np.array([1, 2], np.int64), np.array(True), {"c": np.zeros(0, np.uint8)}],
            "d": {"text": "ü", "n": -5, "x": 1.5, "raw": b"\x00\x01", "none": None},
        }
    ),
    dumps(
        {"w": np.random.default_rng(0).standard_normal((4, 5)), "k": np.arange(3, dtype=np.int8)}
    ),
    dumps({"empty": {}}),
]


def _is_plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.dtype.name in ck.ALLOWED_DTYPES
    return value is None or isinstance(value, (bool, int, float, str, bytes))


def _load_or_checkpoint_error(blob: bytes) -> None:
    try:
        out = loads(blob)
    except CheckpointError:
        return
    assert _is_plain(out)


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("set"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 64)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
)


def _mutate(blob: bytes, ops: list[tuple[str, int, Any]]) -> bytes:
    buf = bytearray(blob)
    for kind, pos, arg in ops:
        if not buf:
            break
        pos %= len(buf)
        if kind == "flip":
            buf[pos] ^= arg
        elif kind == "set":
            buf[pos] = arg
        elif kind == "insert":
            buf[pos:pos] = arg
        elif kind == "delete":
            del buf[pos : pos + arg]
        else:
            del buf[pos:]
    return bytes(buf)


@FUZZ
@given(seed=st.sampled_from(range(len(SEEDS))), ops=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_and_truncated_files(seed, ops):
    _load_or_checkpoint_error(_mutate(SEEDS[seed], ops))


plain_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**64 - 1),
        st.floats(allow_nan=True),
        st.text(max_size=8),
        st.binary(max_size=40),
        st.sampled_from(["float32", "object", "int64", "bool", "<f8", "O"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
    ),
    max_leaves=12,
)


def _node_paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_node_paths(v, (*path, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_node_paths(v, (*path, i)))
    return out


def _replace(root: Any, path: tuple, new: Any, how: str) -> Any:
    if not path:
        return new
    node = root
    for step in path[:-1]:
        node = node[step]
    if how == "delete":
        del node[path[-1]]
    elif how == "add" and isinstance(node, dict):
        node[f"{path[-1]}_"] = new
    elif how == "add" and isinstance(node, list):
        node.insert(path[-1], new)
    else:
        node[path[-1]] = new
    return root


@FUZZ
@given(
    seed=st.sampled_from(range(len(SEEDS))),
    data=st.data(),
    new=plain_values,
    how=st.sampled_from(["replace", "delete", "add"]),
)
def test_resealed_header_mutations(seed, data, new, how):
    """Structural changes to the header with a correct header hash: every validation rule is reached."""
    header, tensor_bytes = split_file(SEEDS[seed])
    path = data.draw(st.sampled_from(_node_paths(header)))
    header = _replace(header, path, new, how)
    _load_or_checkpoint_error(seal(msgpack.packb(header, use_bin_type=True), tensor_bytes))


@pytest.fixture(scope="module")
def checkpoint_file():
    with tempfile.TemporaryDirectory() as tmp, activate(isolated_registry()):
        path = Path(tmp) / "m.swets"
        state = {"opt": {"state": {0: {"m": np.ones(3)}}, "betas": (0.9, 0.99)}, "step": 2**70}
        ck.save_checkpoint(
            path, perturbed(TinyNet(n_in=3, hidden=4, n_out=2)), training_state=state
        )
        yield path.read_bytes(), Path(tmp)


@settings(FUZZ, max_examples=fuzz_examples(120))
@given(data=st.data(), new=plain_values, how=st.sampled_from(["replace", "delete", "add"]))
def test_resealed_checkpoint_mutations_through_load_checkpoint(checkpoint_file, data, new, how):
    """The whole load path (payload decoding, validation, model building) raises only CheckpointError."""
    blob, tmp = checkpoint_file
    header, tensor_bytes = split_file(blob)
    path = data.draw(st.sampled_from(_node_paths(header["tree"])))
    header["tree"] = _replace(header["tree"], path, new, how)
    target = tmp / "mutated.swets"
    target.write_bytes(seal(msgpack.packb(header, use_bin_type=True), tensor_bytes))
    with activate(isolated_registry()), contextlib.suppress(CheckpointError):
        ck.load_checkpoint(target)
