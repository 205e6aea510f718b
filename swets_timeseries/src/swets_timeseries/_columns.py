"""Finding columns by name: the header aliases of the OHLCV fields and the role columns of a series.

One definition for every reader (CSV, pandas, Parquet) and for :func:`~swets_timeseries.bar_columns`,
so a header that ``read_csv`` accepts as ``high`` is ``high`` everywhere. Headers are compared in the
form of :func:`normalize`: lower case without blanks, ``_``, ``-``, ``.``, ``*``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from swets_core.errors import ConfigError
from swets_timeseries.validation import listing

ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "date", "time", "datetime", "ts"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c", "last"),
    "volume": ("volume", "vol", "v"),
}
IGNORED = ("adjclose", "adjustedclose")
BAR_FIELDS = ("open", "high", "low", "close", "volume")
MISSING_TOKENS = ("", "na", "n/a", "nan", "-nan", "null", "none", "#n/a")


def normalize(header: str) -> str:
    """The form headers are compared in: lower case without blanks, ``_``, ``-``, ``.``, ``*``."""
    out = header.strip().lower()
    for ch in " _-.*\t":
        out = out.replace(ch, "")
    return out


def match_fields(
    header: Sequence[str],
    fields: Sequence[str],
    explicit: Mapping[str, str],
    required: Sequence[str],
    *,
    source: str,
    exclude: Sequence[str] = (),
) -> dict[str, str | tuple[str, str]]:
    """Map each field to a header name (the timestamp also to a ``(date, time)`` pair of headers).

    Args:
        header: the column names available.
        fields: the fields to find, in order (e.g. timestamp, open, ..., volume).
        explicit: field -> header mappings given by the user (``columns=``), used as they are.
        required: fields that must be found (a ConfigError naming the accepted names otherwise).
        source: the file or call named in errors.
        exclude: headers already taken (e.g. the timestamp column of a DataFrame).

    Raises:
        ConfigError: an unknown field or header in ``explicit``, two headers that could be one
            field, or a required field without a header.
    """
    unknown = set(explicit) - set(fields)
    if unknown:
        raise ConfigError(
            f"columns= maps unknown field(s) {sorted(unknown)}; fields are {', '.join(fields)}"
        )
    out: dict[str, str | tuple[str, str]] = {}
    used = set(exclude)
    for field, name in explicit.items():
        if name not in header:
            raise ConfigError(
                f"{source}: columns= maps {field!r} to {name!r}, which is not a column; "
                f"columns: {listing(header)}"
            )
        out[field] = name
        used.add(name)
    for field in fields:
        if field in out:
            continue
        matches = [h for h in header if h not in used and normalize(h) in ALIASES.get(field, ())]
        if field == "timestamp" and len(matches) == 2:
            kinds = {normalize(h): h for h in matches}
            if set(kinds) == {"date", "time"}:
                out[field] = (kinds["date"], kinds["time"])
                used.update(matches)
                continue
        if len(matches) > 1:
            raise ConfigError(
                f"{source}: several columns could be {field!r}: {matches}; choose one with "
                f"columns={{{field!r}: ...}}"
            )
        if matches:
            out[field] = matches[0]
            used.add(matches[0])
        elif field in required:
            raise ConfigError(
                f"{source}: no column for {field!r} (accepted names: "
                f"{', '.join(ALIASES.get(field, (field,)))}); columns found: "
                f"{listing(header)}; map it with columns={{{field!r}: '<header>'}}"
            )
    return out


def parse_numbers(cells: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Parse (n,) text cells as float64: ``(values, [(row, cell), ...])`` with NaN at each cell
    that is not a number. Missing-value tokens (empty, ``NA``, ``N/A``, ``NaN``, ``null``, ``None``,
    ``#N/A``, any case) read as NaN without a complaint."""
    try:
        return cells.astype(np.float64), []  # C fast path (blanks around numbers are fine)
    except ValueError:
        pass
    text = np.strings.strip(cells)
    missing = np.isin(np.strings.lower(text), MISSING_TOKENS)
    if missing.any():
        text = np.where(missing, "nan", text)
        try:
            return text.astype(np.float64), []
        except ValueError:
            pass
    values = np.full(text.shape[0], np.nan)
    bad = []
    for i, cell in enumerate(text.tolist()):
        try:
            values[i] = float(cell)
        except ValueError:
            bad.append((i, str(cells[i])))
    return values, bad


__all__ = [
    "ALIASES",
    "BAR_FIELDS",
    "IGNORED",
    "MISSING_TOKENS",
    "match_fields",
    "normalize",
    "parse_numbers",
]
