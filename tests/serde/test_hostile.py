"""Hostile and corrupt files: one fixture per rule of the format, each must raise CheckpointError
(quickly, and without allocating what the file claims)."""

from __future__ import annotations

import hashlib
import tracemalloc

import msgpack
import numpy as np
import pytest

from swets_core import checkpoint as ck
from swets_core.errors import CheckpointError
from swets_serde_msgpack import MAGIC, dumps, loads
from swets_serde_msgpack import format as fmt
from tests.serde.helpers import forge, record, seal, split_file

W = np.arange(12, dtype=np.float32).reshape(3, 4)
IDX = np.arange(5, dtype=np.int64)


@pytest.fixture(scope="module")
def valid() -> bytes:
    return dumps({"model": {"w": W, "i": IDX, "note": "ok"}, "n": 3})


def _raises(blob: bytes, needle: str, tmp_path=None) -> CheckpointError:
    with pytest.raises(CheckpointError, match=needle) as err:
        loads(blob)
    if tmp_path is not None:  # the file path goes through the same reader
        path = tmp_path / "hostile.swets"
        path.write_bytes(blob)
        with pytest.raises(CheckpointError, match=needle):
            ck.load_payload(path, serializer="msgpack")
    return err.value


def test_valid_fixture_loads(valid):
    got = loads(valid)
    assert np.array_equal(got["model"]["w"], W) and np.array_equal(got["model"]["i"], IDX)
    assert got["model"]["note"] == "ok" and got["n"] == 3


def test_bad_magic(valid, tmp_path):
    _raises(b"PK\x03\x04" + valid[4:], "not a swets msgpack checkpoint", tmp_path)
    _raises(b"\x80" + valid[1:], "magic", tmp_path)
    _raises(b"hello", "not a swets msgpack checkpoint")


def test_unknown_version(valid, tmp_path):
    header, data = split_file(valid)
    blob = seal(msgpack.packb(header), data, version=2)
    _raises(blob, "container version 2 is not supported", tmp_path)
    _raises(seal(msgpack.packb(header), data, flags=1), "unknown flags")


@pytest.mark.parametrize("keep", [0, 7, 40, 64, 100, -1])
def test_truncated_file(valid, keep, tmp_path):
    blob = valid[:keep] if keep >= 0 else valid[:-1]
    _raises(blob, "truncated|not a swets", tmp_path)


def test_flipped_byte_in_data_names_the_tensor(valid, tmp_path):
    blob = bytearray(valid)
    blob[-10] ^= 0x01  # inside the last tensor's bytes
    err = _raises(bytes(blob), "SHA-256 mismatch", tmp_path)
    assert "model.i" in str(err) or "model.w" in str(err)


def test_flipped_byte_in_header(valid):
    blob = bytearray(valid)
    blob[fmt.PREFIX_SIZE + 5] ^= 0x20
    _raises(bytes(blob), "header SHA-256 mismatch")
    blob = bytearray(valid)
    blob[40] ^= 0x01  # inside the stored header digest
    _raises(bytes(blob), "header SHA-256 mismatch")


@pytest.mark.parametrize(
    "dtype",
    [
        "object",
        "|O",
        "O",
        "V8",
        "<U4",
        "[('a', '<f4')]",
        "complex64",
        "datetime64[s]",
        ">f4",
        "float128",
        "",
    ],
)
def test_object_and_other_forbidden_dtypes(dtype):
    blob = forge({"w": None}, [record(["w"], W, dtype=dtype)], W.tobytes())
    _raises(blob, "is not allowed")


def test_declared_sizes_larger_than_the_file(valid, tmp_path):
    header, data = split_file(valid)
    hb = msgpack.packb(header)
    _raises(seal(hb, data, header_length=2**63), "declared header length", tmp_path)
    _raises(seal(hb, data, header_length=len(hb) + len(data) + 10**6), "declared header length")
    _raises(seal(hb, data, data_length=2**64 - 1), "truncated: the prefix declares", tmp_path)
    _raises(seal(hb, data, data_length=len(data) + 1), "truncated")
    # a record claiming more bytes than the data section holds
    blob = forge(
        {"w": None}, [record(["w"], W, nbytes=W.nbytes * 100, shape=[300, 4])], W.tobytes()
    )
    _raises(blob, "needs more than the 48 bytes")


