"""The swets msgpack checkpoint container: writer and validating reader.

Layout (all integers little-endian; the byte-exact description is ``docs/checkpoint-format.md``)::

    offset  size  field
    0       8     magic            89 53 57 45 54 53 0D 0A  ("\\x89SWETS\\r\\n")
    8       4     version          uint32, CONTAINER_VERSION (1)
    12      4     flags            uint32, must be 0
    16      8     header_length    uint64, bytes of the msgpack header
    24      8     data_length      uint64, bytes of the tensor data section
    32      32    header_sha256    SHA-256 of the header bytes
    64      H     header           msgpack map {"tree": ..., "tensors": [record, ...]}
    64+H    P     padding          zero bytes up to the next multiple of 64
    D       L     data             the tensors' bytes, back to back, in record order
    D+L           end of file      (nothing may follow)

Each tensor record is a map ``{"path", "dtype", "shape", "offset", "nbytes", "sha256"}``; the
tensor is placed in the tree at ``path``, where the tree holds ``None``.

The reader checks everything before it trusts anything: the magic, the version, the sizes against
the real file size (no truncation, no trailing bytes), the header hash before unpacking it, msgpack
limits derived from the header's size, string keys and strict UTF-8, no extension types, no
duplicate keys, the dtype allow-list, shapes and lengths with Python integers (the element count is
bounded by the bytes that remain *before* anything is allocated), contiguous records with no gap or
overlap, and every tensor's SHA-256. Arrays are views of one buffer holding the data section
(``np.frombuffer``-style, no per-tensor copy); with ``mmap=True`` they are copy-on-write views of the
mapped file.
"""

from __future__ import annotations

import hashlib
import io
import mmap as _mmap
import os
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, BinaryIO

import msgpack
import numpy as np

from swets_core.atomic import atomic_write
from swets_core.errors import CheckpointError
from swets_core.plaindata import (
    ALLOWED_DTYPES,
    MAX_DEPTH,
    check_array,
    check_depth,
    check_text,
    format_path,
)
from swets_core.serializer import open_checkpoint

if TYPE_CHECKING:
    from concurrent.futures import Future

MAGIC = b"\x89SWETS\r\n"
CONTAINER_VERSION = 1
SUPPORTED_VERSIONS = (1,)
ALIGN = 64
PREFIX = struct.Struct("<8sIIQQ32s")
PREFIX_SIZE = PREFIX.size  # 64
RECORD_KEYS = frozenset({"path", "dtype", "shape", "offset", "nbytes", "sha256"})
HEADER_KEYS = frozenset({"tree", "tensors"})
MAX_NDIM = 32
HASH_IN_THREADS_BYTES = 1 << 20
"""Tensors at least this large are hashed on worker threads (hashlib releases the GIL)."""
READ_CHUNK = 16 << 20
TREE_OBJECTS = 250_000
"""Objects (containers and scalars) a payload tree may hold beside its tensors' share: the model
configuration, the metadata, the counters and per-epoch records of a training state..."""
OBJECTS_PER_TENSOR = 64
"""Objects each tensor record adds to what the tree may hold (its placeholder and name, the
optimizer's per-parameter entries...)."""

_DTYPES: dict[str, np.dtype] = {n: np.dtype(n).newbyteorder("<") for n in ALLOWED_DTYPES}
_INT_MIN, _UINT_MAX = -(2**63), 2**64 - 1
_ZERO_DIGEST = bytes(32)
_MAX_EXTENT = 2**63 - 1
_RECORD_OBJECTS = 2 * (MAX_DEPTH + 1 + MAX_NDIM) + 32  # a record's map, path, shape and scalars


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _threads(requested: int | None) -> int:
    if requested is not None:
        return max(1, int(requested))
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(4, n))


