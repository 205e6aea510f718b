"""TiDE (Das, Kong, Leach, Mathur, Sen and Yu, "Long-term Forecasting with TiDE: Time-series Dense
Encoder", TMLR 2023): a dense encoder-decoder of residual blocks, with a feature projection of the
covariates, a temporal decoder per horizon step and a linear global residual from the lookback."""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_models._base import ComposedLayer, ForecastingModel, flag, positive_int, probability
from swets_nn import Dropout, LayerNorm, Linear
from swets_nn.paths import ForwardPath

__all__ = ["TiDEModel", "TiDEResidualBlock"]


class TiDEResidualBlock(ComposedLayer):
    """TiDE's residual block (section 4.1, figure 1): a ReLU hidden layer, a linear output layer
    and dropout, plus a linear skip connection from the input, then an optional layer norm::

        y = LayerNorm(dropout(W_2 relu(W_1 x + b_1) + b_2) + W_s x + b_s)

    Shapes: input ``(*, in_features)``, output ``(*, out_features)``.

    Parameters: ``hidden.{weight,bias}``, ``output.{weight,bias}``, ``skip.{weight,bias}``,
    ``norm.{weight,bias}`` (with the layer norm).
    """

    def __init__(
        self,
        in_features: int,
        hidden: int,
        out_features: int,
        dropout: float,
        layer_norm: bool,
        rng: np.random.Generator,
        dtype: Any,
    ) -> None:
        super().__init__()
        self.hidden = Linear(in_features, hidden, rng=rng, dtype=dtype)
        self.output = Linear(hidden, out_features, rng=rng, dtype=dtype)
        self.skip = Linear(in_features, out_features, rng=rng, dtype=dtype)
        self.dropout = Dropout(dropout, rng=rng.spawn(1)[0])
        self.norm = LayerNorm(out_features, dtype=dtype) if layer_norm else None

    def _compute(self, p: ForwardPath, x: Any) -> Any:
        """``(*, in_features)`` -> ``(*, out_features)``."""
        f = p.forward
        h = f(self.dropout)(f(self.output)(p.op("relu", f(self.hidden)(x))))
        y = p.op("add", h, f(self.skip)(x))
        return y if self.norm is None else f(self.norm)(y)


