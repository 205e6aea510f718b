"""Gradient-check cases for the fused ops (conv1d, recurrent ops, attention, norms, dropout, embedding).

Each case runs :func:`swets_core.testing.gradcheck` in float64 over every float input, including
transposed (non-contiguous) inputs, grouped / dilated / strided / causally padded convolutions,
attention masks (boolean, float, causal, fully masked rows) and recurrent ops whose loss uses only
some of their outputs. Sizes are tiny: every element is perturbed twice.
"""

from __future__ import annotations

import numpy as np

from swets_core import ops
from swets_core.testing import GradCase

_rng = np.random.default_rng(31337)


def _n(*shape: int, scale: float = 1.0) -> np.ndarray:
    return _rng.standard_normal(shape) * scale


def _t(*shape: int) -> np.ndarray:
    """A non-contiguous array of ``shape``: the transpose of a C-contiguous one."""
    return _rng.standard_normal(shape[::-1]).T


CASES: list[GradCase] = []


def case(op: str, fn, *inputs, name: str = "", **kw) -> None:
    CASES.append(GradCase(op, fn, inputs, name=name, **kw))


# -- conv1d ---------------------------------------------------------------------------------------
case(
    "conv1d",
    lambda x, w, b: ops.conv1d(x, w, b),
    _n(2, 3, 7),
    _n(4, 3, 3),
    _n(4),
    name="basic",
)
case(
    "conv1d",
    lambda x, w, b: ops.conv1d(x, w, b, stride=2, padding=(2, 1), dilation=2),
    _n(2, 3, 9),
    _n(4, 3, 3),
    _n(4),
    name="stride 2 dilation 2 padding (2,1)",
)
case(
    "conv1d",
    lambda x, w, b: ops.conv1d(x, w, b, padding=(6, 0), dilation=3, groups=2),
    _n(2, 4, 6),
    _n(6, 2, 3),
    _n(6),
    name="causal dilation 3 groups 2",
)
case(
    "conv1d",
    lambda x, w: ops.conv1d(x, w, stride=3, padding=1, groups=3),
    _t(2, 3, 8),
    _n(6, 1, 2),
    name="depthwise stride 3 transposed x no bias",
)
case(
    "conv1d",
    lambda x, w, b: ops.conv1d(x, w, b, padding="same", dilation=2),
    _t(1, 2, 5),
    _t(3, 2, 4),
    _n(3),
    name="same padding even kernel transposed weight",
)
case(
    "conv1d",
    lambda x, w, b: ops.conv1d(x, w, b, stride=2, padding=(5, 0), groups=2),
    _n(2, 4, 5),
    _n(4, 2, 3),
    _n(4),
    name="padding wider than the kernel",
)
case("conv1d", lambda x, w: ops.conv1d(x, w, padding=1), _n(3, 6), _n(2, 3, 3), name="unbatched")

# -- layer_norm -----------------------------------------------------------------------------------
case(
    "layer_norm",
    lambda x, w, b: ops.layer_norm(x, w, b),
    _n(2, 3, 5),
    _n(5),
    _n(5),
    name="last dim",
)
case(
    "layer_norm",
    lambda x, w, b: ops.layer_norm(x, w, b, normalized_ndim=2, eps=1e-3),
    _t(2, 3, 4),
    _n(3, 4),
    _n(3, 4),
    name="two dims transposed x",
)
case("layer_norm", lambda x: ops.layer_norm(x, None, None), _n(4, 6), name="no affine")

# -- batch_norm -----------------------------------------------------------------------------------
_rm, _rv = np.zeros(3), np.ones(3)
case(
    "batch_norm",
    lambda x, w, b: ops.batch_norm(
        x, w, b, running_mean=_rm, running_var=_rv, training=True, momentum=0.1
    ),
    _n(5, 3),
    _n(3),
    _n(3),
    name="training (N, C)",
)
case(
    "batch_norm",
    lambda x, w, b: ops.batch_norm(x, w, b, training=True, eps=1e-3),
    _t(3, 2, 4),
    _n(2),
    _n(2),
    name="training (N, C, L) transposed x, no running stats",
)
case(
    "batch_norm",
    lambda x, w, b: ops.batch_norm(
        x,
        w,
        b,
        running_mean=np.array([0.3, -0.2]),
        running_var=np.array([1.5, 0.7]),
        training=False,
    ),
    _n(3, 2, 4),
    _n(2),
    _n(2),
    name="eval running stats",
)
case(
    "batch_norm",
    lambda x: ops.batch_norm(x, None, None, training=True),
    _n(4, 3, 2),
    name="no affine",
)

