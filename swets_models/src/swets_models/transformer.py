"""Transformer encoder forecaster: input projection, positional encoding, encoder stack, horizon head."""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core import Parameter, Tensor
from swets_models._base import (
    DtypeCache,
    ForecastingModel,
    choice,
    flag,
    positive_int,
    probability,
    sinusoidal_encoding,
)
from swets_nn import Dropout, LayerNorm, Linear, TransformerEncoderLayer, init
from swets_nn.attention import head_width
from swets_nn.paths import ForwardPath, forward_on_path

__all__ = ["EncoderForecaster", "TransformerModel"]


class EncoderForecaster(ForecastingModel):
    """What the Transformer and PatchTST forecasters share: a stack of encoder layers read by a
    linear ``head``, and its options, checked and stored here.

    Args:
        d_model: model width.
        n_heads: attention heads (must divide ``d_model``).
        num_layers: encoder layers.
        dim_feedforward: hidden width of each feed-forward block.
        dropout: dropout after the positional encoding and inside every encoder layer.
        **common: the options every model shares (:class:`ForecastingModel`).
    """

    def __init__(
        self,
        *,
        d_model: int = 64,
        n_heads: int = 4,
        num_layers: int = 2,
        dim_feedforward: int = 128,
        dropout: float = 0.1,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        owner = type(self).__name__
        self.d_model = positive_int(d_model, "d_model", owner)
        self.n_heads = positive_int(n_heads, "n_heads", owner)
        head_width(self.d_model, self.n_heads, owner, ("d_model", "n_heads"))
        self.num_layers = positive_int(num_layers, "num_layers", owner)
        self.dim_feedforward = positive_int(dim_feedforward, "dim_feedforward", owner)
        self.dropout = probability(dropout, "dropout", owner)


class TransformerModel(EncoderForecaster, registry_name="transformer"):
    """Transformer encoder forecaster (registry name ``"transformer"``).

    ``h = Linear(n_features, d_model)(x) + PE``, dropout, ``num_layers`` encoder layers (self-attention
    and a feed-forward block, pre- or post-norm), a final LayerNorm when ``norm_first`` (as pre-norm
    stacks need), then the head:

    - ``head="last"``: ``Linear(d_model, horizon * Q)`` on the last position (with ``causal=True`` the
      last position is the only one that has seen the whole window);
    - ``head="flatten"``: ``Linear(lookback * d_model, horizon * Q)`` on every position at once.

    Known covariates over the horizon and static covariates are head inputs, concatenated after
    what the head reads (the last position's state, or every position's): the encoder summarizes
    the past, the head combines it with what is known of the horizon.

    The encoder's options (``d_model``, ``n_heads``, ``num_layers``, ``dim_feedforward``,
    ``dropout``) are :class:`EncoderForecaster`'s, the options every model shares (the covariate
    inputs, instance normalization, ``quantiles``, ``dtype``, ``rng``/``seed``, ``input_size``)
    :class:`ForecastingModel`'s.

    Args (all of them are the configuration returned by :meth:`config`, except ``rng``/``seed``):
        n_features: features per step (feature 0 is the target, then the past covariates and the
            known covariates' history).
        lookback: input window length (the positional table has this many rows).
        horizon: steps forecast at once.
        activation: ``"relu"`` or ``"gelu"`` in the feed-forward blocks.
        norm_first: pre-norm layers (True) or post-norm (False, the original Transformer).
        positional: ``"sinusoidal"`` (fixed) or ``"learned"`` (a ``(lookback, d_model)`` parameter
            initialised N(0, 0.02)).
        causal: mask attention so position ``t`` sees positions ``<= t`` only.
        head: ``"last"`` or ``"flatten"`` (see above).

    Shapes:
        input ``(batch, lookback, n_features)``, encoded as ``(batch, lookback, d_model)``;
        output ``(batch, horizon)`` or ``(batch, horizon, len(quantiles))``.

    Parameters: ``input_proj``, ``pos_embedding`` (learned positions), ``layers.{k}`` (PyTorch's
    names: ``self_attn.in_proj_weight``, ``linear1``, ``norm1``...), ``final_norm`` (pre-norm),
    ``head``.
    """

    def __init__(
        self,
        *,
        activation: str = "gelu",
        norm_first: bool = True,
        positional: str = "sinusoidal",
        causal: bool = False,
        head: str = "last",
        **common: Any,
    ) -> None:
        super().__init__(**common)
        owner = "TransformerModel"
        self.activation = choice(activation, "activation", owner, ("relu", "gelu"))
        self.norm_first = flag(norm_first, "norm_first", owner)
        self.positional = choice(positional, "positional", owner, ("sinusoidal", "learned"))
        self.causal = flag(causal, "causal", owner)
        self.head_type = choice(head, "head", owner, ("last", "flatten"))
        gen = self._generator()
        dt = self._dtype.value
        self.input_proj = Linear(self.n_features, self.d_model, rng=gen, dtype=dt)
        self._pe: DtypeCache | None = None
        if self.positional == "learned":
            self.pos_embedding = Parameter(np.zeros((self.lookback, self.d_model), self._np_dtype))
            init.normal_(self.pos_embedding, 0.0, 0.02, rng=gen)
        else:
            self._pe = DtypeCache(sinusoidal_encoding(self.lookback, self.d_model))
        self.input_dropout = Dropout(self.dropout, rng=gen.spawn(1)[0])
        self.layers = [
            TransformerEncoderLayer(
                self.d_model,
                self.n_heads,
                dim_feedforward=self.dim_feedforward,
                dropout=self.dropout,
                activation=self.activation,
                batch_first=True,
                norm_first=self.norm_first,
                rng=gen,
                dtype=dt,
            )
            for _ in range(self.num_layers)
        ]
        self.final_norm = LayerNorm(self.d_model, dtype=dt) if self.norm_first else None
        self._init_inputs(gen)
        width = self.d_model if self.head_type == "last" else self.lookback * self.d_model
        self._init_head(width, gen)

    def _option(self, name: str) -> Any:
        """``head`` is stored as ``head_type`` (``head`` is the head layer)."""
        return self.head_type if name == "head" else super()._option(name)

    def encode(self, x: Tensor) -> Tensor:
        """The encoder states ``(batch, lookback, d_model)`` before the final norm and the head (with
        ``causal=True`` row ``t`` depends on input steps ``<= t`` only)."""
        return forward_on_path(self._encode, self._prepare(x), False)

    def _encode(self, p: ForwardPath, x: Any, last_only: bool) -> Any:
        """Embedding, positions and the encoder layers: ``(N, L, d_model)``, or ``(N, 1, d_model)``
        with ``last_only`` (the last layer computes the last position alone)."""
        h = p.forward(self.input_proj)(x)
        if self._pe is None:
            pos = p.value(self.pos_embedding)
        else:
            pos = self._pe.get(self.input_proj.weight._data.dtype)
        h = p.forward(self.input_dropout)(p.op("add", h, pos))
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            h = p.forward(layer)(h, is_causal=self.causal, last_position=last_only and i == last)
        return h

    def _compute(self, p: ForwardPath, x: Any, future: Any, static: Any, mask: Any) -> Any:
        last_only = self.head_type == "last"  # only the last position reaches the head
        h = self._encode(p, x, last_only)
        if last_only:
            h = h.reshape(h.shape[0], self.d_model)
        if self.final_norm is not None:
            h = p.forward(self.final_norm)(h)  # per position: commutes with taking the last row
        if self.head_type == "flatten":
            h = h.reshape(h.shape[0], self.lookback * self.d_model)
        h = self._with_exogenous(p, h, future, static)
        return self._finish(p, p.forward(self.head)(h))
