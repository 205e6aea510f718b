"""The plain-data codec of checkpoints: what a serializer stores, and the checks every writer applies.

*Plain data* is what every checkpoint serializer stores: ``None``, ``bool``, ``int`` (64-bit signed),
``float``, ``str`` (UTF-8), ``bytes``, numpy arrays of a dtype in :data:`ALLOWED_DTYPES`, lists, and
dicts with ``str`` keys, nested at most :data:`MAX_DEPTH` levels.

* :func:`encode_tree` / :func:`decode_tree`: the lossless mapping between rich Python values (tuples,
  non-string keys, big integers, numpy scalars) and plain data (``docs/checkpoint-format.md``).
* The checks, public so that a serializer's own writer and reader apply the same rules with the same
  messages instead of re-stating them: :func:`format_path` (where a value sits, ``training.rng[2]``),
  :func:`check_depth`, :func:`check_text` (UTF-8) and :func:`check_array` (the dtype allow-list).

Nothing here reads or writes files, and nothing here executes code from data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from swets_core.autograd import Tensor
from swets_core.errors import CheckpointError

MAX_DEPTH = 100
"""Deepest nesting of containers a payload may have (deeper files are rejected, not recursed into)."""

ALLOWED_DTYPES: tuple[str, ...] = (
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
)
"""Array dtypes a checkpoint may hold. Never object, structured, string, datetime or void dtypes."""

_ALLOWED_NP = {np.dtype(n) for n in ALLOWED_DTYPES}

# Tags of the plain encoding: a dict whose only key is one of these stands for a richer value.
# Ordinary dicts with a key starting with "\x00" are escaped into the _TAG_MAP form, so the tags
# are unambiguous.
_TAG_TUPLE = "\x00tuple"
_TAG_MAP = "\x00map"
_TAG_INT = "\x00int"
_TAG_SCALAR = "\x00scalar"
_TAGS = (_TAG_TUPLE, _TAG_MAP, _TAG_INT, _TAG_SCALAR)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_MAX_INT_DIGITS = 4000

Path = tuple[Any, ...]


# -- the checks ----------------------------------------------------------------------------------
def format_path(path: Iterable[str | int]) -> str:
    """Where a value sits in a payload: ``training.optimizer.state[3]`` (``<root>`` for the top).

    ``path`` holds dict keys (``str``) and list indexes (``int``), outermost first.
    """
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "<root>"


def check_depth(path: Path | list[Any]) -> None:
    """Raise :class:`CheckpointError` when ``path`` is nested deeper than :data:`MAX_DEPTH`."""
    if len(path) > MAX_DEPTH:
        raise CheckpointError(f"{format_path(path)}: nested deeper than {MAX_DEPTH} levels")


def check_text(value: str, path: Path | list[Any]) -> str:
    """``value`` when it encodes as UTF-8 (no lone surrogates), else :class:`CheckpointError`."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CheckpointError(
            f"{format_path(path)}: string is not valid UTF-8 text ({exc})"
        ) from None
    return value


def check_array(value: np.ndarray, where: str) -> str:
    """The name of ``value``'s dtype (``"float32"``) when it is in :data:`ALLOWED_DTYPES`.

    Either byte order is accepted (the name is the same); ``where`` starts the error message.

    Raises:
        CheckpointError: an object, structured, sub-array, string, datetime, complex or void dtype.
    """
    dt = value.dtype
    if dt.fields is not None or dt.subdtype is not None or dt.newbyteorder("=") not in _ALLOWED_NP:
        raise CheckpointError(
            f"{where}: arrays of dtype {dt} cannot be stored in a checkpoint; "
            f"allowed dtypes: {', '.join(ALLOWED_DTYPES)}"
        )
    return dt.name


# -- encoding ------------------------------------------------------------------------------------
def encode_tree(value: Any, _path: Path = ()) -> Any:
    """Map a rich value to the plain data every serializer stores, losslessly.

    Plain data is: ``None``, ``bool``, ``int`` (64-bit signed), ``float``, ``str``, ``bytes``,
    numpy arrays of an allowed dtype, lists, and dicts with ``str`` keys. Beyond that this accepts
    (and :func:`decode_tree` gives back exactly): tuples, dicts with non-string keys (``int``,
    ``float``, ``bool``, ``None``, ``bytes``, tuples of those) or keys starting with ``"\\x00"``,
    integers of any size, and numpy scalars. ``bytearray``/``memoryview`` are stored as ``bytes`` and
    :class:`~swets_core.autograd.Tensor` values as their arrays.

    Raises:
        CheckpointError: naming the position of a value that cannot be stored (a set, an arbitrary
            object, an object-dtype array, a tree nested deeper than :data:`MAX_DEPTH`...).
    """
    check_depth(_path)
    if isinstance(value, np.generic):  # before float: np.float64 is a float subclass
        if isinstance(value, (np.str_, np.bytes_)):
            return encode_tree(value.item(), _path)
        arr = np.asarray(value)
        check_array(arr, format_path(_path))
        return {_TAG_SCALAR: arr}
    if value is None or isinstance(value, (bool, float, bytes)):
        return value
    if isinstance(value, str):
        return check_text(value, _path)
    if isinstance(value, int):
        value = int(value)
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
        return {_TAG_INT: str(value)}
    if isinstance(value, np.ndarray):
        check_array(value, format_path(_path))
        return value
    if isinstance(value, Tensor):
        check_array(value._data, format_path(_path))
        return value._data
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, list):
        return [encode_tree(v, (*_path, i)) for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {_TAG_TUPLE: [encode_tree(v, (*_path, i)) for i, v in enumerate(value)]}
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("\x00") for k in value):
            return {k: encode_tree(v, (*_path, k)) for k, v in value.items()}
        pairs = []
        for k, v in value.items():
            pairs.append([_encode_key(k, _path), encode_tree(v, (*_path, repr(k)))])
        return {_TAG_MAP: pairs}
    raise CheckpointError(
        f"{format_path(_path)}: a checkpoint cannot store a value of type {type(value).__name__}; "
        "it holds None, bool, int, float, str, bytes, numpy arrays and scalars of plain dtypes, "
        "lists, tuples and dicts"
    )