# -- dropout --------------------------------------------------------------------------------------
case(
    "dropout",
    lambda x: ops.dropout(x, p=0.4, rng=np.random.default_rng(5)),
    _n(4, 5),
    name="training p=0.4",
)
case("dropout", lambda x: ops.dropout(x, p=0.4, training=False), _t(3, 4), name="eval identity")
case("dropout", lambda x: ops.dropout(x, p=0.0, rng=np.random.default_rng(5)), _n(6), name="p=0")

# -- scaled_dot_product_attention ------------------------------------------------------------------
sdpa = ops.scaled_dot_product_attention
case("scaled_dot_product_attention", sdpa, _n(2, 3, 4), _n(2, 5, 4), _n(2, 5, 3), name="basic")
case(
    "scaled_dot_product_attention",
    lambda q, k, v: sdpa(q, k, v, is_causal=True),
    _n(2, 2, 4, 3),
    _n(2, 2, 4, 3),
    _n(2, 2, 4, 2),
    name="causal heads",
)
_bool_mask = np.array(
    [[True, False, True, True], [False, False, False, False], [True, True, False, True]]
)
case(
    "scaled_dot_product_attention",
    lambda q, k, v, m: sdpa(q, k, v, m),
    _n(2, 3, 2),
    _n(2, 4, 2),
    _n(2, 4, 3),
    _bool_mask,
    name="bool mask with a fully masked row",
)
case(
    "scaled_dot_product_attention",
    lambda q, k, v, m: sdpa(q, k, v, m, scale=0.7),
    _t(2, 3, 4),
    _n(2, 4, 4),
    _n(1, 4, 2),
    _n(3, 4),
    name="float mask (differentiable) broadcast v transposed q",
)
case(
    "scaled_dot_product_attention",
    lambda q, k, v: sdpa(q, k, v, dropout_p=0.3, rng=np.random.default_rng(2)),
    _n(2, 3, 4),
    _n(2, 3, 4),
    _n(2, 3, 2),
    name="attention dropout",
)
case(
    "scaled_dot_product_attention",
    lambda q, k, v: sdpa(q, k, v, is_causal=True),
    _n(5, 3),
    _n(3, 3),
    _n(3, 2),
    name="causal L > S 2-d",
)

# -- lstm_cell / lstm -----------------------------------------------------------------------------
_I, _H = 3, 2
case(
    "lstm_cell",
    lambda x, h, c, wi, wh, bi, bh: ops.lstm_cell(x, h, c, wi, wh, bi, bh),
    _n(3, _I),
    _n(3, _H),
    _n(3, _H),
    _n(4 * _H, _I),
    _n(4 * _H, _H),
    _n(4 * _H),
    _n(4 * _H),
    name="batched with biases",
)
case(
    "lstm_cell",
    lambda x, h, c, wi, wh: ops.lstm_cell(x, h, c, wi, wh),
    _n(_I),
    _n(_H),
    _n(_H),
    _t(4 * _H, _I),
    _n(4 * _H, _H),
    name="unbatched no bias",
)
case(
    "lstm_cell",
    lambda x, h, c, wi, wh, bi, bh: ops.lstm_cell(x, h, c, wi, wh, bi, bh)[1],
    _n(2, _I),
    _n(2, _H),
    _n(2, _H),
    _n(4 * _H, _I),
    _n(4 * _H, _H),
    _n(4 * _H),
    _n(4 * _H),
    name="only c used",
)
case(
    "lstm",
    lambda x, h, c, wi, wh, bi, bh: ops.lstm(x, h, c, wi, wh, bi, bh),
    _n(2, 4, _I),
    _n(2, _H),
    _n(2, _H),
    _n(4 * _H, _I),
    _n(4 * _H, _H),
    _n(4 * _H),
    _n(4 * _H),
    name="sequence with biases",
)
case(
    "lstm",
    lambda x, h, c, wi, wh: ops.lstm(x, h, c, wi, wh)[1],
    _t(2, 3, _I),
    _n(2, _H),
    _n(2, _H),
    _n(4 * _H, _I),
    _t(4 * _H, _H),
    name="only h_n used transposed inputs no bias",
)
case(
    "lstm",
    lambda x, c, wi, wh, bi, bh: ops.lstm(x, None, c, wi, wh, bi, bh)[2],
    _n(1, 3, _I),
    _n(1, _H),
    _n(4 * _H, _I),
    _n(4 * _H, _H),
    _n(4 * _H),
    _n(4 * _H),
    name="only c_n used zero h0",
)

