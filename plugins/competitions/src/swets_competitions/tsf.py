"""The ``.tsf`` format of the Monash forecasting archive, and M4 read from the user's copy of it.

A ``.tsf`` file is text: ``#`` comment lines, a header of ``@`` lines, then one line per series::

    # comments
    @relation M4
    @attribute series_name string
    @attribute start_timestamp date
    @frequency yearly
    @horizon 6
    @missing false
    @equallength false
    @data
    Y1:1979-01-01 00-00-00:5172.1,5133.5,5186.9,...

Each data line holds the series' attribute values in ``@attribute`` order, then its values, all
separated by ``:``; the values are separated by ``,`` with ``?`` for a missing one. Attribute types are
``numeric``, ``string`` and ``date`` (``YYYY-MM-DD HH-MM-SS``). Nothing is downloaded: the reader takes
a path.
"""

from __future__ import annotations

import csv
import datetime as _dt
import os
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np

from swets_competitions.datasets import (
    CompetitionSplit,
    build_split,
    subset_spec,
)
from swets_core.errors import ConfigError, DataValidationError
from swets_core.lazy import exports_of

__all__ = exports_of(__name__)  # listed once, in the package's table of lazy exports

_TYPES = ("numeric", "string", "date")
_DATE_FORMAT = "%Y-%m-%d %H-%M-%S"


class TsfFormatError(DataValidationError):
    """A ``.tsf`` (or M4 ``.csv``) file breaks its format; the message names the file and line.

    Attributes:
        path: the file.
        line: the 1-based line number (None for a problem of the whole file).
    """

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")


@attrs.frozen(eq=False)
class TsfData:
    """The contents of a ``.tsf`` file.

    Attributes:
        path: the file read.
        relation: the ``@relation`` name (None if absent).
        attributes: ``(name, type)`` of every ``@attribute``, in order.
        frequency: the ``@frequency`` (None if absent), lower case.
        horizon: the ``@horizon`` (None if absent).
        missing: the ``@missing`` flag (False if absent).
        equal_length: the ``@equallength`` flag (False if absent).
        columns: attribute name -> one value per series (``numeric`` -> int or float, ``string``
            -> str, ``date`` -> ``datetime.datetime``).
        values: one (n_i,) float64 array per series; ``?`` is NaN.
        lines: the 1-based line of each series in the file.
    """

    path: str
    relation: str | None
    attributes: tuple[tuple[str, str], ...]
    frequency: str | None
    horizon: int | None
    missing: bool
    equal_length: bool
    columns: dict[str, list[Any]]
    values: list[np.ndarray]
    lines: list[int]

    def __len__(self) -> int:
        return len(self.values)

    @property
    def ids(self) -> tuple[str, ...]:
        """Series names: the ``series_name`` attribute, else the first string attribute, else
        ``"1"``, ``"2"``... in file order."""
        if "series_name" in self.columns:
            return tuple(str(v) for v in self.columns["series_name"])
        for name, kind in self.attributes:
            if kind == "string":
                return tuple(str(v) for v in self.columns[name])
        return tuple(str(i + 1) for i in range(len(self)))


def _flag(path: str, line: int, tag: str, value: str) -> bool:
    low = value.lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise TsfFormatError(path, line, f"{tag} must be true or false, got {value!r}")


def _frequency(path: str, line: int, tag: str, value: str) -> str:
    return value.lower()