def _encode_key(key: Any, path: Path) -> Any:
    if key is None or isinstance(key, (bool, int, float, str, bytes)):
        return encode_tree(key, (*path, "<key>"))
    if isinstance(key, tuple):
        return {_TAG_TUPLE: [_encode_key(k, path) for k in key]}
    raise CheckpointError(
        f"{format_path(path)}: dict key {key!r} of type {type(key).__name__} cannot be stored; keys "
        "must be str, int, float, bool, None, bytes or tuples of those"
    )


# -- decoding ------------------------------------------------------------------------------------
def decode_tree(value: Any, _path: Path = ()) -> Any:
    """Inverse of :func:`encode_tree`: rebuild tuples, non-string keys, big ints, numpy scalars.

    Raises:
        CheckpointError: on a malformed tag, a value of a type plain data does not have, or nesting
            deeper than :data:`MAX_DEPTH`.
    """
    check_depth(_path)
    if value is None or isinstance(value, (bool, int, float, str, bytes, np.ndarray)):
        return value
    if isinstance(value, list):
        return [decode_tree(v, (*_path, i)) for i, v in enumerate(value)]
    if isinstance(value, dict):
        tagged = [k for k in value if not isinstance(k, str) or k.startswith("\x00")]
        if not tagged:
            return {k: decode_tree(v, (*_path, k)) for k, v in value.items()}
        if len(value) != 1 or tagged[0] not in _TAGS:
            raise CheckpointError(
                f"{format_path(_path)}: malformed payload: keys {sorted(map(repr, tagged))} are "
                "reserved for tagged values and must appear alone"
            )
        return _decode_tagged(tagged[0], value[tagged[0]], _path)
    raise CheckpointError(
        f"{format_path(_path)}: payload value of type {type(value).__name__} is not plain data"
    )


def _decode_tagged(tag: str, body: Any, path: Path) -> Any:
    where = format_path(path)
    if tag == _TAG_TUPLE:
        if not isinstance(body, list):
            raise CheckpointError(f"{where}: malformed tuple (expected a list)")
        return tuple(decode_tree(v, (*path, i)) for i, v in enumerate(body))
    if tag == _TAG_INT:
        digits = body[1:] if isinstance(body, str) and body.startswith("-") else body
        if (
            not isinstance(digits, str)
            or not 0 < len(digits) <= _MAX_INT_DIGITS
            or not (digits.isascii() and digits.isdigit())
        ):
            raise CheckpointError(f"{where}: malformed integer {body!r:.60}")
        return int(body)
    if tag == _TAG_SCALAR:
        if not isinstance(body, np.ndarray) or body.ndim != 0:
            raise CheckpointError(f"{where}: malformed numpy scalar (expected a 0-d array)")
        return body[()]
    # _TAG_MAP
    if not isinstance(body, list):
        raise CheckpointError(f"{where}: malformed mapping (expected a list of pairs)")
    out: dict[Any, Any] = {}
    for i, pair in enumerate(body):
        if not isinstance(pair, list) or len(pair) != 2:
            raise CheckpointError(f"{where}: malformed mapping entry {i} (expected [key, value])")
        key = decode_tree(pair[0], (*path, "<key>"))
        try:
            hash(key)
        except TypeError:
            raise CheckpointError(
                f"{where}: mapping key of type {type(key).__name__} is not hashable"
            ) from None
        if isinstance(key, np.generic) or key in out:
            reason = "numpy scalar" if isinstance(key, np.generic) else "duplicate"
            raise CheckpointError(f"{where}: {reason} mapping key {key!r:.60}")
        out[key] = decode_tree(pair[1], (*path, repr(key)))
    return out


__all__ = [
    "ALLOWED_DTYPES",
    "MAX_DEPTH",
    "check_array",
    "check_depth",
    "check_text",
    "decode_tree",
    "encode_tree",
    "format_path",
]
