"""swets_train: the training loop, callbacks, metrics, forecasts, backtesting and baselines.

* :class:`Trainer` / :func:`fit`: epochs or a step budget, LR schedulers, gradient clipping,
  callbacks (:class:`EarlyStopping`, :class:`ModelCheckpoint`, :class:`NonFiniteGuard`), a tqdm
  progress bar, reproducible and exactly resumable runs; returns a :class:`History`. The one
  training loop: an executor (:mod:`swets_train.executor`) decides only where each batch's
  gradients are computed (``local`` here; ``dask`` with swets-dask).
* :mod:`swets_train.metrics`: MAE, RMSE, MAPE, sMAPE, MASE, R², directional accuracy, pinball loss
  interval coverage and CRPS, registered as ``metrics``; the scores of prediction intervals.
* :func:`prepare`: splits, a scaler fitted on the training rows, and loaders in one call (from
  data, or from a job: :mod:`swets_train.jobs`).
* :func:`predict` / :func:`forecast`: forecasts in the original scale with their timestamps.
* :func:`backtest`: rolling-origin evaluation against baselines in one call.
* :func:`calibrate` / :class:`Conformal`: conformal prediction intervals (split conformal, CQR) for
  any trained model, at levels given to ``predict``, ``forecast`` and ``backtest``.
* Baselines registered as ``models``: ``naive``, ``seasonal_naive``, ``mean``, ``drift``.
* :mod:`swets_train.jobs`: training jobs as plain data behind the commands; :mod:`swets_train.sweep`:
  the configurations of a sweep and the table of their results.

See docs/training.md and docs/metrics.md.
"""

from __future__ import annotations

__version__ = "0.1.0"

from swets_core.lazy import all_exports, lazy_exports

# imported on first use: discovering plugins imports this package (see swets_core.lazy). The one
# list of each module's public names the package exports: the modules take them from it (exports_of).
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "swets_train.backtest": ("BacktestReport", "backtest"),
        "swets_train.baselines": ("Drift", "MeanForecast", "Naive", "SeasonalNaive"),
        "swets_train.callbacks": (
            "Callback",
            "EarlyStopping",
            "LambdaCallback",
            "ModelCheckpoint",
            "NonFiniteGuard",
            "NonFiniteWarning",
        ),
        "swets_train.conformal": ("Conformal",),
        "swets_train.forecasts": ("Forecast",),
        "swets_train.jobs.prepare": ("Prepared", "prepare", "scaler_from_state"),
        "swets_train.metrics": ("evaluate",),
        "swets_train.predict": (
            "Forecaster",
            "calibrate",
            "calibrate_windows",
            "forecast",
            "predict",
        ),
        "swets_train.trainer": ("History", "Trainer", "fit", "validate"),
    },
)

__all__ = ["__version__", *all_exports(__name__)]
