"""Static covariates: what a series is (its store, product, region, size), one value per series.

A :class:`~swets_timeseries.TimeSeries` holds its static covariates in ``static`` (name -> a number
or a text category). They come from a column that is constant within each series of a long-format
file (:func:`static_from_columns`, which the readers call for ``static_covariates=``), or from a
separate table keyed by series id (:func:`swets_timeseries.read_static_csv`, then
:meth:`SeriesCollection.with_static <swets_timeseries.SeriesCollection.with_static>`).

A model takes them as one ``(batch, S)`` array: :class:`StaticEncoder` turns the values of every
series into that array. A column whose values are all numbers is **numeric** and standardized
(``(v - mean) / std`` over the series it was fitted on; a constant column gets scale 1); any other
column is **categorical** and becomes the integer code of its category (``0 .. n - 1``, the
categories sorted), stored as a float of the array; a model embeds it
(``static_cardinalities[j]`` is ``n`` for a categorical column and 0 for a numeric one). The
encoder's state is plain data, kept with a trained model, so a forecast encodes a series exactly
as training did; a category it never saw is an error naming the series, the column and the value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from swets_core.errors import ConfigError, DataValidationError, StateDictError
from swets_core.lazy import exports_of
from swets_timeseries._columns import MISSING_TOKENS, parse_numbers
from swets_timeseries.validation import listing

StaticValue = float | str
"""One static covariate value: a number (float) or a category (text)."""

# the names the package's lazy_exports table lists for this module, and those only it exports
__all__ = [
    *exports_of(__name__),
    "StaticValue",
    "is_missing",
    "long_without_id",
    "reader_static",
    "static_from_columns",
    "static_value",
]  # and the package's table


def static_value(value: Any, where: str) -> StaticValue:
    """A static covariate value as stored: numbers (ints, bools, numpy scalars) as float, text
    stripped; NaN, infinities and empty text are refused (ConfigError naming ``where``)."""
    if isinstance(value, str | np.str_):
        text = str(value).strip()
        if not text or text.lower() in MISSING_TOKENS:
            raise ConfigError(f"{where}: the static value is missing ({value!r})")
        return text
    if isinstance(value, bool | np.bool_ | int | float | np.integer | np.floating):
        number = float(value)
        if not math.isfinite(number):
            raise ConfigError(f"{where}: the static value must be finite, got {number!r}")
        return number
    raise ConfigError(
        f"{where}: a static value must be a number or a text category, got {type(value).__name__}"
    )


def is_missing(cells: np.ndarray) -> np.ndarray:
    text = np.strings.lower(np.strings.strip(cells.astype(str)))
    return (text == "") | np.isin(text, MISSING_TOKENS)


def static_from_columns(
    ids: np.ndarray | None,
    columns: Mapping[str, np.ndarray],
    *,
    source: str,
    timestamps: np.ndarray | None = None,
) -> dict[str, dict[str, StaticValue]]:
    """The static covariates of every series from columns that are constant within each series.

    Args:
        ids: (n,) series id of each row (None: every row is one series, id ``""``).
        columns: name -> (n,) cells (text or numbers) of each static column.
        source: the file or frame named in messages.
        timestamps: (n,) timestamps of the rows, named in messages when given.

    Returns:
        ``{series id: {name: value}}``; a column whose values (over every series) are all numbers
        gives floats, any other column text categories. Missing cells (empty, ``NA``...) are
        ignored, as in the rows past a series' last target value.

    Raises:
        DataValidationError: a column with two values within one series (naming the series, the
            column, both values and the row where the second appears), or with no value at all in
            a series.
    """
    n = next(iter(columns.values())).shape[0] if columns else 0
    key = np.full(n, "", dtype=object) if ids is None else np.asarray(ids).astype(str)
    order = list(dict.fromkeys(key.tolist()))
    out: dict[str, dict[str, StaticValue]] = {sid: {} for sid in order}
    for name, raw in columns.items():
        cells = np.asarray(raw)
        if cells.dtype.kind in "biuf":
            numbers = cells.astype(np.float64)
            missing = ~np.isfinite(numbers)
            numeric = True
            text = None
        else:
            text = np.strings.strip(cells.astype(str))
            missing = is_missing(text)
            numbers, bad = parse_numbers(np.where(missing, "nan", text))
            numeric = not bad
        for sid in order:
            rows = np.flatnonzero((key == sid) & ~missing)
            who = source if ids is None else f"{source}, series {sid!r}"
            if rows.size == 0:
                raise DataValidationError(
                    f"{who}: static covariate {name!r} has no value (every cell of the column is "
                    "missing)"
                )
            values = numbers[rows] if numeric else text[rows]
            differ = np.flatnonzero(values != values[0])
            if differ.size:
                row = int(rows[differ[0]])
                when = (
                    ""
                    if timestamps is None
                    else f" ({np.datetime_as_string(timestamps[row], unit='s')}Z)"
                )
                raise DataValidationError(
                    f"{who}: static covariate {name!r} is not constant within the series: "
                    f"{_show(values[0])} first, then {_show(values[differ[0]])} at data row "
                    f"{row}{when}; a static covariate has one value per series (give a column "
                    "that varies over time as a covariate instead)"
                )
            out[sid][name] = float(values[0]) if numeric else str(values[0])
    return out


def reader_static(
    ids: np.ndarray | None,
    column: Any,
    names: Sequence[str],
    *,
    source: str,
    timestamps: np.ndarray,
) -> dict[str, dict[str, StaticValue]] | None:
    """What a series reader gives its series as static covariates: :func:`static_from_columns`
    of the columns ``names`` (``column(name)`` gives one's cells), or None when there are none, or
    when the rows read as one series repeat a timestamp (:func:`long_without_id`)."""
    if not names or long_without_id(ids, timestamps):
        return None
    cells = {str(c): column(c) for c in names}
    return static_from_columns(ids, cells, source=source, timestamps=timestamps)


def long_without_id(ids: np.ndarray | None, timestamps: np.ndarray) -> bool:
    """Whether rows read as one series (``ids`` None) repeat a timestamp: several series in long
    format read without their id column, whose static columns are not constant. The readers then
    leave the static covariates out, so the validation names the id column instead."""
    if ids is not None:
        return False
    stamps = np.asarray(timestamps).view(np.int64)
    return np.unique(stamps).shape[0] != stamps.shape[0]


def _show(value: Any) -> str:
    return repr(float(value)) if isinstance(value, float | np.floating) else repr(str(value))


class StaticEncoder:
    """Static covariates of series as one ``(n, S)`` float array (see the module docstring).

    Args:
        columns: the static columns, in the order of the array (default: those of the data it is
            fitted on).

    Attributes:
        columns: the column names (after :meth:`fit`).
        categories: ``{column: [category, ...]}`` of the categorical columns (sorted).
        cardinalities: one int per column: the number of categories, 0 for a numeric column.
    """

    __slots__ = ("_fitted", "_mean", "_std", "categories", "columns")

    def __init__(self, columns: Sequence[str] | None = None) -> None:
        self.columns: tuple[str, ...] | None = None if columns is None else tuple(columns)
        self.categories: dict[str, list[str]] = {}
        self._mean: dict[str, float] = {}
        self._std: dict[str, float] = {}
        self._fitted = False

    @property
    def fitted(self) -> bool:
        """True after :meth:`fit` or :meth:`load_state_dict`."""
        return self._fitted

    @property
    def cardinalities(self) -> list[int]:
        """Categories per column (0 for numeric columns), in column order."""
        self._require_fitted()
        assert self.columns is not None
        return [len(self.categories.get(c, ())) for c in self.columns]

    def fit(self, series: Iterable[Any]) -> StaticEncoder:
        """Learn the categories and the numeric columns' mean and standard deviation from the
        ``static`` values of ``series`` (TimeSeries, e.g. a SeriesCollection).

        Raises:
            ConfigError: a series lacking a column, or a column mixing numbers and text.
        """
        items = list(series)
        if self.columns is None:
            self.columns = tuple(items[0].static) if items else ()
        self.categories, self._mean, self._std = {}, {}, {}
        for c in self.columns:
            values = [self._value(s, c) for s in items]
            kinds = {isinstance(v, str) for v in values}
            if kinds == {True}:
                self.categories[c] = sorted(set(values))  # type: ignore[arg-type]
            elif kinds == {False}:
                arr = np.asarray(values, dtype=np.float64)
                std = float(arr.std())
                self._mean[c] = float(arr.mean())
                self._std[c] = std if std > 0 and math.isfinite(std) else 1.0
            else:
                raise ConfigError(
                    f"static covariate {c!r} mixes numbers and text across series; give one kind"
                )
        self._fitted = True
        return self

    def _value(self, s: Any, column: str) -> StaticValue:
        static = getattr(s, "static", {})
        if column not in static:
            have = ", ".join(static) or "none"
            raise ConfigError(f"series {s.id!r} has no static covariate {column!r} (it has {have})")
        return static[column]

    def _require_fitted(self) -> None:
        if not self._fitted:
            raise ConfigError("StaticEncoder is not fitted; call fit(series) first")

    def transform(self, series: Iterable[Any], dtype: Any = np.float64) -> np.ndarray:
        """``(n_series, S)``: each series' standardized numbers and category codes.

        Raises:
            DataValidationError: a category the encoder was not fitted with (naming the series,
                the column, the value and the known categories), or a number where a category is
                expected (and the reverse).
            ConfigError: a series lacking a column.
        """
        self._require_fitted()
        assert self.columns is not None
        items = list(series)
        out = np.empty((len(items), len(self.columns)), dtype=dtype)
        for j, c in enumerate(self.columns):
            cats = self.categories.get(c)
            for i, s in enumerate(items):
                v = self._value(s, c)
                if cats is not None:
                    if not isinstance(v, str) or v not in cats:
                        raise DataValidationError(
                            f"series {s.id!r}: static covariate {c!r} is {v!r}, a category the "
                            f"model was not trained with (known: {listing(cats)})"
                        )
                    out[i, j] = cats.index(v)
                else:
                    if isinstance(v, str):
                        raise DataValidationError(
                            f"series {s.id!r}: static covariate {c!r} is {v!r}; the model was "
                            "trained with numbers in this column"
                        )
                    out[i, j] = (v - self._mean[c]) / self._std[c]
        return out

    def state_dict(self) -> dict[str, Any]:
        """Plain data: ``{"columns", "categories", "mean", "std"}``."""
        self._require_fitted()
        return {
            "columns": list(self.columns or ()),
            "categories": {c: list(v) for c, v in self.categories.items()},
            "mean": dict(self._mean),
            "std": dict(self._std),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` output; StateDictError lists every problem."""
        problems = []
        if not isinstance(state, Mapping):
            raise StateDictError(
                "StaticEncoder", [f"a mapping is needed, got {type(state).__name__}"]
            )
        for key in ("columns", "categories", "mean", "std"):
            if key not in state:
                problems.append(f"missing key {key!r}")
        if problems:
            raise StateDictError("StaticEncoder", problems)
        columns, cats, mean, std = (state[k] for k in ("columns", "categories", "mean", "std"))
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            problems.append(f"columns must be a list of names, got {columns!r:.80}")
            columns = []
        for what, table in (("categories", cats), ("mean", mean), ("std", std)):
            if not isinstance(table, Mapping):
                problems.append(f"{what} must be a mapping, got {type(table).__name__}")
        if problems:
            raise StateDictError("StaticEncoder", problems)
        for c in columns:
            if c in cats:
                v = cats[c]
                if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
                    problems.append(f"categories[{c!r}] must be a non-empty list of text")
            elif c in mean and c in std:
                m, s = mean[c], std[c]
                ok = all(
                    isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
                    for x in (m, s)
                )
                if not ok or s <= 0:
                    problems.append(f"mean/std of {c!r} must be finite numbers, std > 0")
            else:
                problems.append(f"column {c!r} has neither categories nor mean and std")
        if problems:
            raise StateDictError("StaticEncoder", problems)
        self.columns = tuple(columns)
        self.categories = {c: list(cats[c]) for c in columns if c in cats}
        self._mean = {c: float(mean[c]) for c in columns if c not in cats}
        self._std = {c: float(std[c]) for c in columns if c not in cats}
        self._fitted = True

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> StaticEncoder:
        """A fitted encoder from :meth:`state_dict` output."""
        out = cls()
        out.load_state_dict(state)
        return out

    def __repr__(self) -> str:
        if self.columns is None or not self._fitted:
            return "StaticEncoder(not fitted)"
        kinds = [
            f"{c} ({len(self.categories[c])} categories)" if c in self.categories else c
            for c in self.columns
        ]
        return f"StaticEncoder({', '.join(kinds) or 'no columns'})"