class TiDEModel(ForecastingModel, registry_name="tide"):
    """TiDE forecaster (registry name ``"tide"``).

    With target window ``y`` ``(B, L)``, past covariates ``x[:, :, 1:]`` ``(B, L, P)``, known
    covariates over the horizon ``future`` ``(B, H, K)`` and the static vector ``a``:

    1. **Feature projection**: a residual block maps each step's covariates to ``temporal_width``
       values, ``x~_t = R(x_t)``: one block for the known covariates (over the horizon), one for
       the past covariates (over the lookback, as NeuralForecast's TiDE).
    2. **Dense encoder**: ``num_encoder_layers`` residual blocks of width ``hidden_size`` read
       ``[y, flattened x~ of the lookback, flattened x~ of the horizon, a]``: ``e``.
    3. **Dense decoder**: ``num_decoder_layers`` residual blocks, the last of output
       ``decoder_output_dim * H``, reshaped to one vector ``d_t`` per horizon step.
    4. **Temporal decoder**: one residual block (hidden ``temporal_decoder_hidden``) per step,
       shared across steps, reads ``[d_t, x~_t]`` and gives the step's ``Q`` outputs.
    5. **Global residual**: a linear map from ``y`` to the ``H * Q`` outputs is added.

    Args (all of them are the configuration returned by :meth:`config`, except ``rng``/``seed``):
        n_features: features per step: the target, then the past covariates.
        lookback: input window length.
        horizon: steps forecast at once.
        hidden_size: width of the encoder's and decoder's blocks (and of the feature projection's
            hidden layer).
        num_encoder_layers, num_decoder_layers: residual blocks of the encoder and the decoder.
        decoder_output_dim: ``p``, the size of each step's decoded vector ``d_t``.
        temporal_decoder_hidden: hidden width of the temporal decoder.
        temporal_width: ``r~``, the size of each step's projected covariates.
        dropout: dropout of every residual block's output (training mode only).
        layer_norm: layer norm at the end of the residual blocks (all but the temporal
            decoder's: see ``docs/models.md``).
        The options every model shares (the covariate inputs, instance normalization,
            ``quantiles``, ``dtype``, ``rng``/``seed``) are
            :class:`~swets_models._base.ForecastingModel`'s.

    Shapes: input ``(batch, lookback, n_features)``; output ``(batch, horizon)`` or
    ``(batch, horizon, len(quantiles))``.

    Parameters: ``future_projection.*``, ``past_projection.*`` (with covariates),
    ``encoder.{i}.*``, ``decoder.{i}.*``, ``temporal_decoder.*``, ``global_skip.{weight,bias}``.
    """

    def __init__(
        self,
        *,
        hidden_size: int = 512,
        num_encoder_layers: int = 1,
        num_decoder_layers: int = 1,
        decoder_output_dim: int = 32,
        temporal_decoder_hidden: int = 128,
        temporal_width: int = 4,
        dropout: float = 0.3,
        layer_norm: bool = True,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        owner = "TiDEModel"
        self.hidden_size = positive_int(hidden_size, "hidden_size", owner)
        self.num_encoder_layers = positive_int(num_encoder_layers, "num_encoder_layers", owner)
        self.num_decoder_layers = positive_int(num_decoder_layers, "num_decoder_layers", owner)
        self.decoder_output_dim = positive_int(decoder_output_dim, "decoder_output_dim", owner)
        self.temporal_decoder_hidden = positive_int(
            temporal_decoder_hidden, "temporal_decoder_hidden", owner
        )
        self.temporal_width = positive_int(temporal_width, "temporal_width", owner)
        self.dropout = probability(dropout, "dropout", owner)
        self.layer_norm = flag(layer_norm, "layer_norm", owner)
        gen = self._generator()
        self._init_inputs(gen)
        k = self.n_future_features
        dt, hid, tw = self._dtype.value, self.hidden_size, self.temporal_width
        L, H, past = self.lookback, self.horizon, self.n_features - 1

        def block(n_in: int, hidden: int, n_out: int, norm: bool = self.layer_norm) -> Any:
            return TiDEResidualBlock(n_in, hidden, n_out, self.dropout, norm, gen, dt)

        self.past_projection = block(past, hid, tw) if past else None
        self.future_projection = block(k, hid, tw) if k else None
        static = 0 if self.static_covariates is None else self.static_covariates.width
        width = L + (L * tw if past else 0) + (H * tw if k else 0) + static
        self.encoder = [block(width, hid, hid)]
        self.encoder += [block(hid, hid, hid) for _ in range(self.num_encoder_layers - 1)]
        self.decoder = [block(hid, hid, hid) for _ in range(self.num_decoder_layers - 1)]
        self.decoder.append(block(hid, hid, self.decoder_output_dim * H))
        decoded = self.decoder_output_dim + (tw if k else 0)
        # no layer norm over the n_outputs values of a step (over one value it would erase them)
        self.temporal_decoder = block(decoded, self.temporal_decoder_hidden, self.n_outputs, False)
        self.global_skip = Linear(L, H * self.n_outputs, rng=gen, dtype=dt)

    def _reference_parameter(self) -> Any:
        return self.global_skip.weight

    def _compute(self, p: ForwardPath, x: Any, future: Any, static: Any, mask: Any) -> Any:
        f = p.forward
        batch = x.shape[0]
        y = x[:, :, 0]
        parts = [y]
        if self.past_projection is not None:
            projected = f(self.past_projection)(x[:, :, 1:])  # (B, L, tw)
            parts.append(projected.reshape(batch, self.lookback * self.temporal_width))
        projected_future = None
        if self.future_projection is not None:
            projected_future = f(self.future_projection)(future)  # (B, H, tw)
            parts.append(projected_future.reshape(batch, self.horizon * self.temporal_width))
        if static is not None:
            assert self.static_covariates is not None
            parts.append(self.static_covariates.compute(p, static))
        h = parts[0] if len(parts) == 1 else p.op("concat", *parts, axis=1)
        for layer in (*self.encoder, *self.decoder):
            h = f(layer)(h)
        h = h.reshape(batch, self.horizon, self.decoder_output_dim)
        if projected_future is not None:
            h = p.op("concat", h, projected_future, axis=2)
        out = f(self.temporal_decoder)(h)  # (B, H, Q)
        out = out.reshape(batch, self.horizon * self.n_outputs)
        return self._finish(p, p.op("add", out, f(self.global_skip)(y)))
