"""PatchTST (Nie, Nguyen, Sinthong and Kalagnanam, "A Time Series is Worth 64 Words: Long-term
Forecasting with Transformers", ICLR 2023): the window is cut into patches, each patch a token of a
Transformer encoder; channels are processed independently with shared weights, and a flatten head
maps every patch's state to the horizon. Here the channel is the target (channel independence means
the covariates' channels would not change its forecast, so the model reads the target alone)."""

from __future__ import annotations

from typing import Any

import numpy as np

from swets_core import Parameter
from swets_core.errors import ConfigError
from swets_models._base import ComposedLayer, choice, flag, positive_int, probability
from swets_models.transformer import EncoderForecaster
from swets_nn import BatchNorm1d, Dropout, LayerNorm, Linear, MultiheadAttention, init
from swets_nn.paths import ForwardPath

__all__ = ["PatchTSTEncoderLayer", "PatchTSTModel", "patch_index"]


def patch_index(lookback: int, patch_len: int, stride: int, pad_end: bool) -> np.ndarray:
    """The positions of the window each patch reads, int64 ``(patches, patch_len)``: patch ``n``
    is steps ``n * stride .. n * stride + patch_len - 1``. With ``pad_end`` the window is first
    extended by ``stride`` copies of its last value (the paper's padding, section 3.1), so there
    are ``(lookback - patch_len) // stride + 2`` patches, else ``+ 1``."""
    length = lookback + (stride if pad_end else 0)
    count = (length - patch_len) // stride + 1
    index = np.arange(count)[:, None] * stride + np.arange(patch_len)[None, :]
    return np.minimum(index, lookback - 1).astype(np.int64)


