"""A generated data set: three years of daily sales of one store, with what drives them.

:func:`sales_example` builds it from a seed, deterministically (numpy's ``default_rng(seed)``, no
file, nothing downloaded), as a test bed for covariates: what a demand planner has at hand.

* ``sales`` (the target): a level growing by about 40 % over the three years, a weekly pattern
  (quiet early in the week, busy on Saturdays), a yearly swell (summer high), times the effects
  below, times multiplicative noise (``exp(N(0, 0.06))``).
* ``temperature`` (a past covariate: known once observed): the seasonal temperature plus weather
  noise; a warmer day than usual sells a little more (+1.5 % per degree above normal).
* ``promo`` (a known covariate: planned in advance): 1.0 on the days of a promotion campaign (one
  to four days long, started in about a third of the weeks), 0.0 elsewhere; a promotion day sells
  45 % more.
* holidays (a list of dates, known in advance): New Year's Day, Good Friday, Easter Monday,
  May Day, Christmas Eve, Christmas and Boxing Day; the store sells 40 % of a normal day.

``future`` extra rows continue the dates past the last sale with the target empty and the promotion
plan filled in (the temperature, not known in advance, empty too): the layout of a file to
forecast from.
"""

from __future__ import annotations

import math
import os
from typing import Any

import attrs
import numpy as np

from swets_core.errors import ConfigError

__all__ = ["SalesExample", "sales_example"]

_EASTER = {  # Easter Sunday (Gregorian)
    2020: "2020-04-12",
    2021: "2021-04-04",
    2022: "2022-04-17",
    2023: "2023-04-09",
    2024: "2024-03-31",
    2025: "2025-04-20",
    2026: "2026-04-05",
}
_WEEKLY = np.array([0.92, 0.88, 0.90, 0.97, 1.08, 1.30, 0.95])  # Monday .. Sunday


def _holidays(first: int, last: int) -> list[str]:
    out = []
    for year in range(first, last + 1):
        if year not in _EASTER:
            raise ConfigError(f"sales_example: no Easter date for {year} (years 2020..2026)")
        easter = np.datetime64(_EASTER[year], "D")
        out += [f"{year}-01-01", str(easter - 2), str(easter + 1), f"{year}-05-01"]
        out += [f"{year}-12-24", f"{year}-12-25", f"{year}-12-26"]
    return sorted(out)


@attrs.frozen
class SalesExample:
    """What :func:`sales_example` returns.

    Attributes:
        series: a ``TimeSeries`` (id ``"store"``) with the target ``sales``, the past covariate
            ``temperature`` and the known covariate ``promo``; its last ``future`` rows have an
            empty (NaN) target and temperature.
        holidays: the holiday dates, ISO ``YYYY-MM-DD``, sorted.
    """

    series: Any
    holidays: tuple[str, ...]

    def write(self, directory: str | os.PathLike[str]) -> tuple[str, str]:
        """Write ``sales.csv`` (``date,sales,temperature,promo``) and ``holidays.csv`` (a
        ``date`` column) into ``directory``; returns their paths. Refuses to replace a file."""
        from swets_timeseries.csvio import write_series_csv

        directory = os.fspath(directory)
        os.makedirs(directory, exist_ok=True)
        data = os.path.join(directory, "sales.csv")
        holidays = os.path.join(directory, "holidays.csv")
        for path in (data, holidays):
            if os.path.exists(path):
                raise ConfigError(f"sales_example: {path} exists; write into another directory")
        write_series_csv(self.series, data)
        with open(holidays, "w", encoding="utf-8") as fh:
            fh.write("date\n" + "".join(d + "\n" for d in self.holidays))
        return data, holidays


def sales_example(
    seed: int = 0, *, start: str = "2021-01-01", days: int = 1095, future: int = 0
) -> SalesExample:
    """Daily sales with a trend, weekly and yearly seasonality, temperature, promotions and
    holidays (see the module docstring), the same for the same arguments.

    Args:
        seed: seed of every random draw.
        start: the first date (years 2020 to 2026 have holidays).
        days: days with sales (1095: three years).
        future: days after the last sale with the promotion plan but no sales.
    """
    from swets_timeseries.series import TimeSeries

    if days < 28 or future < 0:
        raise ConfigError(
            f"sales_example: days must be >= 28 and future >= 0, got {days}, {future}"
        )
    rng = np.random.default_rng(seed)
    n = days + future
    dates = np.datetime64(start, "D") + np.arange(n)
    t = np.arange(n, dtype=np.float64)
    year_start = dates.astype("datetime64[Y]").astype("datetime64[D]")
    doy = (dates - year_start).astype(np.float64)
    dow = (dates.astype(np.int64) + 3) % 7  # Monday = 0

    normal_temp = 12.0 + 9.0 * np.sin(2 * math.pi * (doy - 110.0) / 365.25)
    temperature = normal_temp + rng.normal(0.0, 2.5, n)
    promo = np.zeros(n)
    for week in range(0, n, 7):
        if rng.random() < 0.35:
            first = week + int(rng.integers(0, 7))
            promo[first : first + int(rng.integers(1, 5))] = 1.0
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    holidays = _holidays(int(years[0]), int(years[-1]))
    is_holiday = np.isin(dates, np.asarray(holidays, dtype="datetime64[D]"))

    level = 200.0 * (1.0 + 0.4 * t / 1095.0)
    yearly = 1.0 + 0.12 * np.sin(2 * math.pi * (doy - 80.0) / 365.25)
    sales = (
        level
        * _WEEKLY[dow]
        * yearly
        * (1.0 + 0.015 * (temperature - normal_temp))
        * (1.0 + 0.45 * promo)
        * np.where(is_holiday, 0.4, 1.0)
        * np.exp(rng.normal(0.0, 0.06, n))
    )
    sales = np.round(sales, 1)
    temperature = np.round(temperature, 1)
    sales[days:] = np.nan
    temperature[days:] = np.nan
    series = TimeSeries(
        dates.astype("datetime64[ns]"),
        {"sales": sales, "temperature": temperature, "promo": promo},
        target="sales",
        covariates=["temperature"],
        known_covariates=["promo"],
        id="store",
    )
    return SalesExample(series, tuple(holidays))