# -- writing --------------------------------------------------------------------------------------
def _split(value: Any, path: list[Any], arrays: list[tuple[list[Any], np.ndarray]]) -> Any:
    """Copy the tree with every array replaced by None; collect (path, little-endian C array).

    The rules are core's (:mod:`swets_core.plaindata`): depth, UTF-8 text and the dtype allow-list.
    """
    check_depth(path)
    if value is None or isinstance(value, (bool, float, bytes)):
        return value
    if isinstance(value, str):
        return check_text(value, path)
    if isinstance(value, int):
        if not _INT_MIN <= value <= _UINT_MAX:
            raise CheckpointError(
                f"{format_path(path)}: integer {value} does not fit in 64 bits "
                "(swets_core.plaindata.encode_tree stores big integers)"
            )
        return int(value)
    if isinstance(value, np.ndarray):
        name = check_array(value, format_path(path))
        arr = value if value.flags.c_contiguous else value.copy(order="C")  # keeps 0-d shapes
        if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not _LITTLE):
            arr = arr.astype(_DTYPES[name])
        arrays.append((list(path), arr))
        return None
    if isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            path.append(i)
            out.append(_split(v, path, arrays))
            path.pop()
        return out
    if isinstance(value, Mapping):
        res: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise CheckpointError(
                    f"{format_path(path)}: dict key {k!r:.60} is not a str (plain payloads have str "
                    "keys; swets_core.plaindata.encode_tree encodes other keys)"
                )
            path.append(k)
            res[k] = _split(v, path, arrays)
            path.pop()
        return res
    raise CheckpointError(
        f"{format_path(path)}: a value of type {type(value).__name__} is not plain data "
        "(None, bool, int, float, str, bytes, numpy array, list, dict with str keys)"
    )


_LITTLE = np.little_endian


def _digest(buf: Any) -> bytes:
    return hashlib.sha256(buf).digest()


def _bytes_view(arr: np.ndarray) -> np.ndarray:
    return arr.reshape(-1).view(np.uint8)


def write(f: BinaryIO, payload: Mapping[str, Any], threads: int | None = None) -> None:
    """Write ``payload`` (plain data, see :class:`swets_core.protocols.Serializer`) to ``f``.

    ``f`` must be seekable and positioned at 0. Tensors are ordered by decreasing item size, so
    every tensor is aligned to its item size within the 64-byte aligned data section; large ones
    are hashed on worker threads while the bytes are written.
    """
    if not isinstance(payload, Mapping):
        raise CheckpointError(f"a payload must be a mapping, got {type(payload).__name__}")
    arrays: list[tuple[list[Any], np.ndarray]] = []
    tree = _split(payload, [], arrays)
    arrays.sort(key=lambda pa: -pa[1].dtype.itemsize)  # stable: tree order within an item size
    records = []
    offset = 0
    for path, arr in arrays:
        records.append(
            {
                "path": path,
                "dtype": arr.dtype.name,
                "shape": list(arr.shape),
                "offset": offset,
                "nbytes": arr.nbytes,
                "sha256": _ZERO_DIGEST,
            }
        )
        offset += arr.nbytes
    data_length = offset
    header = {"tree": tree, "tensors": records}
    header_length = len(_pack(header))  # digests are fixed-size bin fields: the length is final
    data_start = _align(PREFIX_SIZE + header_length)

    n_threads = _threads(threads)
    big = sum(a.nbytes for _, a in arrays if a.nbytes >= HASH_IN_THREADS_BYTES)
    pool = _pool(n_threads) if n_threads > 1 and big >= 2 * HASH_IN_THREADS_BYTES else None
    try:
        digests: list[bytes | Future[bytes]] = []
        for _, arr in arrays:
            view = _bytes_view(arr)
            if pool is not None and arr.nbytes >= HASH_IN_THREADS_BYTES:
                digests.append(pool.submit(_digest, view))
            else:
                digests.append(b"")  # hashed below, after the large ones are queued
        for i, (_, arr) in enumerate(arrays):
            if digests[i] == b"":
                digests[i] = _digest(_bytes_view(arr))
        f.write(bytes(data_start))
        for _, arr in arrays:
            if arr.nbytes:
                f.write(_bytes_view(arr))
        for rec, d in zip(records, digests):
            rec["sha256"] = d if isinstance(d, bytes) else d.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    header_bytes = _pack(header)
    if len(header_bytes) != header_length:  # pragma: no cover - msgpack bin32 fields are fixed
        raise CheckpointError("internal error: header length changed after hashing")
    f.seek(0)
    f.write(
        PREFIX.pack(MAGIC, CONTAINER_VERSION, 0, header_length, data_length, _digest(header_bytes))
    )
    f.write(header_bytes)
    f.seek(0, io.SEEK_END)


