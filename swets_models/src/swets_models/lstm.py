"""Stacked LSTM encoder with a direct multi-step linear head."""

from __future__ import annotations

from typing import Any

from swets_models._base import ForecastingModel, positive_int, probability
from swets_nn import LSTM
from swets_nn.paths import ForwardPath

__all__ = ["LSTMModel", "RecurrentForecaster"]


class RecurrentForecaster(ForecastingModel):
    """What the LSTM forecaster and DeepAR share: a stacked, batch-first :class:`swets_nn.LSTM`
    read by a linear ``head``, and its options, checked and stored here.

    Args:
        hidden_size: LSTM hidden state size.
        num_layers: stacked LSTM layers.
        dropout: dropout between LSTM layers (training mode only; needs ``num_layers > 1`` to act).
        **common: the options every model shares (:class:`ForecastingModel`).
    """

    def __init__(
        self, *, hidden_size: int = 64, num_layers: int = 2, dropout: float = 0.0, **common: Any
    ) -> None:
        super().__init__(**common)
        owner = type(self).__name__
        self.hidden_size = positive_int(hidden_size, "hidden_size", owner)
        self.num_layers = positive_int(num_layers, "num_layers", owner)
        self.dropout = probability(dropout, "dropout", owner)

    def _init_lstm(self, input_width: int, rng: Any) -> None:
        """``self.lstm``, reading ``input_width`` values per step."""
        self.lstm = LSTM(
            input_width,
            self.hidden_size,
            num_layers=self.num_layers,
            batch_first=True,
            dropout=self.dropout,
            rng=rng,
            dtype=self._dtype.value,
        )


class LSTMModel(RecurrentForecaster, registry_name="lstm"):
    """LSTM forecaster (registry name ``"lstm"``).

    A stacked, batch-first :class:`swets_nn.LSTM` reads the window; a linear head maps the last
    layer's hidden state at the last step to all ``horizon`` steps at once (direct multi-step, no
    recursion on its own forecasts). Known covariates over the horizon and static covariates are
    head inputs, concatenated after the hidden state (the decoder of MQ-RNN style direct
    forecasters, with the encoder's last state as context).

    Its options (the configuration returned by :meth:`config`): ``hidden_size``, ``num_layers``
    and ``dropout``, :class:`RecurrentForecaster`'s, and the options every model shares (the
    covariate inputs, instance normalization, ``quantiles``, ``dtype``, ``rng``/``seed``,
    ``input_size``), :class:`ForecastingModel`'s.

    Shapes:
        input ``(batch, lookback, n_features)``, read one step at a time; the head reads
        ``(batch, hidden_size + exogenous width)``; output ``(batch, horizon)`` or
        ``(batch, horizon, len(quantiles))``.

    Parameters: ``lstm.weight_ih_l{k}``, ``lstm.weight_hh_l{k}``, ``lstm.bias_ih_l{k}``,
    ``lstm.bias_hh_l{k}`` (PyTorch's names and gate order), ``head.weight``, ``head.bias``.
    """

    def __init__(self, **common: Any) -> None:
        super().__init__(**common)
        gen = self._generator()
        self._init_lstm(self.n_features, gen)
        self._init_inputs(gen)
        self._init_head(self.hidden_size, gen)

    def _compute(self, p: ForwardPath, x: Any, future: Any, static: Any, mask: Any) -> Any:
        _, (h_n, _) = p.forward(self.lstm)(x)
        last = h_n[-1]  # the last layer's final hidden state (batch, hidden)
        last = self._with_exogenous(p, last, future, static)
        return self._finish(p, p.forward(self.head)(last))