class PatchTSTEncoderLayer(ComposedLayer):
    """PatchTST's encoder layer: multi-head self-attention and a feed-forward block, each with a
    residual connection and dropout, followed (post-norm) by BatchNorm over the model width (the
    paper's choice, section 3.1) or LayerNorm::

        x = norm_attn(x + dropout_attn(self_attn(x)))
        x = norm_ffn(x + dropout_ffn(linear2(dropout(gelu(linear1(x))))))

    Shapes: ``(B, patches, d_model)`` in and out. BatchNorm normalizes each of the ``d_model``
    features over the batch and the patches (``BatchNorm1d`` on ``(B, d_model, patches)``); its
    running statistics update in training mode on either path (``forward`` or
    ``forward_arrays``).
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        dim_feedforward: int,
        dropout: float,
        norm: str,
        rng: np.random.Generator,
        dtype: Any,
    ) -> None:
        super().__init__()
        self.batch_norm = norm == "batch"
        self.self_attn = MultiheadAttention(d_model, n_heads, rng=rng, dtype=dtype)
        self.dropout_attn = Dropout(dropout, rng=rng.spawn(1)[0])
        self.linear1 = Linear(d_model, dim_feedforward, rng=rng, dtype=dtype)
        self.dropout = Dropout(dropout, rng=rng.spawn(1)[0])
        self.linear2 = Linear(dim_feedforward, d_model, rng=rng, dtype=dtype)
        self.dropout_ffn = Dropout(dropout, rng=rng.spawn(1)[0])
        make = BatchNorm1d if self.batch_norm else LayerNorm
        self.norm_attn = make(d_model, dtype=dtype)
        self.norm_ffn = make(d_model, dtype=dtype)

    def _norm(self, p: ForwardPath, norm: Any, x: Any) -> Any:
        if not self.batch_norm:
            return p.forward(norm)(x)
        return p.forward(norm)(x.transpose(0, 2, 1)).transpose(0, 2, 1)

    def _compute(self, p: ForwardPath, x: Any) -> Any:
        """``(B, patches, d_model)`` -> the same."""
        f = p.forward
        attended, _ = f(self.self_attn)(x, x, x, None, False)
        x = self._norm(p, self.norm_attn, p.op("add", x, f(self.dropout_attn)(attended)))
        h = f(self.dropout)(p.op("gelu", f(self.linear1)(x)))
        h = f(self.dropout_ffn)(f(self.linear2)(h))
        return self._norm(p, self.norm_ffn, p.op("add", x, h))


class PatchTSTModel(EncoderForecaster, registry_name="patchtst"):
    """PatchTST forecaster (registry name ``"patchtst"``), supervised, channel-independent.

    The target window (normalized by RevIN, on by default as in the paper) is cut into patches of
    ``patch_len`` steps every ``stride`` steps (:func:`patch_index`; with ``pad_end`` the window is
    first extended by ``stride`` copies of its last value); each patch is projected to ``d_model``
    (``W_P``), a learnable positional encoding ``W_pos`` (``(patches, d_model)``, U(-0.02, 0.02))
    is added, dropout, ``num_layers`` :class:`PatchTSTEncoderLayer`, and the flatten head
    ``Linear(patches * d_model, horizon * Q)`` (with dropout ``head_dropout`` before it).

    Args (all of them are the configuration returned by :meth:`config`, except ``rng``/``seed``):
        n_features: must be 1 (the target channel; see the module's docstring).
        lookback: input window length (at least ``patch_len``; the paper uses 336 and 512).
        horizon: steps forecast at once.
        patch_len, stride: patch length and the step between patches (paper: 16 and 8).
        pad_end: extend the window by ``stride`` copies of its last value before patching.
        d_model, n_heads, num_layers, dim_feedforward: the encoder (paper: 128, 16, 3, 256).
        dropout: after the positional encoding and in every layer (paper: 0.2).
        head_dropout: before the flatten head (paper: 0).
        norm: ``"batch"`` (paper) or ``"layer"``, the encoder layers' normalization.
        instance_norm: RevIN, on by default (the paper's ``revin=True``).
        instance_norm_affine: RevIN's learnt affine parameters; None: whenever RevIN is on (the
            paper's ``affine=True``).

    The covariate inputs must be 0 / empty; the other options every model shares
    (``quantiles``, ``dtype``, ``rng``/``seed``, ``input_size``) are
    :class:`~swets_models._base.ForecastingModel`'s.

    Shapes: input ``(batch, lookback, 1)``; output ``(batch, horizon)`` or
    ``(batch, horizon, len(quantiles))``.

    Parameters: ``patch_proj.*``, ``pos_embedding``, ``layers.{i}.self_attn.*``,
    ``layers.{i}.{linear1,linear2,norm_attn,norm_ffn}.*`` (BatchNorm's running statistics are
    buffers), ``head.*``, ``revin.*``.
    """

    supports_past_covariates = False
    supports_future_covariates = False
    supports_static_covariates = False

    def __init__(
        self,
        *,
        patch_len: int = 16,
        stride: int = 8,
        pad_end: bool = True,
        d_model: int = 128,
        n_heads: int = 16,
        num_layers: int = 3,
        dim_feedforward: int = 256,
        dropout: float = 0.2,
        head_dropout: float = 0.0,
        norm: str = "batch",
        instance_norm: bool = True,
        instance_norm_affine: bool | None = None,
        **common: Any,
    ) -> None:
        # the encoder's and RevIN's options named here for their defaults (the paper's)
        if instance_norm_affine is None:  # affine whenever RevIN is on (a job may turn it off)
            instance_norm_affine = instance_norm is True
        super().__init__(
            d_model=d_model,
            n_heads=n_heads,
            num_layers=num_layers,
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            instance_norm=instance_norm,
            instance_norm_affine=instance_norm_affine,
            **common,
        )
        owner = "PatchTSTModel"
        self.patch_len = positive_int(patch_len, "patch_len", owner)
        self.stride = positive_int(stride, "stride", owner)
        if self.patch_len > self.lookback:
            raise ConfigError(
                f"{owner}: patch_len ({self.patch_len}) must not exceed lookback ({self.lookback})"
            )
        self.pad_end = flag(pad_end, "pad_end", owner)
        self.head_dropout = probability(head_dropout, "head_dropout", owner)
        self.norm = choice(norm, "norm", owner, ("batch", "layer"))
        gen = self._generator()
        dt = self._dtype.value
        self._index = patch_index(self.lookback, self.patch_len, self.stride, self.pad_end)
        self.n_patches = len(self._index)
        self.patch_proj = Linear(self.patch_len, self.d_model, rng=gen, dtype=dt)
        self.pos_embedding = Parameter(np.zeros((self.n_patches, self.d_model), self._np_dtype))
        init.uniform_(self.pos_embedding, -0.02, 0.02, rng=gen)
        self.input_dropout = Dropout(self.dropout, rng=gen.spawn(1)[0])
        self.layers = [
            PatchTSTEncoderLayer(
                self.d_model, self.n_heads, self.dim_feedforward, self.dropout, self.norm, gen, dt
            )
            for _ in range(self.num_layers)
        ]
        self.head_dropout_layer = Dropout(self.head_dropout, rng=gen.spawn(1)[0])
        width = self.n_patches * self.d_model
        self.head = Linear(width, self.horizon * self.n_outputs, rng=gen, dtype=dt)
        self._init_inputs(gen)

    def _compute(self, p: ForwardPath, x: Any, future: Any, static: Any, mask: Any) -> Any:
        f = p.forward
        batch = x.shape[0]
        patches = x.reshape(batch, self.lookback)[:, self._index]  # (B, patches, patch_len)
        h = p.op("add", f(self.patch_proj)(patches), p.value(self.pos_embedding))
        h = f(self.input_dropout)(h)
        for layer in self.layers:
            h = f(layer)(h)
        h = f(self.head_dropout_layer)(h.reshape(batch, self.n_patches * self.d_model))
        return self._finish(p, f(self.head)(h))