def test_tensor_claiming_2_to_the_40_elements_fails_fast_without_allocating():
    shape = [2**20, 2**20]
    rec = record(["w"], W, shape=shape, nbytes=4 * 2**40)
    blob = forge({"w": None}, [rec], W.tobytes())
    tracemalloc.start()
    try:
        with pytest.raises(
            CheckpointError, match=r"shape \[1048576, 1048576\] of float32 needs more"
        ):
            loads(blob)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"peak traced allocation {peak} bytes"
    # many dimensions whose product overflows 64 bits are bounded the same way
    rec = record(["w"], W, shape=[2**62] * 30, nbytes=0)
    _raises(forge({"w": None}, [rec], W.tobytes()), "needs more than")
    _raises(forge({"w": None}, [record(["w"], W, shape=[2**63])], W.tobytes()), "invalid shape")
    _raises(forge({"w": None}, [record(["w"], W, shape=[-1, 3])], W.tobytes()), "invalid shape")
    _raises(forge({"w": None}, [record(["w"], W, shape=[1] * 40)], W.tobytes()), "at most 32")


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ([0, 3036988439, 3037012561], "float32"),
        ([0, 2**61, 1], "float32"),
        ([2**31, 0, 2**33], "uint8"),
    ],
)
def test_an_empty_shape_numpy_cannot_represent_is_refused(shape, dtype):
    """Found by the fuzz: a zero size makes the shape empty (0 bytes needed), but numpy refuses
    sizes whose non-zero product exceeds 2**63 bytes, with a bare ValueError."""
    empty = np.zeros(0, dtype)
    rec = record(["w"], empty, shape=shape, nbytes=0)
    _raises(forge({"w": None}, [rec], b""), r"too large for an array")
    fine = record(["w"], empty, shape=[0, 2**30, 2**30], nbytes=0)  # 2**62 bytes: numpy takes it
    assert loads(forge({"w": None}, [fine], b""))["w"].shape == (0, 2**30, 2**30)


def test_extension_types_are_rejected():
    for ext in (msgpack.ExtType(5, b"payload"), msgpack.Timestamp(10, 0)):
        hb = msgpack.packb({"tree": {"x": ext}, "tensors": []}, use_bin_type=True)
        _raises(seal(hb, b""), "extension type")
    # a reserved negative type other than the timestamp (-1), as raw bytes: fixext 1, type -2
    hb = msgpack.packb({"tree": {"x": None}, "tensors": []}).replace(b"\xc0", b"\xd4\xfe\x00")
    _raises(seal(hb, b""), "extension type -2")


def test_duplicate_keys_are_rejected():
    def packmap(pairs):
        out = bytes([0x80 | len(pairs)])
        for k, v in pairs:
            out += msgpack.packb(k) + msgpack.packb(v)
        return out

    hb = packmap([("tree", {}), ("tensors", []), ("tree", {})])
    _raises(seal(hb, b""), "duplicate map key 'tree'")
    inner = packmap([("a", 1), ("a", 2)])
    hb = packmap([("tree", None), ("tensors", [])]).replace(b"\xc0", inner)
    _raises(seal(hb, b""), "duplicate map key 'a'")


def test_trailing_bytes(valid, tmp_path):
    _raises(valid + b"\x00", "1 trailing bytes", tmp_path)
    _raises(valid + b"x" * 1000, "1000 trailing bytes")


# -- the other rules --------------------------------------------------------------------------------
def test_gap_overlap_and_unreferenced_bytes():
    a, b = W, IDX
    data = b.tobytes() + a.tobytes()
    ok = [record(["b"], b, 0), record(["a"], a, b.nbytes)]
    assert np.array_equal(loads(forge({"a": None, "b": None}, ok, data))["a"], a)
    gap = [record(["b"], b, 0), record(["a"], a, b.nbytes + 8)]
    _raises(forge({"a": None, "b": None}, gap, data + bytes(8)), "leaves a gap")
    overlap = [record(["b"], b, 0), record(["a"], a, 8)]
    _raises(forge({"a": None, "b": None}, overlap, data), "overlaps")
    _raises(forge({"a": None, "b": None}, ok, data + bytes(8)), "unreferenced bytes")
    wrong = [record(["b"], b, 0, nbytes=b.nbytes - 8)]
    _raises(forge({"b": None}, wrong, b.tobytes()), "nbytes 32 does not match")
    small = np.arange(3, dtype=np.uint8)
    misaligned = [record(["s"], small, 0), record(["a"], a, 3)]
    _raises(forge({"s": None, "a": None}, misaligned, small.tobytes() + a.tobytes()), "not aligned")


def test_record_paths_must_point_at_placeholders():
    data = W.tobytes()
    for tree, path, needle in [
        ({"w": None}, ["v"], "does not lead into the tree"),
        ({"w": [None]}, ["w", 1], "does not lead into the tree"),
        ({"w": [None]}, ["w", "0"], "does not lead into the tree"),
        ({"w": 5}, ["w"], "not point at a tensor placeholder"),
        ({"w": None}, [], "invalid path"),
        ({"w": None}, ["w", True], "invalid path"),
        ({"w": None}, "w", "invalid path"),
    ]:
        _raises(forge(tree, [record(path, W)], data), needle)
    twice = [record(["w"], W, 0), record(["w"], W, W.nbytes)]
    _raises(forge({"w": None}, twice, data + data), "another record already used it")


