"""TransformerEncoderLayer and TransformerEncoder with PyTorch's structure and submodule names."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from swets_core import Module, Parameter, Tensor
from swets_core.errors import ConfigError
from swets_nn._common import (
    RngLike,
    as_generator,
    check_shape,
    child_generator,
    positive_int,
    probability,
)
from swets_nn._layer import LayerBase
from swets_nn.activation import activation as make_activation
from swets_nn.attention import MultiheadAttention
from swets_nn.container import LayerList
from swets_nn.dropout import Dropout
from swets_nn.linear import Linear
from swets_nn.normalization import LayerNorm
from swets_nn.paths import ARRAYS, ForwardPath, forward_on_path, to_input, to_input_array

__all__ = ["TransformerEncoder", "TransformerEncoderLayer", "clone_layer"]


def clone_layer(layer: Module, rng: RngLike = None) -> Module:
    """A deep copy of ``layer`` with its own parameters (same values, new ids).

    Dropout generators (``rng`` attributes) of the copy are replaced by fresh generators derived from
    ``rng`` so copies do not draw identical masks.
    """
    new = copy.deepcopy(layer)
    gen = None if rng is None else as_generator(rng, "clone_layer")
    for _, m in new.named_modules():
        for key, value in list(vars(m).items()):
            if isinstance(value, Parameter):
                setattr(m, key, Parameter(value._data))
            elif isinstance(value, (list, tuple)) and any(isinstance(v, Parameter) for v in value):
                items = [Parameter(v._data) if isinstance(v, Parameter) else v for v in value]
                setattr(m, key, type(value)(items) if isinstance(value, tuple) else items)
            elif key == "rng" and isinstance(value, np.random.Generator):
                setattr(m, key, child_generator(gen) if gen is not None else value)
    return new


_LAST = (slice(-1, None),)  # the last row of the first axis
_LAST_ROW = (slice(None), slice(-1, None))  # of the second


class TransformerEncoderLayer(LayerBase):
    """Self-attention then a feed-forward block, each with a residual connection and LayerNorm;
    PyTorch's ``nn.TransformerEncoderLayer``.

    Post-norm (default)::

        x = norm1(x + dropout1(self_attn(x)))
        x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

    Pre-norm (``norm_first=True``)::

        x = x + dropout1(self_attn(norm1(x)))
        x = x + dropout2(linear2(dropout(activation(linear1(norm2(x))))))

    Args:
        d_model: model width.
        nhead: attention heads.
        dim_feedforward: hidden width of the feed-forward block (2048, as PyTorch).
        dropout: dropout probability of the attention weights and of the three dropout layers (0.1).
        activation: ``"relu"``, ``"gelu"`` (or another activation name), a layer or a callable.
        layer_norm_eps: LayerNorm eps (1e-5).
        batch_first: **True by default** (unlike PyTorch): ``(N, L, d_model)``; False: ``(L, N, *)``.
        norm_first: pre-norm instead of post-norm.
        bias: biases in the linear layers, the attention and the norms.
        rng: numpy Generator or int seed for the initialisation (and the dropout generators).
        dtype: parameter dtype.

    Submodules: ``self_attn``, ``linear1``, ``dropout``, ``linear2``, ``norm1``, ``norm2``,
    ``dropout1``, ``dropout2``, ``activation``.

    Shape: ``src (N, L, d_model)`` (or ``(L, d_model)``), output the same.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Any = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = True,
        norm_first: bool = False,
        bias: bool = True,
        rng: RngLike = None,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        np_dtype = self._init_layer(
            rng, dtype, d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward
        )
        owner = self._kind
        p = probability(dropout, "dropout", owner)
        self.norm_first = bool(norm_first)
        self.batch_first = bool(batch_first)
        gen = self._rng
        self.self_attn = MultiheadAttention(
            self.d_model,
            self.nhead,
            dropout=p,
            bias=bias,
            batch_first=batch_first,
            rng=gen,
            dtype=np_dtype,
        )
        self.linear1 = Linear(
            self.d_model, self.dim_feedforward, bias=bias, rng=gen, dtype=np_dtype
        )
        self.dropout = Dropout(p, rng=child_generator(gen))
        self.linear2 = Linear(
            self.dim_feedforward, self.d_model, bias=bias, rng=gen, dtype=np_dtype
        )
        self.norm1 = LayerNorm(self.d_model, eps=layer_norm_eps, bias=bias, dtype=np_dtype)
        self.norm2 = LayerNorm(self.d_model, eps=layer_norm_eps, bias=bias, dtype=np_dtype)
        self.dropout1 = Dropout(p, rng=child_generator(gen))
        self.dropout2 = Dropout(p, rng=child_generator(gen))
        self.activation = make_activation(activation, owner)

    def reset_parameters(self, rng: RngLike = None) -> None:
        """Re-initialise every sub-layer (their PyTorch defaults)."""
        gen = self._generator(rng)
        for layer in (self.self_attn, self.linear1, self.linear2, self.norm1, self.norm2):
            layer.reset_parameters(gen)

    def forward(
        self,
        src: Tensor,
        src_mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool = False,
        *,
        last_position: bool = False,
    ) -> Tensor:
        """Encode ``src``; ``src_mask`` and ``src_key_padding_mask`` follow
        :class:`MultiheadAttention`'s ``attn_mask`` and ``key_padding_mask``.

        ``last_position=True`` computes the output at the last position only (``L = 1`` in the
        output shape), for a stack whose reader takes the last row: the keys and values still come
        from every position, the queries, the feed-forward block and the norms run on one row. The
        row equals the last row of the full output (the last query sees every key, with or
        without the causal mask).
        """
        x = to_input(src, "TransformerEncoderLayer", self.linear1.weight._data.dtype)
        masks = (src_mask, src_key_padding_mask)
        return forward_on_path(self._compute, x, *masks, is_causal, last_position)

    def forward_arrays(
        self,
        src: np.ndarray,
        src_mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool = False,
        *,
        last_position: bool = False,
    ) -> np.ndarray:
        """:meth:`forward` on arrays, nothing recorded."""
        dtype = self.linear1.weight._data.dtype
        if type(src) is not np.ndarray or src.dtype is not dtype:
            src = to_input_array(src, "TransformerEncoderLayer", dtype)
        return self._compute(ARRAYS, src, src_mask, src_key_padding_mask, is_causal, last_position)

    def _compute(
        self, p: ForwardPath, x: Any, mask: Any, kpm: Any, is_causal: bool, last: bool
    ) -> Any:
        """The layer on path ``p``: the PyTorch structure above; with ``last``, the queries and
        residuals of the last position only."""
        shape = x.shape
        nd = len(shape)
        if not 2 <= nd <= 3 or shape[-1] != self.d_model:
            seq = ("N", "L", self.d_model) if self.batch_first else ("L", "N", self.d_model)
            check_shape(x, self, seq, (2, 3), {-1: self.d_model})
        rows = None
        if last:
            # the last position's row: (N, 1, E), (1, N, E) or (1, E) unbatched
            rows = _LAST_ROW if nd == 3 and self.batch_first else _LAST
            if mask is not None:  # the last query's row of the mask
                if not isinstance(mask, (Tensor, np.ndarray)):
                    mask = np.asarray(mask)
                mask = mask[..., -1:, :]
            is_causal = False  # the last query sees every key with or without the mask
        f = p.forward
        # self-attention block: dropout1(self_attn(q, kv, kv)) for the queries q of the keys kv
        if self.norm_first:
            kv = f(self.norm1)(x)
            q = kv if rows is None else kv[rows]
            x = x if rows is None else x[rows]
        else:
            q = x if rows is None else x[rows]
            kv = x
        # (query, key, value, key_padding_mask, need_weights, attn_mask, average, is_causal)
        sa, _ = f(self.self_attn)(q, kv, kv, kpm, False, mask, True, is_causal)
        sa = f(self.dropout1)(sa)
        # then the feed-forward block dropout2(linear2(dropout(activation(linear1(z)))))
        if self.norm_first:
            x = p.op("add", x, sa)
            z = f(self.norm2)(x)
        else:
            x = z = f(self.norm1)(p.op("add", q, sa))
        ff = f(self.dropout2)(
            f(self.linear2)(f(self.dropout)(f(self.activation)(f(self.linear1)(z))))
        )
        if self.norm_first:
            return p.op("add", x, ff)
        return f(self.norm2)(p.op("add", x, ff))

    def extra_repr(self) -> str:
        return (
            f"d_model={self.d_model}, nhead={self.nhead}, dim_feedforward={self.dim_feedforward}, "
            f"norm_first={self.norm_first}, batch_first={self.batch_first}"
        )


