"""MultiheadAttention with PyTorch's parameter names, scaling and mask conventions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from swets_core import Parameter, Tensor, active_tape, ops
from swets_core.errors import ConfigError, DTypeError, ShapeError
from swets_nn import init
from swets_nn._common import (
    RngLike,
    child_generator,
    describe,
    float_dtype,
    positive_int,
    probability,
)
from swets_nn._layer import LayerBase
from swets_nn.linear import Linear
from swets_nn.paths import ARRAYS, TENSORS, ForwardPath, Parts, as_tensors, to_input, to_input_array

__all__ = ["MultiheadAttention", "causal_mask", "head_width"]


def causal_mask(size: int, dtype: Any = "float32") -> np.ndarray:
    """A ``(size, size)`` additive mask: 0 on and below the diagonal, ``-inf`` above it.

    Same as PyTorch's ``nn.Transformer.generate_square_subsequent_mask``; pass it as ``attn_mask``.
    """
    n = positive_int(size, "size", "causal_mask")
    mask = np.zeros((n, n), dtype=float_dtype(dtype, "causal_mask"))
    mask[np.triu_indices(n, k=1)] = -np.inf
    return mask


def _mask_array(p: ForwardPath, mask: Any, name: str, owner: Any, dtype: np.dtype) -> Any:
    """A mask as an additive float array (or Tensor, on the Tensor path): bool True (masked out)
    becomes ``-inf``."""
    if isinstance(mask, Tensor):
        arr = mask._data
        if not p.arrays and arr.dtype.kind == "f" and (mask._trainable or arr.dtype == dtype):
            return mask if arr.dtype == dtype else ops.cast(mask, dtype=str(dtype))
    else:
        arr = np.asarray(mask)
    if arr.dtype == np.bool_:
        out = np.zeros(arr.shape, dtype)
        out[arr] = -np.inf
        return out
    if arr.dtype.kind == "f":
        return arr.astype(dtype, copy=False)
    raise DTypeError(
        f"{_name(owner)}: {name} must be a bool or floating-point mask, got dtype {arr.dtype}"
    )


def _name(owner: Any) -> str:
    return owner if isinstance(owner, str) else describe(owner)


def _shape(m: Any) -> tuple[int, ...]:
    return m._data.shape if isinstance(m, Tensor) else m.shape


def _reshape(m: Any, shape: tuple[int, ...]) -> Any:
    return ops.reshape(m, shape=shape) if isinstance(m, Tensor) else m.reshape(shape)


def _pad_last(m: Any, extra: int) -> Any:
    width = [(0, 0)] * (len(_shape(m)) - 1) + [(0, extra)]
    if isinstance(m, Tensor):
        return ops.pad(m, pad_width=tuple(width), value=0.0)
    return np.pad(m, width)


def head_width(
    embed_dim: int, num_heads: int, owner: str, names: tuple[str, str] = ("embed_dim", "num_heads")
) -> int:
    """The width of one head, ``embed_dim // num_heads``, for ``num_heads`` heads splitting a
    width of ``embed_dim``; a :class:`~swets_core.errors.ConfigError` naming ``owner`` and the two
    options (``names``: as the caller calls them) when the heads do not divide the width."""
    if embed_dim % num_heads:
        width, heads = names
        raise ConfigError(
            f"{owner}: {width} ({embed_dim}) must be divisible by {heads} ({num_heads})"
        )
    return embed_dim // num_heads


class MultiheadAttention(LayerBase):
    """Multi-head scaled dot-product attention, PyTorch's ``nn.MultiheadAttention``.

    ``head_i = softmax(Q_i K_i^T / sqrt(head_dim) + mask) V_i`` for ``Q = query W_q^T + b_q`` etc.;
    the heads are concatenated and projected by ``out_proj``.

    Args:
        embed_dim: model width ``E`` (divisible by ``num_heads``).
        num_heads: number of heads; ``head_dim = E / num_heads``.
        dropout: dropout on the attention weights in training mode (``self.rng`` draws the masks).
        bias: learn ``in_proj_bias`` and ``out_proj.bias``.
        add_bias_kv: learn ``bias_k`` and ``bias_v`` ``(1, 1, E)`` appended to the key and value
            sequences.
        add_zero_attn: append a zero key and value (per head) to the sequences.
        kdim, vdim: feature sizes of key and value (default ``E``); when they differ from ``E``,
            separate ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight`` replace
            ``in_proj_weight``.
        batch_first: **True by default** (unlike PyTorch): inputs are ``(N, L, E)``; False means
            ``(L, N, E)``.
        rng: numpy Generator or int seed for the initialisation; ``self.rng`` derives from it.
        dtype: parameter dtype.

    Shapes:
        query ``(N, L, E)``, key ``(N, S, kdim)``, value ``(N, S, vdim)`` (or unbatched ``(L, E)``...).
        ``key_padding_mask (N, S)``: bool True = ignore that key, or float added to the scores.
        ``attn_mask (L, S)`` or ``(N * num_heads, L, S)``: bool True = not allowed to attend (the
        PyTorch MultiheadAttention convention), or float added to the scores.
        Returns ``(output (N, L, E), weights)``: ``weights`` is ``(N, L, S)`` averaged over heads,
        ``(N, num_heads, L, S)`` with ``average_attn_weights=False``, or None with
        ``need_weights=False``.

    Parameters:
        ``in_proj_weight (3E, E)`` ~ xavier_uniform, ``in_proj_bias (3E,)`` = 0,
        ``out_proj.weight (E, E)`` ~ Linear's default, ``out_proj.bias (E,)`` = 0,
        ``bias_k``/``bias_v`` ~ xavier_normal.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = True,
        rng: RngLike = None,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        np_dtype = self._init_layer(rng, dtype, embed_dim=embed_dim, num_heads=num_heads)
        owner = self._kind
        self.head_dim = head_width(self.embed_dim, self.num_heads, owner)
        self.kdim = self.embed_dim if kdim is None else positive_int(kdim, "kdim", owner)
        self.vdim = self.embed_dim if vdim is None else positive_int(vdim, "vdim", owner)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout = probability(dropout, "dropout", owner)
        self.batch_first = bool(batch_first)
        self.add_zero_attn = bool(add_zero_attn)
        e = self.embed_dim
        gen = self._rng
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.zeros((3 * e, e), np_dtype))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.in_proj_weight = None
            self.q_proj_weight = Parameter(np.zeros((e, e), np_dtype))
            self.k_proj_weight = Parameter(np.zeros((e, self.kdim), np_dtype))
            self.v_proj_weight = Parameter(np.zeros((e, self.vdim), np_dtype))
        self.in_proj_bias = Parameter(np.zeros(3 * e, np_dtype)) if bias else None
        self.out_proj = Linear(e, e, bias=bias, rng=gen, dtype=np_dtype)
        if add_bias_kv:
            self.bias_k = Parameter(np.zeros((1, 1, e), np_dtype))
            self.bias_v = Parameter(np.zeros((1, 1, e), np_dtype))
        else:
            self.bias_k = self.bias_v = None
        self._reset(gen, out_proj=False)
        self.rng: np.random.Generator = child_generator(gen)
        # how the projections are cut: along the features (-1) or the weight rows (0)
        self._parts = {
            "qkv": Parts((e, e, e), -1),
            "kv": Parts((e, e), -1),
            "q_kv": Parts((e, 2 * e), 0),
            "k_v": Parts((e, e), 0),
            "q_k_v": Parts((e, e, e), 0),
        }

    def reset_parameters(self, rng: RngLike = None) -> None:
        """Re-draw: xavier_uniform projections, zero biases, Linear default for ``out_proj.weight``."""
        self._reset(self._generator(rng), out_proj=True)

    def _reset(self, gen: np.random.Generator, out_proj: bool) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight, rng=gen)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w, rng=gen)
        if out_proj:
            self.out_proj.reset_parameters(gen)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k, rng=gen)
            init.xavier_normal_(self.bias_v, rng=gen)

    def _param_dtype(self) -> np.dtype:
        return self.out_proj.weight._data.dtype

    def forward(
        self,
        query: Tensor,
        key: Tensor | None = None,
        value: Tensor | None = None,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend from ``query`` to ``key``/``value`` (both default to ``query``: self-attention).

        ``is_causal=True`` without ``attn_mask`` applies the causal mask (query ``i`` sees keys
        ``<= i``); with an ``attn_mask`` it is a hint and the given mask is used, as PyTorch.
        Returns ``(output, weights or None)``.
        """
        q, k, v = self._inputs(query, key, value, to_input)
        args = (key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal)
        if active_tape() is not None:
            return self._compute(TENSORS, q, k, v, *args)
        # the arrays keep the identities (query is key...) the Tensors had
        k = q._data if k is q else k._data
        v = k if v is not None and v is k else v._data
        return as_tensors(self._compute(ARRAYS, q._data, k, v, *args))

    def forward_arrays(
        self,
        query: np.ndarray,
        key: np.ndarray | None = None,
        value: np.ndarray | None = None,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`forward` on arrays, nothing recorded: ``(output, weights or None)`` as arrays."""
        dtype = self.out_proj.weight._data.dtype
        if (
            type(query) is np.ndarray
            and query.dtype is dtype
            and (key is None or key is query or (type(key) is np.ndarray and key.dtype is dtype))
            and (
                value is None
                or value is key
                or (type(value) is np.ndarray and value.dtype is dtype)
            )
        ):  # arrays of the layer's dtype: nothing to convert
            k = query if key is None else key
            v = k if value is None else value
            q = query
        else:
            q, k, v = self._inputs(query, key, value, to_input_array)
        args = (key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal)
        return self._compute(ARRAYS, q, k, v, *args)

    def _inputs(self, query: Any, key: Any, value: Any, convert: Any) -> tuple[Any, Any, Any]:
        """Query, key and value converted (``key``/``value`` default to ``query``/``key``; the
        same object given twice stays one object)."""
        dtype = self.out_proj.weight._data.dtype
        if key is None:
            key = query
        if value is None:
            value = key
        q_in = convert(query, "MultiheadAttention", dtype)
        k_in = q_in if key is query else convert(key, "MultiheadAttention", dtype)
        v_in = k_in if value is key else convert(value, "MultiheadAttention", dtype)
        return q_in, k_in, v_in

    def _check(self, qs: tuple[int, ...], ks: tuple[int, ...], vs: tuple[int, ...]) -> None:
        """Check the shapes of query, key and value (as given, before any layout change)."""
        nd = len(qs)
        if nd not in (2, 3):
            raise ShapeError(
                f"{describe(self)}: expected query of shape {self._expect('L', self.embed_dim)} "
                f"(3-D) or (L, {self.embed_dim}) unbatched, got shape {tuple(qs)}"
            )
        for shape, name, size, seq in (
            (qs, "query", self.embed_dim, "L"),
            (ks, "key", self.kdim, "S"),
            (vs, "value", self.vdim, "S"),
        ):
            if len(shape) != nd or shape[-1] != size:
                raise ShapeError(
                    f"{describe(self)}: expected {name} of shape {self._expect(seq, size, nd)}, "
                    f"got shape {tuple(shape)}"
                )
        if nd == 3:
            b, t = (0, 1) if self.batch_first else (1, 0)  # the batch and sequence axes
            bad = qs[b] != ks[b] or vs[b] != ks[b] or ks[t] != vs[t]
        else:
            bad = ks[0] != vs[0]
        if bad:
            raise ShapeError(
                f"{describe(self)}: query, key and value must share the batch size and key and "
                f"value the sequence length; got query {tuple(qs)}, key {tuple(ks)}, value "
                f"{tuple(vs)}"
            )

    def _compute(
        self,
        p: ForwardPath,
        q_in: Any,
        k_in: Any,
        v_in: Any,
        key_padding_mask: Any,
        need_weights: bool,
        attn_mask: Any,
        average_attn_weights: bool,
        is_causal: bool,
    ) -> tuple[Any, Any]:
        """The attention on path ``p``."""
        e, h, d = self.embed_dim, self.num_heads, self.head_dim
        qs, ks, vs = q_in.shape, k_in.shape, v_in.shape
        batched = len(qs) == 3
        if not (  # the common case, valid at a glance; anything else is checked in full
            batched
            and self.batch_first
            and ks == vs
            and len(ks) == 3
            and qs[0] == ks[0]
            and qs[-1] == e
            and ks[-1] == self.kdim == self.vdim
        ):
            self._check(qs, ks, vs)
        same_kv = k_in is v_in
        self_attn = same_kv and q_in is k_in
        if not batched:
            q_in = p.unsqueeze(q_in, 0)
            k_in = q_in if self_attn else p.unsqueeze(k_in, 0)
            v_in = k_in if same_kv else p.unsqueeze(v_in, 0)
        elif not self.batch_first:
            q_in = q_in.transpose(1, 0, 2)
            k_in = q_in if self_attn else k_in.transpose(1, 0, 2)
            v_in = k_in if same_kv else v_in.transpose(1, 0, 2)
        n, tgt_len, _ = q_in.shape
        src_len = k_in.shape[1]
        # projections: q, k, v = x W^T + b with W (and b) the rows of in_proj (or q/k/v_proj)
        b = None if self.in_proj_bias is None else p.value(self.in_proj_bias)
        if self._qkv_same_embed_dim:
            w = p.value(self.in_proj_weight)
            if self_attn:  # one product for q, k and v
                qkv = p.op("linear", q_in, w) if b is None else p.op("linear", q_in, w, b)
                q, k, v = p.split(qkv, self._parts["qkv"])
            else:
                wq, wkv = p.split(w, self._parts["q_kv"])
                bq, bkv = (None, None) if b is None else p.split(b, self._parts["q_kv"])
                q = p.op("linear", q_in, wq) if bq is None else p.op("linear", q_in, wq, bq)
                if same_kv:  # one product for k and v
                    kv = p.op("linear", k_in, wkv) if b is None else p.op("linear", k_in, wkv, bkv)
                    k, v = p.split(kv, self._parts["kv"])
                else:
                    wk, wv = p.split(wkv, self._parts["k_v"])
                    bk, bv = (None, None) if b is None else p.split(bkv, self._parts["k_v"])
                    k = p.op("linear", k_in, wk) if bk is None else p.op("linear", k_in, wk, bk)
                    v = p.op("linear", v_in, wv) if bv is None else p.op("linear", v_in, wv, bv)
        else:
            bq, bk, bv = (None, None, None) if b is None else p.split(b, self._parts["q_k_v"])
            wq = p.value(self.q_proj_weight)
            wk = p.value(self.k_proj_weight)
            wv = p.value(self.v_proj_weight)
            q = p.op("linear", q_in, wq) if bq is None else p.op("linear", q_in, wq, bq)
            k = p.op("linear", k_in, wk) if bk is None else p.op("linear", k_in, wk, bk)
            v = p.op("linear", v_in, wv) if bv is None else p.op("linear", v_in, wv, bv)
        mask = None
        if attn_mask is not None or key_padding_mask is not None or is_causal:
            dtype = self.out_proj.weight._data.dtype
            mask = self._build_mask(
                p, attn_mask, key_padding_mask, is_causal, n, tgt_len, src_len, not batched, dtype
            )
        if self.bias_k is not None:
            bias_k = p.op("broadcast_to", p.value(self.bias_k), shape=(n, 1, e))
            bias_v = p.op("broadcast_to", p.value(self.bias_v), shape=(n, 1, e))
            k = p.op("concat", k, bias_k, axis=1)
            v = p.op("concat", v, bias_v, axis=1)
            if mask is not None:
                mask = _pad_last(mask, 1)
        s_total = k.shape[1]
        # (Tensors and arrays have the same reshape and transpose methods)
        q = q.reshape(n, tgt_len, h, d).transpose(0, 2, 1, 3)
        k = k.reshape(n, s_total, h, d).transpose(0, 2, 1, 3)
        v = v.reshape(n, s_total, h, d).transpose(0, 2, 1, 3)
        if self.add_zero_attn:
            zeros = np.zeros((n, h, 1, d), self.out_proj.weight._data.dtype)
            k = p.op("concat", k, zeros, axis=2)
            v = p.op("concat", v, zeros, axis=2)
            if mask is not None:
                mask = _pad_last(mask, 1)

        dropout_p = self.dropout if self.training else 0.0
        weights = None
        if not need_weights:
            if mask is None and dropout_p == 0.0:
                out = p.op("scaled_dot_product_attention", q, k, v)
            else:
                drop = {"dropout_p": dropout_p, "rng": self.rng} if dropout_p > 0.0 else {}
                if mask is None:
                    out = p.op("scaled_dot_product_attention", q, k, v, **drop)
                elif mask is _CAUSAL:
                    out = p.op("scaled_dot_product_attention", q, k, v, is_causal=True, **drop)
                else:
                    out = p.op("scaled_dot_product_attention", q, k, v, mask, **drop)
        else:
            if mask is _CAUSAL:
                mask = _causal_array(tgt_len, k.shape[2], self.out_proj.weight._data.dtype)
            scale = 1.0 / math.sqrt(d)
            scores = p.op("matmul", p.op("mul", q, scale), k.transpose(0, 1, 3, 2))
            if mask is not None:
                scores = p.op("add", scores, mask)
            attn = p.op("softmax", scores, axis=-1)
            if dropout_p > 0.0:
                attn = p.op("dropout", attn, p=dropout_p, rng=self.rng, training=True)
            out = p.op("matmul", attn, v)
            weights = p.op("mean", attn, axis=1) if average_attn_weights else attn
            if not batched:
                weights = p.squeeze(weights, 0)
        out = out.transpose(0, 2, 1, 3).reshape(n, tgt_len, e)
        out = p.forward(self.out_proj)(out)
        if not batched:
            out = p.squeeze(out, 0)
        elif not self.batch_first:
            out = out.transpose(1, 0, 2)
        return out, weights

    def _expect(self, seq: str, size: int, nd: int = 3) -> str:
        if nd == 2:
            return f"({seq}, {size})"
        return f"(N, {seq}, {size})" if self.batch_first else f"({seq}, N, {size})"

    def _build_mask(
        self,
        p: ForwardPath,
        attn_mask: Any,
        key_padding_mask: Any,
        is_causal: bool,
        n: int,
        tgt_len: int,
        src_len: int,
        unbatched: bool,
        dtype: np.dtype,
    ) -> Any:
        """One additive mask broadcastable to ``(N, H, L, S)``, ``_CAUSAL``, or None."""
        owner = self  # described lazily, only when an error is raised
        h = self.num_heads
        am = None
        if attn_mask is not None:
            am = _mask_array(p, attn_mask, "attn_mask", owner, dtype)
            shape = _shape(am)
            heads = h if unbatched else n * h
            if shape == (tgt_len, src_len):
                am = _reshape(am, (1, 1, tgt_len, src_len))
            elif shape == (heads, tgt_len, src_len):
                am = _reshape(am, (1 if unbatched else n, h, tgt_len, src_len))
            else:
                batch = "num_heads" if unbatched else "N * num_heads"
                raise ShapeError(
                    f"{describe(owner)}: expected attn_mask of shape ({tgt_len}, {src_len}) or "
                    f"({heads}, {tgt_len}, {src_len}) [({batch}, L, S)], got shape {shape}"
                )
        elif is_causal:
            am = _CAUSAL
        kpm = None
        if key_padding_mask is not None:
            kpm = _mask_array(p, key_padding_mask, "key_padding_mask", owner, dtype)
            expected = (src_len,) if unbatched else (n, src_len)
            if _shape(kpm) != expected:
                raise ShapeError(
                    f"{describe(owner)}: expected key_padding_mask of shape {expected}, got shape "
                    f"{_shape(kpm)}"
                )
            kpm = _reshape(kpm, (1 if unbatched else n, 1, 1, src_len))
        if am is _CAUSAL and (kpm is not None or self.bias_k is not None or self.add_zero_attn):
            am = _causal_array(tgt_len, src_len, dtype)
        if kpm is None:
            return am
        if am is None:
            return kpm
        if isinstance(am, Tensor) or isinstance(kpm, Tensor):
            return ops.add(am, kpm)
        return am + kpm

    def extra_repr(self) -> str:
        s = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.kdim != self.embed_dim or self.vdim != self.embed_dim:
            s += f", kdim={self.kdim}, vdim={self.vdim}"
        if self.in_proj_bias is None:
            s += ", bias=False"
        if self.bias_k is not None:
            s += ", add_bias_kv=True"
        if self.add_zero_attn:
            s += ", add_zero_attn=True"
        return s + f", batch_first={self.batch_first}"


_CAUSAL = object()  # marker: the causal mask, passed to the fused op as is_causal=True


def _causal_array(tgt_len: int, src_len: int, dtype: np.dtype) -> np.ndarray:
    # query i sees keys j <= i (top-left aligned, as PyTorch's is_causal)
    mask = np.zeros((tgt_len, src_len), dtype)
    mask[np.triu_indices(tgt_len, k=1, m=src_len)] = -np.inf
    return mask
