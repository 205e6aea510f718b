"""Transformer encoder forecaster: input projection, positional encoding, encoder stack, horizon head."""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core import Parameter, Tensor, ops
from swets_core.autograd import active_tape
from swets_core.errors import ConfigError
from swets_models._base import (
    DtypeCache,
    ForecastingModel,
    RngLike,
    choice,
    dropout_arrays,
    flag,
    linear_arrays,
    positive_int,
    probability,
    resolve_rng,
    run_op,
    sinusoidal_encoding,
)
from swets_nn import Dropout, LayerNorm, Linear, TransformerEncoderLayer, init

__all__ = ["TransformerModel"]


class TransformerModel(ForecastingModel):
    """Transformer encoder forecaster (registry name ``"transformer"``).

    ``h = Linear(n_features, d_model)(x) + PE``, dropout, ``num_layers`` encoder layers (self-attention
    and a feed-forward block, pre- or post-norm), a final LayerNorm when ``norm_first`` (as pre-norm
    stacks need), then the head:

    - ``head="last"``: ``Linear(d_model, horizon * Q)`` on the last position (with ``causal=True`` the
      last position is the only one that has seen the whole window);
    - ``head="flatten"``: ``Linear(lookback * d_model, horizon * Q)`` on every position at once.

    Args (all of them are the configuration returned by :meth:`config`, except ``rng``/``seed``):
        n_features: features per step (feature 0 is the target, the rest past covariates).
        lookback: input window length (the positional table has this many rows).
        horizon: steps forecast at once.
        d_model: model width.
        n_heads: attention heads (must divide ``d_model``).
        num_layers: encoder layers.
        dim_feedforward: hidden width of each feed-forward block.
        dropout: dropout after the positional encoding and inside every encoder layer.
        activation: ``"relu"`` or ``"gelu"`` in the feed-forward blocks.
        norm_first: pre-norm layers (True) or post-norm (False, the original Transformer).
        positional: ``"sinusoidal"`` (fixed) or ``"learned"`` (a ``(lookback, d_model)`` parameter
            initialised N(0, 0.02)).
        causal: mask attention so position ``t`` sees positions ``<= t`` only.
        head: ``"last"`` or ``"flatten"`` (see above).
        quantiles: None for a point forecast, else the levels of a quantile head.
        dtype: ``"float32"`` or ``"float64"``.
        rng / seed: numpy Generator or int seed for the initial parameters and dropout streams.

    Shapes:
        input ``(batch, lookback, n_features)``; output ``(batch, horizon)`` or
        ``(batch, horizon, len(quantiles))``.
    """

    registry_name = "transformer"

    def __init__(
        self,
        n_features: int = 1,
        lookback: int = 96,
        horizon: int = 24,
        d_model: int = 64,
        n_heads: int = 4,
        num_layers: int = 2,
        dim_feedforward: int = 128,
        dropout: float = 0.1,
        activation: str = "gelu",
        norm_first: bool = True,
        positional: str = "sinusoidal",
        causal: bool = False,
        head: str = "last",
        quantiles: list[float] | None = None,
        dtype: Any = "float32",
        rng: RngLike = None,
        seed: int | None = None,
        input_size: int | None = None,
    ) -> None:
        super().__init__()
        owner = "TransformerModel"
        self._init_common(n_features, lookback, horizon, quantiles, dtype, input_size)
        self.d_model = positive_int(d_model, "d_model", owner)
        self.n_heads = positive_int(n_heads, "n_heads", owner)
        if self.d_model % self.n_heads:
            raise ConfigError(
                f"{owner}: n_heads ({self.n_heads}) must divide d_model ({self.d_model})"
            )
        self.num_layers = positive_int(num_layers, "num_layers", owner)
        self.dim_feedforward = positive_int(dim_feedforward, "dim_feedforward", owner)
        self.dropout = probability(dropout, "dropout", owner)
        self.activation = choice(activation, "activation", owner, ("relu", "gelu"))
        self.norm_first = flag(norm_first, "norm_first", owner)
        self.positional = choice(positional, "positional", owner, ("sinusoidal", "learned"))
        self.causal = flag(causal, "causal", owner)
        self.head_type = choice(head, "head", owner, ("last", "flatten"))
        gen = resolve_rng(rng, seed, owner)
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
        width = self.d_model if self.head_type == "last" else self.lookback * self.d_model
        self.head = Linear(width, self.horizon * self.n_outputs, rng=gen, dtype=dt)

    def _reference_parameter(self) -> Any:
        return self.head.weight

    def config(self) -> dict[str, Any]:
        """``n_features, lookback, horizon, d_model, n_heads, num_layers, dim_feedforward, dropout,
        activation, norm_first, positional, causal, head, quantiles, dtype``."""
        return {
            **self._common_config(),
            "d_model": self.d_model,
            "n_heads": self.n_heads,
            "num_layers": self.num_layers,
            "dim_feedforward": self.dim_feedforward,
            "dropout": self.dropout,
            "activation": self.activation,
            "norm_first": self.norm_first,
            "positional": self.positional,
            "causal": self.causal,
            "head": self.head_type,
            "dtype": self.dtype,
        }

    def _embed(self, x: Tensor) -> Tensor:
        h = self.input_proj(x)
        if self._pe is None:
            h = ops.add(h, self.pos_embedding)
        else:
            h = ops.add(h, self._pe.get(h._data.dtype))
        return self.input_dropout(h)

    def encode(self, x: Tensor) -> Tensor:
        """The encoder states ``(batch, lookback, d_model)`` before the final norm and the head (with
        ``causal=True`` row ``t`` depends on input steps ``<= t`` only)."""
        h = self._embed(self._prepare(x))
        for layer in self.layers:
            h = layer(h, is_causal=self.causal)
        return h

    @staticmethod
    def _last_position(layer: TransformerEncoderLayer, h: Tensor) -> Tensor:
        """``layer(h)[:, -1]`` computed for the last query only: ``(batch, d_model)``.

        Keys and values still come from every position; the attention output, the feed-forward
        block and the norms run on one row instead of ``lookback``. The last query attends to every
        position with or without the causal mask, so no mask is needed.
        """

        def feed_forward(z: Tensor) -> Tensor:
            z = layer.dropout(layer.activation(layer.linear1(z)))
            return layer.dropout2(layer.linear2(z))

        last = ops.getitem(h, index=(slice(None), slice(-1, None)))  # (batch, 1, d_model)
        if layer.norm_first:
            hn = layer.norm1(h)
            q = ops.getitem(hn, index=(slice(None), slice(-1, None)))
            attn, _ = layer.self_attn(q, hn, hn, need_weights=False)
            z = ops.add(last, layer.dropout1(attn))
            z = ops.add(z, feed_forward(layer.norm2(z)))
        else:
            attn, _ = layer.self_attn(last, h, h, need_weights=False)
            z = layer.norm1(ops.add(last, layer.dropout1(attn)))
            z = layer.norm2(ops.add(z, feed_forward(z)))
        return ops.reshape(z, shape=(z._data.shape[0], z._data.shape[2]))

    # -- the tape-free path: the recorded forward's ops on arrays, without a Tensor or a layer call
    # around each of them (most of the time of a batch-1 forecast)

    @staticmethod
    def _norm_arrays(norm: LayerNorm, h: np.ndarray) -> np.ndarray:
        w = None if norm.weight is None else norm.weight._data
        b = None if norm.bias is None else norm.bias._data
        return run_op("layer_norm", h, w, b, eps=norm.eps)

    def _feed_forward_arrays(self, layer: TransformerEncoderLayer, z: np.ndarray) -> np.ndarray:
        z = run_op(self.activation, linear_arrays(layer.linear1, z))
        z = dropout_arrays(layer.dropout, z)
        return dropout_arrays(layer.dropout2, linear_arrays(layer.linear2, z))

    def _attention_arrays(
        self, layer: TransformerEncoderLayer, q_in: np.ndarray | None, kv_in: np.ndarray
    ) -> np.ndarray:
        """The layer's self-attention block (output projection and dropout1 included) for the
        queries ``q_in`` ``(N, Lq, d_model)`` (None: every position of ``kv_in``, with the model's
        causal mask) over ``kv_in`` ``(N, L, d_model)``."""
        mha = layer.self_attn
        e, heads, hd = self.d_model, self.n_heads, self.d_model // self.n_heads
        w = mha.in_proj_weight._data
        b = None if mha.in_proj_bias is None else mha.in_proj_bias._data
        n, length = kv_in.shape[0], kv_in.shape[1]
        if q_in is None:  # one product for q, k and v
            qkv = run_op("linear", kv_in, w) if b is None else run_op("linear", kv_in, w, b)
            q, kv = qkv[..., :e], qkv[..., e:]
            causal = self.causal
        else:
            q = run_op("linear", q_in, w[:e]) if b is None else run_op("linear", q_in, w[:e], b[:e])
            kv = (
                run_op("linear", kv_in, w[e:])
                if b is None
                else run_op("linear", kv_in, w[e:], b[e:])
            )
            causal = False  # the last query sees every key with or without the mask
        lq = q.shape[1]
        q = q.reshape(n, lq, heads, hd).transpose(0, 2, 1, 3)
        k = kv[..., :e].reshape(n, length, heads, hd).transpose(0, 2, 1, 3)
        v = kv[..., e:].reshape(n, length, heads, hd).transpose(0, 2, 1, 3)
        attrs: dict[str, Any] = {"is_causal": True} if causal else {}
        if mha.training and mha.dropout > 0.0:
            attrs.update(dropout_p=mha.dropout, rng=mha.rng)
        out = run_op("scaled_dot_product_attention", q, k, v, **attrs)  # (N, heads, Lq, hd)
        out = out.transpose(0, 2, 1, 3).reshape(n, lq, e)
        return dropout_arrays(layer.dropout1, linear_arrays(mha.out_proj, out))

    def _layer_arrays(
        self, layer: TransformerEncoderLayer, h: np.ndarray, last_only: bool
    ) -> np.ndarray:
        """One encoder layer on arrays: ``(N, L, d_model)`` -> ``(N, L, d_model)``, or
        ``(N, 1, d_model)`` for the last position alone (see :meth:`_last_position`)."""
        last = h[:, -1:] if last_only else None
        if layer.norm_first:
            hn = self._norm_arrays(layer.norm1, h)
            z = run_op(
                "add",
                h if last is None else last,
                self._attention_arrays(layer, None if last is None else hn[:, -1:], hn),
            )
            return run_op(
                "add", z, self._feed_forward_arrays(layer, self._norm_arrays(layer.norm2, z))
            )
        z = run_op("add", h if last is None else last, self._attention_arrays(layer, last, h))
        z = self._norm_arrays(layer.norm1, z)
        return self._norm_arrays(layer.norm2, run_op("add", z, self._feed_forward_arrays(layer, z)))

    def _forward_arrays(self, x: np.ndarray) -> np.ndarray:
        """The whole forward on arrays (nothing records): ``(N, lookback, n_features)`` ->
        the head's output ``(N, horizon * Q)``."""
        h = linear_arrays(self.input_proj, x)
        pos = self.pos_embedding._data if self._pe is None else self._pe.get(h.dtype)
        h = dropout_arrays(self.input_dropout, run_op("add", h, pos))
        last_only = self.head_type == "last"
        for i, layer in enumerate(self.layers):
            h = self._layer_arrays(layer, h, last_only and i == len(self.layers) - 1)
        if last_only:
            h = h[:, 0]
        if self.final_norm is not None:
            h = self._norm_arrays(self.final_norm, h)
        if self.head_type == "flatten":
            h = h.reshape(h.shape[0], self.lookback * self.d_model)
        return linear_arrays(self.head, h)

    def forward(self, x: Tensor) -> Tensor:
        """``(batch, lookback, n_features)`` -> ``(batch, horizon)`` or ``(batch, horizon, Q)``."""
        x = self._prepare(x)
        if active_tape() is None:  # nothing records: the same ops on arrays
            return self._finish(Tensor(self._forward_arrays(x._data)))
        h = self._embed(x)
        if self.head_type == "last":
            # only the last position reaches the head: the last layer computes that row alone
            for layer in self.layers[:-1]:
                h = layer(h, is_causal=self.causal)
            h = self._last_position(self.layers[-1], h)
        else:
            for layer in self.layers:
                h = layer(h, is_causal=self.causal)
        if self.final_norm is not None:
            h = self.final_norm(h)  # per position, so it commutes with taking the last row
        if self.head_type == "flatten":
            h = ops.reshape(h, shape=(h._data.shape[0], self.lookback * self.d_model))
        return self._finish(self.head(h))