def _pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True, strict_types=False)


def save(path: str, payload: Mapping[str, Any], threads: int | None = None, fsync: bool = True) -> None:  # fmt: skip
    """Write ``payload`` to ``path`` crash-safely (temp file, fsync, atomic replace, dir fsync)."""
    with atomic_write(path, fsync=fsync) as f:
        write(f, payload, threads)


def dumps(payload: Mapping[str, Any]) -> bytes:
    """The file bytes :func:`save` would write for ``payload``."""
    buf = io.BytesIO()
    write(buf, payload, threads=1)
    return buf.getvalue()


# -- reading --------------------------------------------------------------------------------------
class _RejectedError(Exception):
    """Raised inside msgpack hooks; turned into a CheckpointError."""


def _ext_hook(code: int, data: bytes) -> Any:
    raise _RejectedError(f"msgpack extension type {code} is not allowed")


def _pairs_hook(pairs: list[tuple[Any, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[Any] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _RejectedError(f"duplicate map key {dup!r:.60}")
    for k in out:
        if not isinstance(k, str):
            raise _RejectedError(f"map key {k!r:.60} is not a str")
    return out


class _Count:
    """The objects a header has decoded so far, against a limit (msgpack's container hooks)."""

    __slots__ = ("count", "limit", "what")

    def __init__(self, limit: int, what: str) -> None:
        self.count, self.limit, self.what = 0, limit, what

    def add(self, n: int) -> None:
        self.count += n
        if self.count > self.limit:
            raise _RejectedError(f"{self.what} holds more than {self.limit:,} objects")

    def list_hook(self, items: list[Any]) -> list[Any]:
        self.add(1 + len(items))
        return items

    def pairs_hook(self, pairs: list[tuple[Any, Any]]) -> dict[str, Any]:
        self.add(1 + 2 * len(pairs))
        return _pairs_hook(pairs)


def _unpacker(data: bytes, count: _Count | None, max_len: int) -> msgpack.Unpacker:
    """An unpacker over ``data`` with every limit: no container longer than ``max_len`` (nor than
    ``data``), and with ``count``, no more objects in all than its limit."""
    n = len(data)
    unp = msgpack.Unpacker(
        None,
        raw=False,
        strict_map_key=True,
        use_list=True,
        object_pairs_hook=_pairs_hook if count is None else count.pairs_hook,
        list_hook=None if count is None else count.list_hook,
        ext_hook=_ext_hook,
        max_buffer_size=max(n, 1),
        max_str_len=n,
        max_bin_len=n,
        max_array_len=min(n, max_len),
        max_map_len=min(n // 2, max_len),
        max_ext_len=n,
    )
    unp.feed(data)
    return unp


def _invalid(exc: BaseException, source: str, where: str = "") -> CheckpointError:
    at = f" ({where})" if where else ""
    if isinstance(exc, _RejectedError):
        return CheckpointError(f"{source}: invalid header{at}: {exc}")
    if isinstance(exc, UnicodeDecodeError):
        return CheckpointError(f"{source}: invalid header{at}: a string is not valid UTF-8 ({exc})")
    return CheckpointError(f"{source}: invalid msgpack header{at} ({type(exc).__name__}: {exc})")


_UNPACK_ERRORS = (
    _RejectedError,
    ValueError,
    TypeError,
    msgpack.UnpackException,
    RecursionError,
    MemoryError,
)
_STR_TYPES = frozenset(range(0xA0, 0xC0)) | {0xD9, 0xDA, 0xDB}
_MAP_TYPES = frozenset(range(0x80, 0x90)) | {0xDE, 0xDF}


def _header_spans(data: bytes, source: str) -> dict[str, tuple[int, int]]:
    """Where the values of the header map's keys lie in ``data``, found without decoding them."""
    unp = _unpacker(data, None, 0)
    try:
        n = unp.read_map_header()
    except _UNPACK_ERRORS:  # not a map: say what it is, decoding no more than a few objects
        try:
            got = type(_unpacker(data, _Count(64, "the header"), 16).unpack()).__name__
        except _UNPACK_ERRORS as exc:
            raise _invalid(exc, source) from None
        raise CheckpointError(
            f"{source}: header must be a map with keys tree, tensors; got {got}"
        ) from None
    spans: dict[str, tuple[int, int]] = {}
    try:
        for _ in range(min(n, len(HEADER_KEYS) + 1)):
            pos = unp.tell()
            if data[pos] not in _STR_TYPES:
                raise _RejectedError("the keys of the header map must be str (tree, tensors)")
            key = unp.unpack()
            if key in spans:
                raise _RejectedError(f"duplicate map key {key!r:.60}")
            start = unp.tell()
            unp.skip()  # nothing is built: the value is decoded later, within its limits
            spans[key] = (start, unp.tell())
        if n == len(HEADER_KEYS) and unp.tell() != len(data):
            raise CheckpointError(
                f"{source}: invalid msgpack header: {len(data) - unp.tell()} extra byte(s) after "
                "the header map"
            )
    except CheckpointError:
        raise
    except (*_UNPACK_ERRORS, IndexError) as exc:
        raise _invalid(exc, source) from None
    if n != len(HEADER_KEYS) or set(spans) != HEADER_KEYS:
        raise CheckpointError(
            f"{source}: header must be a map with keys tree, tensors; got {n} key(s): "
            f"{', '.join(map(repr, sorted(spans)))}"
        )
    return spans


def _unpack_tree(data: bytes, source: str, n_records: int) -> dict[str, Any]:
    """Decode the payload tree, at most ``TREE_OBJECTS + OBJECTS_PER_TENSOR * n_records`` objects."""
    limit = TREE_OBJECTS + OBJECTS_PER_TENSOR * n_records
    count = _Count(limit, f"the payload tree ({n_records:,} tensor(s))")
    unp = _unpacker(data, count, limit)
    try:
        tree = unp.unpack()
    except _UNPACK_ERRORS as exc:
        if isinstance(exc, ValueError) and "exceeds max_" in str(exc):  # one container too long
            raise CheckpointError(
                f"{source}: invalid header: {count.what} holds more than {limit:,} objects ({exc})"
            ) from None
        raise _invalid(exc, source) from None
    if not isinstance(tree, dict):
        raise CheckpointError(f"{source}: the payload tree must be a map")
    _check_tree(tree, 1, source)
    return tree


def _check_tree(value: Any, depth: int, source: str) -> None:
    """Only plain msgpack types (no Timestamp extension objects), bounded depth."""
    if depth > MAX_DEPTH + 2:
        raise CheckpointError(f"{source}: header nested deeper than {MAX_DEPTH} levels")
    items = value.values() if isinstance(value, dict) else value
    for v in items:
        if isinstance(v, (dict, list)):
            _check_tree(v, depth + 1, source)
        elif not (v is None or isinstance(v, (bool, int, float, str, bytes))):
            raise CheckpointError(
                f"{source}: header holds a {type(v).__name__} (extension types are not allowed)"
            )


class _Record:
    __slots__ = ("digest", "dtype", "index", "nbytes", "offset", "path", "shape")

    def __init__(self, index: int, path: tuple[Any, ...], dtype: np.dtype, shape: tuple[int, ...], offset: int, nbytes: int, digest: bytes) -> None:  # fmt: skip
        self.index, self.path, self.dtype, self.shape = index, path, dtype, shape
        self.offset, self.nbytes, self.digest = offset, nbytes, digest

    def name(self) -> str:
        return f"tensor record {self.index} ({format_path(self.path)})"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _records(data: bytes, data_length: int, source: str) -> list[_Record]:
    """The tensor records, decoded one at a time (a record is a small map of fixed keys)."""
    objects = _Count(0, "a tensor record")
    unp = _unpacker(data, objects, MAX_DEPTH + 1)
    try:
        n = unp.read_array_header()
    except _UNPACK_ERRORS:
        raise CheckpointError(f"{source}: header field 'tensors' must be a list") from None
    out: list[_Record] = []
    expected_offset = 0
    for i in range(n):
        objects.limit = objects.count + _RECORD_OBJECTS
        try:
            rec = unp.unpack()
        except _UNPACK_ERRORS as exc:
            raise _invalid(exc, source, f"tensor record {i}") from None
        record = _record(i, rec, expected_offset, data_length, source)
        out.append(record)
        expected_offset = record.offset + record.nbytes
    if expected_offset != data_length:
        raise CheckpointError(
            f"{source}: the tensors account for {expected_offset} bytes but the data section holds "
            f"{data_length} (unreferenced bytes)"
        )
    return out


def _record(i: int, rec: Any, expected_offset: int, data_length: int, source: str) -> _Record:
    """Check one decoded tensor record (rule 7 of the format) against the data section."""

    def bad(message: str, path: Any = None) -> CheckpointError:
        at = f" ({format_path(path)})" if path is not None else ""
        return CheckpointError(f"{source}: tensor record {i}{at}: {message}")

    if not isinstance(rec, dict) or rec.keys() != RECORD_KEYS:
        got = sorted(rec) if isinstance(rec, dict) else type(rec).__name__
        raise bad(f"expected keys {sorted(RECORD_KEYS)}, got {got}")
    path = rec["path"]
    if (
        not isinstance(path, list)
        or not path
        or len(path) > MAX_DEPTH + 1
        or not all(isinstance(s, str) or (_is_int(s) and s >= 0) for s in path)
    ):
        raise bad(f"invalid path {path!r:.80}")
    dtype_name = rec["dtype"]
    dtype = _DTYPES.get(dtype_name) if isinstance(dtype_name, str) else None
    if dtype is None:
        raise bad(
            f"dtype {dtype_name!r:.40} is not allowed (allowed: {', '.join(ALLOWED_DTYPES)})", path
        )
    shape = rec["shape"]
    if not isinstance(shape, list) or len(shape) > MAX_NDIM:
        raise bad(f"shape must be a list of at most {MAX_NDIM} sizes", path)
    if not all(_is_int(d) and 0 <= d < 2**63 for d in shape):
        raise bad(f"invalid shape {shape!r:.120}", path)
    offset, nbytes, digest = rec["offset"], rec["nbytes"], rec["sha256"]
    if not _is_int(offset) or not _is_int(nbytes) or offset < 0 or nbytes < 0:
        raise bad("offset and nbytes must be non-negative integers", path)
    if not isinstance(digest, bytes) or len(digest) != 32:
        raise bad("sha256 must be 32 bytes", path)
    if offset != expected_offset:
        what = "overlaps the previous tensor" if offset < expected_offset else "leaves a gap"
        raise bad(
            f"offset {offset} {what} (expected {expected_offset}: tensors are stored back to back)",
            path,
        )
    remaining = data_length - offset
    itemsize = dtype.itemsize
    count = 0 if 0 in shape else 1
    if count:
        limit = remaining // itemsize
        for d in shape:
            count *= d
            if count > limit:
                raise bad(
                    f"shape {shape} of {dtype_name} needs more than the {remaining} bytes of "
                    "tensor data that remain in the file",
                    path,
                )
    # numpy refuses a shape whose non-zero sizes multiply (with the item size) beyond
    # 2**63 - 1, even when a zero size makes it empty
    extent = itemsize
    for d in shape:
        extent *= d or 1
        if extent > _MAX_EXTENT:
            raise bad(
                f"shape {shape!r:.120} of {dtype_name} is too large for an array (its sizes "
                "multiply beyond 2**63 bytes)",
                path,
            )
    if nbytes != count * itemsize:
        raise bad(
            f"nbytes {nbytes} does not match shape {shape} of {dtype_name} "
            f"({count * itemsize} bytes)",
            path,
        )
    if offset % itemsize:
        raise bad(f"offset {offset} is not aligned to {itemsize} bytes", path)
    return _Record(i, tuple(path), dtype, tuple(shape), offset, nbytes, digest)


def _has(node: Any, step: Any) -> bool:
    if isinstance(node, dict):
        return isinstance(step, str) and step in node
    return isinstance(node, list) and _is_int(step) and step < len(node)


def _place(tree: Any, rec: _Record, array: np.ndarray, source: str) -> None:
    node = tree
    for i, step in enumerate(rec.path):
        if not _has(node, step):
            raise CheckpointError(f"{source}: {rec.name()}: the path does not lead into the tree")
        if i < len(rec.path) - 1:
            node = node[step]
    last = rec.path[-1]
    if node[last] is not None:
        raise CheckpointError(
            f"{source}: {rec.name()}: the path does not point at a tensor placeholder "
            "(it holds a value, or another record already used it)"
        )
    node[last] = array


def _read_exact(f: Any, n: int, source: str, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise CheckpointError(f"{source}: truncated while reading the {what} (file changed?)")
    return data


def read(f: Any, size: int, source: str, *, mmap_fd: int | None = None, threads: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Read and validate a checkpoint of ``size`` bytes from the binary file ``f`` (at offset 0).

    Raises:
        CheckpointError: on any violation of the format, naming the file and what is wrong.
    """
    if size < PREFIX_SIZE:
        head = f.read(min(size, len(MAGIC)))
        if not MAGIC.startswith(head):
            raise CheckpointError(
                f"{source}: not a swets msgpack checkpoint (starts with {head!r}, expected {MAGIC!r})"
            )
        raise CheckpointError(
            f"{source}: truncated or not a checkpoint: {size} bytes, the fixed prefix alone is "
            f"{PREFIX_SIZE}"
        )
    prefix = _read_exact(f, PREFIX_SIZE, source, "prefix")
    magic, version, flags, header_length, data_length, header_digest = PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise CheckpointError(
            f"{source}: not a swets msgpack checkpoint (magic {magic!r}, expected {MAGIC!r})"
        )
    if version not in SUPPORTED_VERSIONS:
        raise CheckpointError(
            f"{source}: container version {version} is not supported by swets-serde-msgpack "
            f"(it reads version {', '.join(map(str, SUPPORTED_VERSIONS))}); upgrade swets"
        )
    if flags != 0:
        raise CheckpointError(f"{source}: unknown flags {flags:#x} (must be 0 in version 1)")
    if header_length == 0 or header_length > size - PREFIX_SIZE:
        raise CheckpointError(
            f"{source}: declared header length {header_length} does not fit in the file "
            f"({size} bytes): truncated or corrupt"
        )
    data_start = _align(PREFIX_SIZE + header_length)
    end = data_start + data_length
    if end > size:
        raise CheckpointError(
            f"{source}: truncated: the prefix declares {end} bytes (header {header_length}, "
            f"tensor data {data_length}) but the file has {size}"
        )
    if end < size:
        raise CheckpointError(
            f"{source}: {size - end} trailing bytes after the end of the checkpoint ({end} bytes)"
        )
    header_bytes = _read_exact(f, header_length, source, "header")
    if _digest(header_bytes) != header_digest:
        raise CheckpointError(f"{source}: header SHA-256 mismatch: the file is corrupt")
    spans = _header_spans(header_bytes, source)
    if header_bytes[spans["tree"][0]] not in _MAP_TYPES:
        raise CheckpointError(f"{source}: the payload tree must be a map")
    t0, t1 = spans["tensors"]
    records = _records(header_bytes[t0:t1], data_length, source)
    t0, t1 = spans["tree"]
    tree = _unpack_tree(header_bytes[t0:t1], source, len(records))
    del header_bytes
    padding = _read_exact(f, data_start - PREFIX_SIZE - header_length, source, "padding")
    if padding.count(0) != len(padding):
        raise CheckpointError(f"{source}: non-zero padding bytes before the tensor data")
    if not records:
        return tree
    if mmap_fd is not None:
        mapped = _mmap.mmap(mmap_fd, 0, access=_mmap.ACCESS_COPY)
        if len(mapped) != size:
            raise CheckpointError(f"{source}: the file changed size while being read")
        data = np.frombuffer(mapped, np.uint8, data_length, data_start)
        _verify(records, data, None, threads, source)
    else:
        data = np.empty(data_length, np.uint8)
        _verify(records, data, f, threads, source)
    for rec in records:
        arr = data[rec.offset : rec.offset + rec.nbytes].view(rec.dtype).reshape(rec.shape)
        _place(tree, rec, arr, source)
    return tree


def _pool(n_threads: int) -> Any:
    """A thread pool hashing large tensors (imported here: a small file never needs one, and
    the import costs a process that only loads a checkpoint a few milliseconds)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(n_threads)


def _verify(records: list[_Record], data: np.ndarray, f: Any, threads: int | None, source: str) -> None:  # fmt: skip
    """Fill ``data`` from ``f`` (unless None: already mapped) and check every tensor's SHA-256."""
    n_threads = _threads(threads)
    total = len(data)
    pool = _pool(n_threads) if n_threads > 1 and total >= 4 * HASH_IN_THREADS_BYTES else None
    pending: list[tuple[_Record, Future[bytes]]] = []
    bad: list[_Record] = []

    def check(rec: _Record) -> None:
        view = data[rec.offset : rec.offset + rec.nbytes]
        if pool is not None and rec.nbytes >= HASH_IN_THREADS_BYTES:
            pending.append((rec, pool.submit(_digest, view)))
        elif _digest(view) != rec.digest:
            bad.append(rec)

    try:
        if f is None:
            for rec in sorted(records, key=lambda r: -r.nbytes):
                check(rec)
        else:
            mv = memoryview(data)
            pos, nxt = 0, 0
            while pos < total:
                got = f.readinto(mv[pos : min(total, pos + READ_CHUNK)])
                if not got:
                    raise CheckpointError(f"{source}: truncated while reading tensor data")
                pos += got
                while nxt < len(records) and records[nxt].offset + records[nxt].nbytes <= pos:
                    check(records[nxt])
                    nxt += 1
            while nxt < len(records):  # trailing empty tensors
                check(records[nxt])
                nxt += 1
        for rec, fut in pending:
            if fut.result() != rec.digest:
                bad.append(rec)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if bad:
        names = ", ".join(r.name() for r in sorted(bad, key=lambda r: r.index)[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise CheckpointError(f"{source}: SHA-256 mismatch in {names}{more}: the file is corrupt")


def load(path: str, *, mmap: bool = False, threads: int | None = None) -> dict[str, Any]:
    """Read and validate the checkpoint at ``path`` (see :func:`read`)."""
    f = open_checkpoint(path)  # regular files only: a named pipe must not block the open
    with f:
        size = os.fstat(f.fileno()).st_size
        return read(f, size, path, mmap_fd=f.fileno() if mmap else None, threads=threads)


def loads(data: bytes | bytearray | memoryview) -> dict[str, Any]:
    """Read and validate checkpoint bytes held in memory."""
    buf = io.BytesIO(data)
    return read(buf, len(buf.getbuffer()), "<bytes>")