class TransformerEncoder(Module):
    """A stack of encoder layers and an optional final norm, PyTorch's ``nn.TransformerEncoder``.

    Args:
        encoder_layer: a :class:`TransformerEncoderLayer` copied ``num_layers`` times (as PyTorch,
            the copies start with identical weights), or a dict of TransformerEncoderLayer
            arguments, in which case each layer is initialised independently from ``rng``.
        num_layers: number of layers.
        norm: a final layer (e.g. :class:`LayerNorm`), ``True`` for ``LayerNorm(d_model)``, or None.
        rng: numpy Generator or int seed: the dropout generators of the copies (and the weights when
            ``encoder_layer`` is a dict).

    Submodules: ``layers.0`` ... ``layers.{num_layers-1}``, ``norm``.

    Shape: ``src (N, L, d_model)``, output the same.
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer | Mapping[str, Any],
        num_layers: int,
        norm: Module | bool | None = None,
        rng: RngLike = None,
    ) -> None:
        super().__init__()
        self.num_layers = positive_int(num_layers, "num_layers", "TransformerEncoder")
        gen = as_generator(rng, "TransformerEncoder")
        if isinstance(encoder_layer, Mapping):
            cfg = dict(encoder_layer)
            if "rng" in cfg:
                raise ConfigError(
                    "TransformerEncoder: give rng to the encoder, not in encoder_layer"
                )
            layers = [TransformerEncoderLayer(**cfg, rng=gen) for _ in range(self.num_layers)]
        elif isinstance(encoder_layer, Module):
            layers = [clone_layer(encoder_layer, gen) for _ in range(self.num_layers)]
        else:
            raise ConfigError(
                "TransformerEncoder: encoder_layer must be a TransformerEncoderLayer or a dict of its "
                f"arguments, got {type(encoder_layer).__name__}"
            )
        self.layers = LayerList(layers)
        if norm is True:
            first = layers[0]
            d_model = getattr(first, "d_model", None)
            if d_model is None:
                raise ConfigError("TransformerEncoder: norm=True needs layers with a d_model")
            norm = LayerNorm(d_model, eps=first.norm1.eps, dtype=first.linear1.weight._data.dtype)
        elif norm is False:
            norm = None
        elif norm is not None and not isinstance(norm, Module):
            raise ConfigError(
                f"TransformerEncoder: norm must be a layer, True or None, got {norm!r}"
            )
        self.norm = norm

    def forward(
        self,
        src: Tensor,
        mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        """Run every layer in order, then the final norm."""
        return forward_on_path(self._compute, src, mask, src_key_padding_mask, is_causal)

    def forward_arrays(
        self,
        src: np.ndarray,
        mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool | None = None,
    ) -> np.ndarray:
        """:meth:`forward` on arrays, nothing recorded."""
        return self._compute(ARRAYS, src, mask, src_key_padding_mask, is_causal)

    def _compute(
        self, p: ForwardPath, src: Any, mask: Any, kpm: Any, is_causal: bool | None
    ) -> Any:
        out = src
        causal = bool(is_causal)
        for layer in self.layers:
            out = p.forward(layer)(out, src_mask=mask, src_key_padding_mask=kpm, is_causal=causal)
        if self.norm is not None:
            out = p.forward(self.norm)(out)
        return out

    def extra_repr(self) -> str:
        return f"num_layers={self.num_layers}"
