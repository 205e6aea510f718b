"""DeepAR: an autoregressive LSTM trained on likelihoods (Salinas, Flunkert, Gasthaus and
Januschowski, "DeepAR: Probabilistic forecasting with autoregressive recurrent networks",
International Journal of Forecasting 36(3), 2020)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from swets_core import Tensor, active_tape, run_op
from swets_core.checks import as_generator
from swets_core.errors import ConfigError, DataValidationError, ShapeError
from swets_models._base import positive_int
from swets_models.lstm import RecurrentForecaster
from swets_nn import Linear
from swets_nn.paths import ARRAYS, TENSORS, ForwardPath
from swets_ops.distributions import DistributionPrediction, get_distribution, sample_quantiles

__all__ = ["DeepAR"]


def _lags(value: Any, lookback: int, owner: str) -> list[int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigError(f"{owner}: lags must be a non-empty list of ints >= 1, got {value!r}")
    out = [positive_int(v, f"lags[{i}]", owner) for i, v in enumerate(value)]
    if len(set(out)) != len(out):
        raise ConfigError(f"{owner}: lags must be distinct, got {out}")
    if max(out) > lookback:
        raise ConfigError(
            f"{owner}: the largest lag ({max(out)}) exceeds the lookback ({lookback}); the "
            "conditioning range must hold every lagged value"
        )
    return out


class DeepAR(RecurrentForecaster, registry_name="deepar"):
    """DeepAR (registry name ``"deepar"``), an autoregressive recurrent network that forecasts a
    distribution.

    At each step ``t`` a stacked LSTM reads the lagged targets ``z_{t-l} / ν`` (``l`` in ``lags``),
    the known covariates of step ``t``, the static covariates and ``log ν``, and a linear head maps
    its hidden state to the raw parameters of the output distribution (``normal``, ``student_t`` or
    ``negative_binomial``; layout and links in :mod:`swets_ops.distributions`), rescaled by
    ``ν``. ``ν = 1 + mean |z|`` over the window's conditioning range (the lookback), the mean
    scaling of the paper's section 3.3 (``1 + mean z`` for the non-negative data it treats; the
    absolute value keeps it positive for real-valued data).

    * **Training** (``model(x, target=y)``, teacher forcing, section 3.1): the network is unrolled
      over the conditioning and prediction ranges with the true values as lagged inputs and returns
      a :class:`~swets_ops.distributions.DistributionPrediction` of the prediction range,
      ``raw (batch, horizon, P)`` with the scale, which the distribution's loss
      (``normal_nll``, ``student_t_nll``, ``negative_binomial_nll``) scores: the likelihood of
      the prediction range, as the paper's objective. The trainer passes ``target=`` to a model
      with ``teacher_forcing = True``.
    * **Forecasting** (``model(x)`` without ``target``, and :meth:`sample`): ancestral sampling
      (section 3.2): the network is unrolled over the conditioning range, then each sample path
      draws ``z_t`` from the step's distribution and feeds it back as the next lagged input.
      :meth:`sample` takes an explicit generator (``rng``: a Generator or a seed; the same seed
      gives the same samples bit for bit) and returns ``(num_samples, batch, horizon)``;
      ``model(x)`` draws ``num_samples`` paths from ``Generator(sample_seed)`` and returns their
      median ``(batch, horizon)``, or their quantiles ``(batch, horizon, Q)`` with
      ``quantiles=[...]``.

    Args (the configuration returned by :meth:`config`, except ``rng``/``seed``):
        n_features: 1 + the known covariates (their history: DeepAR reads no past covariates, whose
            values are unknown over the prediction range).
        lookback: the conditioning range.
        horizon: the prediction range.
        hidden_size: LSTM cells per layer (40, as the paper's and GluonTS's default).
        num_layers: LSTM layers (2, GluonTS's default; the paper used 3 on its larger data sets).
        dropout: dropout between LSTM layers in training (0.1, GluonTS's default).
        distribution: ``"student_t"`` (GluonTS's default), ``"normal"`` or ``"negative_binomial"``
            (counts).
        lags: the lags of the target the network reads at each step (``[1]``: the previous value,
            the paper's input ``z_{t-1}``; add seasonal lags such as ``[1, 24, 168]``); the largest
            must not exceed the lookback.
        num_samples: sample paths per forecast of ``model(x)`` (100).
        sample_seed: the seed of the generator ``model(x)`` samples with (so a forecast is
            reproducible; :meth:`sample` takes any generator).
        n_future_features, n_static_features, static_cardinalities: the covariate inputs.
        quantiles: None (``model(x)`` returns the median) or the levels ``model(x)`` returns.
        dtype: ``"float32"`` or ``"float64"``.
        rng / seed: Generator or int seed of the initial parameters and the dropout stream.

    Parameters: ``lstm.*`` (PyTorch's names), ``head.weight`` ``(P, hidden_size)``,
    ``head.bias``, and the static covariates' embeddings.
    """

    supports_past_covariates = False
    supports_instance_norm = False  # windows are mean-scaled instead (section 3.3)
    teacher_forcing = True
    """The trainer passes the batch's targets as ``target=`` (teacher forcing)."""

    def __init__(
        self,
        *,
        hidden_size: int = 40,
        num_layers: int = 2,
        dropout: float = 0.1,
        distribution: str = "student_t",
        lags: Sequence[int] = (1,),
        num_samples: int = 100,
        sample_seed: int = 0,
        **common: Any,
    ) -> None:
        super().__init__(hidden_size=hidden_size, num_layers=num_layers, dropout=dropout, **common)
        owner = "DeepAR"
        self.distribution = get_distribution(distribution, owner)
        self.lags = _lags(lags, self.lookback, owner)
        self.num_samples = positive_int(num_samples, "num_samples", owner)
        self.sample_seed = positive_int(sample_seed, "sample_seed", owner, minimum=0)
        gen = self._generator()
        # the covariate inputs first: the LSTM's input width holds the static vector's
        self._init_inputs(gen)
        static_width = 0 if self.static_covariates is None else self.static_covariates.width
        self.input_width = len(self.lags) + self.n_future_features + static_width + 1
        self._init_lstm(self.input_width, gen)
        self.head = Linear(
            self.hidden_size, self.distribution.n_params, rng=gen, dtype=self._dtype.value
        )

    def _option(self, name: str) -> Any:
        """``distribution`` by its name (the others as stored)."""
        return self.distribution.name if name == "distribution" else super()._option(name)

    # -- inputs -----------------------------------------------------------------------------------
    def _scale(self, z: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """``ν = 1 + mean |z|`` over the observed positions of each window, ``(B, 1)``."""
        a = np.abs(z) if mask is None else np.abs(z) * mask
        count = z.shape[1] if mask is None else np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
        return (1.0 + a.sum(axis=1, keepdims=True) / count).astype(z.dtype)

    def _step_inputs(
        self,
        p: ForwardPath,
        lagged: np.ndarray,
        known: np.ndarray | None,
        static_vec: Any,
        log_scale: np.ndarray,
    ) -> Any:
        """The LSTM's input ``(B, T, input_width)``: the lagged scaled targets ``(B, T, n_lags)``,
        the known covariates ``(B, T, K)``, then the static vector and ``log ν`` of each series
        repeated over the ``T`` steps."""
        b, t = lagged.shape[:2]
        parts = [lagged] if known is None else [lagged, known]
        per_series = [log_scale] if static_vec is None else [static_vec, log_scale]
        series = per_series[0] if len(per_series) == 1 else p.op("concat", *per_series, axis=1)
        width = self.input_width - len(self.lags) - (0 if known is None else known.shape[2])
        parts.append(p.op("broadcast_to", p.unsqueeze(series, 1), shape=(b, t, width)))
        return p.op("concat", *parts, axis=2)

    def _lagged(self, z: np.ndarray, start: int, stop: int) -> np.ndarray:
        """``z[:, t - lag]`` for ``t`` in ``[start, stop)`` and every lag: ``(B, stop - start, n)``."""
        return np.stack([z[:, start - lag : stop - lag] for lag in self.lags], axis=2)

    def _inputs(
        self, x: Tensor, future: Tensor | None, static: Tensor | None, mask: Tensor | None
    ) -> tuple[np.ndarray, np.ndarray | None, Any, np.ndarray | None]:
        """``(z (B, L), known (B, L + H, K) or None, static, mask)`` as arrays (the static
        covariates as given: they reach embeddings)."""
        data = x._data
        z = data[:, :, 0]
        m = None if mask is None else mask._data.astype(data.dtype)
        if m is not None:
            z = z * m
        known = None
        if self.n_future_features:
            assert future is not None
            known = np.concatenate([data[:, :, 1:], future._data], axis=1)
        return z, known, static, m

    # -- training: teacher forcing -----------------------------------------------------------------
    def _teacher(
        self,
        p: ForwardPath,
        x: Tensor,
        future: Tensor | None,
        static: Tensor | None,
        mask: Tensor | None,
        target: Any,
    ) -> DistributionPrediction:
        y = target._data if isinstance(target, Tensor) else np.asarray(target)
        if y.shape != (x.shape[0], self.horizon):
            raise ShapeError(
                f"DeepAR: expected target of shape ({x.shape[0]}, {self.horizon}) = (batch, "
                f"horizon), got {y.shape}"
            )
        z, known, static, m = self._inputs(x, future, static, mask)
        scale = self._scale(z, m)
        y = y.astype(z.dtype, copy=False)
        if not np.isfinite(y).all():  # missing targets: fed back as 0, masked in the loss
            y = np.where(np.isfinite(y), y, 0.0).astype(z.dtype)
        full = np.concatenate([z, y], axis=1) / scale
        m0, total = max(self.lags), self.lookback + self.horizon
        lagged = self._lagged(full, m0, total)
        steps_known = None if known is None else known[:, m0:total]
        static_vec = None
        if static is not None:
            assert self.static_covariates is not None
            static_vec = self.static_covariates.compute(p, static if p is TENSORS else static._data)
        inputs = self._step_inputs(p, lagged, steps_known, static_vec, np.log(scale))
        h, _ = p.forward(self.lstm)(inputs)
        raw = p.forward(self.head)(h[:, self.lookback - m0 :])
        return DistributionPrediction(raw, scale, self.distribution)

    # -- forecasting: ancestral sampling -----------------------------------------------------------
    def sample(
        self,
        x: Any,
        future: Any = None,
        static: Any = None,
        mask: Any = None,
        *,
        num_samples: int | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> np.ndarray:
        """Sample paths of the prediction range by ancestral sampling, nothing recorded.

        Args:
            x, future, static, mask: as :meth:`forward`.
            num_samples: paths per window (default: the configured ``num_samples``).
            rng: the generator the draws come from (a Generator, used as is, or an int seed);
                default ``Generator(sample_seed)``. The same generator state gives the same
                samples bit for bit.

        Returns:
            ``(num_samples, batch, horizon)`` in the scale of ``x``'s target.

        Dropout is off while sampling (the model's mode is restored afterwards), so the draws
        come from ``rng`` alone.
        """
        was_training = self.training
        self.eval()
        try:
            return self._sample(x, future, static, mask, num_samples, rng)
        finally:
            self.train(was_training)

    def _sample(
        self, x: Any, future: Any, static: Any, mask: Any, num_samples: Any, rng: Any
    ) -> np.ndarray:
        owner = "DeepAR.sample"
        s = (
            self.num_samples
            if num_samples is None
            else positive_int(num_samples, "num_samples", owner)
        )
        gen = as_generator(self.sample_seed if rng is None else rng, owner)
        x, future, static, mask = self._prepare_all(x, future, static, mask)
        z, known, static, m = self._inputs(x, future, static, mask)
        if self.distribution.discrete and ((z < 0).any() or (z != np.round(z)).any()):
            raise DataValidationError(
                "DeepAR: a negative binomial model forecasts counts; the window's target holds "
                "negative or fractional values"
            )
        p = ARRAYS
        b, lookback, horizon, m0 = z.shape[0], self.lookback, self.horizon, max(self.lags)
        scale = self._scale(z, m)
        log_scale = np.log(scale)
        static_vec = None
        if static is not None:
            assert self.static_covariates is not None
            static_vec = self.static_covariates.compute(p, static._data)
        # the conditioning range, once per window
        hx = None
        if lookback > m0:
            cond = self._step_inputs(
                p,
                self._lagged(z / scale, m0, lookback),
                None if known is None else known[:, m0:lookback],
                static_vec,
                log_scale,
            )
            _, hx = self.lstm.forward_arrays(cond, None)
            hx = (np.tile(hx[0], (1, s, 1)), np.tile(hx[1], (1, s, 1)))  # path-major: s * b + i
        tile = lambda a: None if a is None else np.tile(a, (s,) + (1,) * (a.ndim - 1))  # noqa: E731
        paths = np.zeros((s * b, lookback + horizon), dtype=z.dtype)
        paths[:, :lookback] = tile(z / scale)
        scale_s, log_s, static_s, known_s = (
            tile(scale),
            tile(log_scale),
            tile(static_vec),
            tile(known),
        )
        out = np.empty((s * b, horizon), dtype=z.dtype)
        for t in range(lookback, lookback + horizon):
            step = self._step_inputs(
                p,
                self._lagged(paths, t, t + 1),
                None if known_s is None else known_s[:, t : t + 1],
                static_s,
                log_s,
            )
            h, hx = self.lstm.forward_arrays(step, hx)
            raw = self.head.forward_arrays(h[:, 0])
            params = self.distribution.constrain(run_op, raw, scale_s[:, 0])
            draw = self.distribution.sample(params, gen)
            out[:, t - lookback] = draw
            paths[:, t] = draw / scale_s[:, 0]
        return out.reshape(s, b, horizon)

    def _summary(self, samples: np.ndarray) -> np.ndarray:
        """The median ``(B, H)``, or the quantiles ``(B, H, Q)``, of ``samples`` ``(S, B, H)``."""
        if self.quantiles is None:
            return sample_quantiles(samples, [0.5])[..., 0]
        return sample_quantiles(samples, self.quantiles)

    # -- the model's calls -------------------------------------------------------------------------
    def forward(  # type: ignore[override]
        self,
        x: Tensor,
        future: Any = None,
        static: Any = None,
        mask: Any = None,
        target: Any = None,
    ) -> Any:
        """With ``target`` ``(batch, horizon)``: the teacher-forced
        :class:`~swets_ops.distributions.DistributionPrediction` of the prediction range
        (recorded when a tape is active). Without: the median ``(batch, horizon)`` or the quantiles
        ``(batch, horizon, Q)`` of ``num_samples`` sample paths (nothing recorded)."""
        if target is None:
            return Tensor(self._summary(self.sample(x, future, static, mask)))
        x, future, static, mask = self._prepare_all(x, future, static, mask)
        if active_tape() is not None:
            return self._teacher(TENSORS, x, future, static, mask, target)
        raw, scale, dist = self._teacher(ARRAYS, x, future, static, mask, target)
        return DistributionPrediction(Tensor(raw), scale, dist)

    def forward_arrays(  # type: ignore[override]
        self,
        x: np.ndarray,
        future: Any = None,
        static: Any = None,
        mask: Any = None,
        target: Any = None,
    ) -> Any:
        """:meth:`forward` on arrays, nothing recorded."""
        if target is None:
            return self._summary(self.sample(x, future, static, mask))
        x, future, static, mask = self._prepare_all(x, future, static, mask)
        return self._teacher(ARRAYS, x, future, static, mask, target)