def _horizon(path: str, line: int, tag: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise TsfFormatError(path, line, f"{tag} must be a positive integer, got {value!r}")
    return int(value)


_ONE_VALUE_TAGS: dict[str, tuple[str, Callable[[str, int, str, str], Any]]] = {
    "@frequency": ("frequency", _frequency),
    "@horizon": ("horizon", _horizon),
    "@missing": ("missing", _flag),
    "@equallength": ("equal_length", _flag),
}
"""The header tags of one value: the :class:`TsfData` field each sets, and its parser (called
with the file, the line number, the tag and the value)."""


def _attribute_value(path: str, line: int, name: str, kind: str, text: str) -> Any:
    if kind == "string":
        return text
    if kind == "numeric":
        try:
            number = float(text)
        except ValueError:
            raise TsfFormatError(
                path, line, f"attribute {name!r} (numeric) has the value {text!r}"
            ) from None
        return int(number) if number.is_integer() and "." not in text else number
    try:
        return _dt.datetime.strptime(text.strip(), _DATE_FORMAT)
    except ValueError:
        raise TsfFormatError(
            path,
            line,
            f"attribute {name!r} (date) has the value {text!r}; dates are written "
            "YYYY-MM-DD HH-MM-SS",
        ) from None


def _series_values(path: str, line: int, text: str, missing: bool) -> np.ndarray:
    tokens = [t.strip() for t in text.split(",")]
    if not tokens or tokens == [""]:
        raise TsfFormatError(path, line, "a series has no values after its attributes")
    arr = np.asarray(tokens)
    gaps = arr == "?"
    if gaps.any() and not missing:
        k = int(np.flatnonzero(gaps)[0])
        raise TsfFormatError(
            path, line, f"value {k + 1} is missing ('?') but the header says @missing false"
        )
    try:
        return np.where(gaps, "nan", arr).astype(np.float64)
    except ValueError:
        k = next(i for i, t in enumerate(tokens) if t != "?" and not _is_number(t))
        raise TsfFormatError(path, line, f"value {k + 1} ({tokens[k]!r}) is not a number") from None


def _read_text(path: str) -> list[str]:
    if not os.path.exists(path):
        raise ConfigError(f"cannot read {path}: no such file")
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().splitlines()
    except UnicodeDecodeError:
        with open(path, encoding="latin-1") as fh:
            return fh.read().splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def read_tsf(path: str | os.PathLike) -> TsfData:
    """Read a ``.tsf`` file (the format is described in the module docstring).

    Raises:
        ConfigError: the file does not exist or cannot be read.
        TsfFormatError: a malformed header or data line, naming the file and the line: an unknown
            ``@`` tag, an attribute type other than numeric/string/date, data before ``@data``, a
            data line with the wrong number of ``:`` fields, a value or attribute that does not
            parse, ``?`` under ``@missing false``, unequal lengths under ``@equallength true``, or
            no series at all.
    """
    path = os.fspath(path)
    lines = _read_text(path)
    header: dict[str, Any] = {
        "relation": None,
        "frequency": None,
        "horizon": None,
        "missing": False,
        "equal_length": False,
    }
    attributes: list[tuple[str, str]] = []
    columns: dict[str, list[Any]] = {}
    values: list[np.ndarray] = []
    where: list[int] = []
    in_data = False
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data and line.startswith("@"):
            parts = line.split()
            tag = parts[0].lower()
            if tag == "@data":
                if not attributes:
                    raise TsfFormatError(path, number, "@data comes before any @attribute line")
                in_data = True
                columns = {name: [] for name, _ in attributes}
                continue
            if tag == "@attribute":
                if len(parts) != 3:
                    raise TsfFormatError(path, number, "write @attribute NAME TYPE")
                name, kind = parts[1], parts[2].lower()
                if kind not in _TYPES:
                    raise TsfFormatError(
                        path, number, f"attribute type {parts[2]!r} is not one of {_TYPES}"
                    )
                if any(name == a for a, _ in attributes):
                    raise TsfFormatError(path, number, f"attribute {name!r} is declared twice")
                attributes.append((name, kind))
                continue
            if tag == "@relation":
                header["relation"] = line[len(parts[0]) :].strip() or None
                continue
            if len(parts) != 2:
                raise TsfFormatError(path, number, f"write {parts[0]} VALUE (one value)")
            if tag not in _ONE_VALUE_TAGS:
                raise TsfFormatError(
                    path,
                    number,
                    f"unknown header line {parts[0]!r}; known: @relation, @attribute, @frequency, "
                    "@horizon, @missing, @equallength, @data",
                )
            field, parse = _ONE_VALUE_TAGS[tag]
            header[field] = parse(path, number, tag, parts[1])
            continue
        if not in_data:
            raise TsfFormatError(path, number, "a data line before the @data line")
        fields = line.split(":")
        if len(fields) != len(attributes) + 1:
            raise TsfFormatError(
                path,
                number,
                f"expected {len(attributes)} attribute value(s) and the series, separated by "
                f"':', found {len(fields)} field(s)",
            )
        for (name, kind), text in zip(attributes, fields):
            columns[name].append(_attribute_value(path, number, name, kind, text))
        values.append(_series_values(path, number, fields[-1], header["missing"]))
        where.append(number)
    if not values:
        raise TsfFormatError(path, None, "no series (a .tsf file lists them after @data)")
    if header["equal_length"] and len({v.shape[0] for v in values}) > 1:
        k = next(i for i, v in enumerate(values) if v.shape[0] != values[0].shape[0])
        raise TsfFormatError(
            path,
            where[k],
            f"this series has {values[k].shape[0]} values, the first {values[0].shape[0]}, but "
            "the header says @equallength true",
        )
    return TsfData(
        path=path,
        attributes=tuple(attributes),
        columns=columns,
        values=values,
        lines=where,
        **header,
    )


def _read_m4_csv(path: str) -> tuple[list[str], list[np.ndarray], list[int]]:
    """The M4 competition's own CSV layout: a header row ``"V1","V2",...``, then one row per series,
    its name first, its values after (empty cells at the end of shorter rows)."""
    lines = _read_text(path)
    ids: list[str] = []
    values: list[np.ndarray] = []
    where: list[int] = []
    for number, row in enumerate(csv.reader(lines), start=1):
        if number == 1 or not row or not any(cell.strip() for cell in row):
            continue
        cells = [c.strip() for c in row]
        while cells and cells[-1] in ("", "NA"):
            cells.pop()
        if len(cells) < 2:
            raise TsfFormatError(path, number, "a row needs a series name and at least one value")
        try:
            arr = np.asarray(cells[1:]).astype(np.float64)
        except ValueError:
            bad = next(c for c in cells[1:] if not _is_number(c))
            raise TsfFormatError(
                path, number, f"series {cells[0]!r}: {bad!r} is not a number"
            ) from None
        ids.append(cells[0])
        values.append(arr)
        where.append(number)
    if not ids:
        raise TsfFormatError(path, None, "no series rows after the header")
    return ids, values, where


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_CALENDAR_STEPS = {
    "yearly": ("M", 12),
    "quarterly": ("M", 3),
    "monthly": ("M", 1),
    "weekly": ("s", 7 * 86_400),
    "daily": ("s", 86_400),
    "hourly": ("s", 3_600),
}
_NS_MIN = np.datetime64("1678-01-01T00:00:00", "s")
_NS_MAX = np.datetime64("2261-12-31T23:59:59", "s")


def _calendar(start: _dt.datetime, count: int, frequency: str) -> np.ndarray | None:
    """``count`` timestamps from ``start`` at the subset's frequency (datetime64[ns]), or None when
    they leave the nanosecond range of swets' timestamps."""
    unit, k = _CALENDAR_STEPS[frequency]
    first = np.datetime64(start.replace(tzinfo=None), "s")
    if unit == "M":
        month = first.astype("datetime64[M]")
        offset = first - month.astype("datetime64[s]")
        stamps = (month + np.arange(count) * k).astype("datetime64[s]") + offset
    else:
        stamps = first + np.arange(count, dtype=np.int64) * np.timedelta64(k, "s")
    if stamps[0] < _NS_MIN or stamps[-1] > _NS_MAX:
        return None
    return stamps.astype("datetime64[ns]")


def load_m4(
    path: str | os.PathLike,
    subset: str | None = None,
    *,
    test: str | os.PathLike | None = None,
) -> CompetitionSplit:
    """One M4 subset from your copy of its published files.

    Args:
        path: a ``.tsf`` file of one M4 frequency (``m4_monthly_dataset.tsf``...). Without ``test``
            it must hold the **whole** series (training part followed by the test part, as the
            Monash archive publishes M4): the last ``horizon`` values of each series are its test
            part. With ``test`` it holds the training parts only.
        subset: ``"yearly"``, ``"quarterly"``, ``"monthly"``, ``"weekly"``, ``"daily"`` or
            ``"hourly"``; default: the file's ``@frequency``. Both given must agree.
        test: the M4 test values: a ``.tsf`` file or the competition's own CSV (``Monthly-test.csv``:
            a header row, then the series name and its values per row), matched to ``path``'s series
            by name.

    Returns:
        A :class:`CompetitionSplit` with M4's horizon and season length. Series get calendar
        timestamps when every one has a ``start_timestamp`` attribute that keeps them inside the
        supported range (1678-2261); otherwise every series is position-indexed.

    Raises:
        ConfigError: a missing file, an unknown subset, no subset given nor in the file, or a
            subset that contradicts the file's ``@frequency``.
        TsfFormatError: a malformed file (named with the line).
        DataValidationError: an ``@horizon`` other than M4's, a missing value, a test file whose
            series do not match, or (without ``test``) a series too short to hold M4's minimum
            training length and the test part (the file then holds training parts only: pass
            ``test=``).
    """
    data = read_tsf(path)
    source = data.path
    if subset is None:
        if data.frequency is None:
            raise ConfigError(f"{source}: no @frequency line; pass subset= (e.g. 'monthly')")
        subset = data.frequency
    spec = subset_spec("m4", subset)
    sub = subset.lower()
    if data.frequency is not None and data.frequency != sub:
        raise ConfigError(
            f"{source}: the file's @frequency is {data.frequency!r} but subset {sub!r} was asked"
        )
    if data.horizon is not None and data.horizon != spec.horizon:
        raise DataValidationError(
            f"{source}: @horizon {data.horizon}, but M4 {sub} has horizon {spec.horizon}"
        )
    ids = data.ids
    h = spec.horizon
    if test is None:
        triples = []
        for sid, full, line in zip(ids, data.values, data.lines):
            if full.shape[0] < spec.min_train + h:
                raise DataValidationError(
                    f"{source}, line {line}: series {sid!r} has {full.shape[0]} values, fewer than "
                    f"M4's minimum {sub} training length {spec.min_train} plus the horizon {h}; "
                    "this file seems to hold the training parts only: pass the test values with "
                    "test="
                )
            triples.append((sid, full[:-h], full[-h:]))
    else:
        test_path = os.fspath(test)
        if test_path.lower().endswith(".csv"):
            t_ids, t_values, t_lines = _read_m4_csv(test_path)
        else:
            t_data = read_tsf(test_path)
            t_ids, t_values, t_lines = list(t_data.ids), t_data.values, t_data.lines
        by_id = {}
        for sid, arr, line in zip(t_ids, t_values, t_lines):
            if sid in by_id:
                raise TsfFormatError(test_path, line, f"series {sid!r} appears twice")
            by_id[sid] = arr
        missing_ids = [sid for sid in ids if sid not in by_id]
        extra_ids = sorted(set(by_id) - set(ids))
        if missing_ids or extra_ids:
            parts = []
            if missing_ids:
                parts.append(
                    f"{len(missing_ids)} series of {source} have no test values "
                    f"(first: {', '.join(missing_ids[:5])})"
                )
            if extra_ids:
                parts.append(
                    f"{len(extra_ids)} test series are not in {source} "
                    f"(first: {', '.join(extra_ids[:5])})"
                )
            raise DataValidationError(f"{test_path}: " + "; ".join(parts))
        triples = [(sid, x, by_id[sid]) for sid, x in zip(ids, data.values)]
        source = f"{source} + {test_path}"
    stamps = _m4_timestamps(data, triples, sub)
    return build_split("m4", sub, triples, source=source, timestamps=stamps)


def _m4_timestamps(
    data: TsfData, triples: Sequence[tuple[str, np.ndarray, np.ndarray]], subset: str
) -> list[tuple[np.ndarray, np.ndarray]] | None:
    starts = data.columns.get("start_timestamp")
    kinds = dict(data.attributes)
    if starts is None or kinds.get("start_timestamp") != "date":
        return None
    out = []
    for start, (_, x, xx) in zip(starts, triples):
        stamps = _calendar(start, x.shape[0] + xx.shape[0], subset)
        if stamps is None:
            return None
        out.append((stamps[: x.shape[0]], stamps[x.shape[0] :]))
    return out