# -- gru_cell / gru -------------------------------------------------------------------------------
case(
    "gru_cell",
    lambda x, h, wi, wh, bi, bh: ops.gru_cell(x, h, wi, wh, bi, bh),
    _n(3, _I),
    _n(3, _H),
    _n(3 * _H, _I),
    _n(3 * _H, _H),
    _n(3 * _H),
    _n(3 * _H),
    name="batched with biases",
)
case(
    "gru_cell",
    lambda x, h, wi, wh: ops.gru_cell(x, h, wi, wh),
    _n(_I),
    _n(_H),
    _n(3 * _H, _I),
    _t(3 * _H, _H),
    name="unbatched no bias",
)
case(
    "gru",
    lambda x, h, wi, wh, bi, bh: ops.gru(x, h, wi, wh, bi, bh),
    _n(2, 4, _I),
    _n(2, _H),
    _n(3 * _H, _I),
    _n(3 * _H, _H),
    _n(3 * _H),
    _n(3 * _H),
    name="sequence with biases",
)
case(
    "gru",
    lambda x, h, wi, wh: ops.gru(x, h, wi, wh)[1],
    _t(2, 3, _I),
    _n(2, _H),
    _t(3 * _H, _I),
    _n(3 * _H, _H),
    name="only h_n used transposed inputs no bias",
)

# -- embedding ------------------------------------------------------------------------------------
case(
    "embedding",
    lambda w: ops.embedding(w, np.array([[0, 2, 2], [4, 0, 2]])),
    _n(5, 3),
    name="repeated indices accumulate",
)
case(
    "embedding",
    lambda w: ops.embedding(w, np.array([[[1], [3]], [[1], [1]]], dtype=np.int32)),
    _t(4, 2),
    name="int32 3-d indices transposed weight",
)

# -- lstm_stack -----------------------------------------------------------------------------------
case(
    "lstm_stack",
    lambda x, h, c, *w: ops.lstm_stack(x, h, c, *w),
    _n(2, 3, _I),
    _n(2, 2, _H),
    _n(2, 2, _H),
    _n(4 * _H, _I),
    _n(4 * _H, _H),
    _n(4 * _H),
    _n(4 * _H),
    _n(4 * _H, _H),
    _n(4 * _H, _H),
    _n(4 * _H),
    _n(4 * _H),
    name="two layers with biases",
)
case(
    "lstm_stack",
    lambda x, c, w0, u0, w1, u1, w2, u2: ops.lstm_stack(
        x, None, c, w0, u0, None, None, w1, u1, None, None, w2, u2, None, None
    )[1],
    _t(1, 4, _I),
    _n(3, 1, _H),
    _n(4 * _H, _I),
    _t(4 * _H, _H),
    _n(4 * _H, _H),
    _n(4 * _H, _H),
    _n(4 * _H, _H),
    _n(4 * _H, _H),
    name="three layers only h_n used zero h0 no bias transposed",
)
case(
    "lstm_stack",
    lambda x, w, u, b, v: ops.lstm_stack(x, None, None, w, u, b, v)[0],
    _n(2, 3, _I),
    _n(4 * _H, _I),
    _n(4 * _H, _H),
    _n(4 * _H),
    _n(4 * _H),
    name="one layer only y used zero states",
)

# -- weight_norm ----------------------------------------------------------------------------------
case(
    "weight_norm",
    lambda v, g: ops.weight_norm(v, g),
    _n(3, 2, 4),
    _n(3, 1, 1),
    name="conv kernel axis 0",
)
case(
    "weight_norm",
    lambda v, g: ops.weight_norm(v, g, axis=-1),
    _t(4, 3),
    _n(1, 3),
    name="last axis transposed v",
)