def test_malformed_header_structure():
    for header, needle in [
        ([1, 2], "header must be a map"),
        ({"tree": {}}, "header must be a map with keys tree, tensors"),
        ({"tree": {}, "tensors": [], "x": 1}, "header must be a map"),
        ({"tree": [], "tensors": []}, "tree must be a map"),
        ({"tree": {}, "tensors": {}}, "'tensors' must be a list"),
        ({"tree": {}, "tensors": [5]}, "expected keys"),
        ({"tree": {"w": None}, "tensors": [{**record(["w"], W), "extra": 1}]}, "expected keys"),
        (
            {"tree": {"w": None}, "tensors": [record(["w"], W, sha256=b"short")]},
            "sha256 must be 32 bytes",
        ),
        ({"tree": {"w": None}, "tensors": [record(["w"], W, offset=-1)]}, "non-negative"),
        ({"tree": {"w": None}, "tensors": [record(["w"], W, offset=1.0)]}, "non-negative"),
        ({"tree": {"w": None}, "tensors": [record(["w"], W, dtype=7)]}, "is not allowed"),
        ({"tree": {"w": None}, "tensors": [record(["w"], W, shape="3,4")]}, "shape must be a list"),
        ({"tree": {"w": None}, "tensors": [record(["w"], W, shape=[3.0, 4])]}, "invalid shape"),
        ({"tree": {"w": None}, "tensors": [record(["w"], W, shape=[True, 4])]}, "nbytes|invalid"),
    ]:
        _raises(seal(msgpack.packb(header, use_bin_type=True), W.tobytes()), needle)


def test_msgpack_level_violations():
    # a non-string key, invalid UTF-8, an integer map key, garbage after the header object
    _raises(seal(b"\x81\x01\x02", b""), "invalid header|invalid msgpack header")
    _raises(seal(b"\x81\xa2\xff\xfe\x01", b""), "not valid UTF-8")
    _raises(seal(b"\x81\xc4\x01a\x01", b""), "is not a str|invalid")
    _raises(
        seal(msgpack.packb({"tree": {}, "tensors": []}) + b"\xc0", b""), "invalid msgpack header"
    )
    _raises(seal(b"\xdd\xff\xff\xff\xff", b""), "invalid msgpack header")  # array of 4G items
    _raises(seal(b"\x91" * 5000 + b"\xc0", b""), "invalid msgpack header|deeper")


def test_deep_nesting_is_bounded():
    tree: dict = {}
    node = tree
    for _ in range(ck.MAX_DEPTH + 10):
        node["a"] = {}
        node = node["a"]
    _raises(forge(tree, [], b""), "nested deeper")
    deep = [[[]]]
    for _ in range(ck.MAX_DEPTH + 10):
        deep = [deep]
    with pytest.raises(CheckpointError, match="nested deeper"):
        ck.encode_tree({"x": deep})


def test_nonzero_padding(valid):
    header, data = split_file(valid)
    hb = msgpack.packb(header)
    pad = -(fmt.PREFIX_SIZE + len(hb)) % fmt.ALIGN
    if pad == 0:
        hb = msgpack.packb({**header, "tree": {**header["tree"], "pad": "xy"}})
        pad = -(fmt.PREFIX_SIZE + len(hb)) % fmt.ALIGN
    assert pad > 0
    _raises(seal(hb, data, padding=b"\x01" + bytes(pad - 1)), "non-zero padding")


def test_payload_level_tags_are_validated(tmp_path):
    for tree, needle in [
        ({"x": {"\x00tuple": 5}}, "malformed tuple"),
        ({"x": {"\x00int": "12a"}}, "malformed integer"),
        ({"x": {"\x00int": "1" * 5000}}, "malformed integer"),
        ({"x": {"\x00map": [[1]]}}, "malformed mapping entry"),
        ({"x": {"\x00map": [[[1], 2]]}}, "not hashable"),
        ({"x": {"\x00map": [[1, 2], [1, 3]]}}, "duplicate mapping key"),
        ({"x": {"\x00scalar": 1.0}}, "malformed numpy scalar"),
        ({"x": {"\x00other": 1}}, "reserved"),
        ({"x": {"\x00tuple": [], "y": 1}}, "reserved"),
    ]:
        path = tmp_path / "t.swets"
        path.write_bytes(dumps(tree))
        with pytest.raises(CheckpointError, match=needle):
            ck.load_payload(path)


def test_fixture_hash_helper_matches_the_writer():
    # the forger and the writer agree on a simple file, so the fixtures above test the reader's rules
    blob = forge({"w": None}, [record(["w"], W)], W.tobytes())
    assert loads(blob)["w"].tobytes() == W.tobytes()
    assert blob[:8] == MAGIC and hashlib.sha256(W.tobytes()).digest() in blob
