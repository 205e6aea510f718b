"""Fused ops of swets-ops: each a single tape node with a hand-written backward.

``conv1d``, ``lstm_cell``, ``lstm``, ``gru_cell``, ``gru``, ``scaled_dot_product_attention``,
``layer_norm``, ``batch_norm``, ``dropout`` and ``embedding``; see ``docs/ops-fused.md``.
The implementations live in the ``fused_*`` modules next to this one.
"""

from __future__ import annotations

from typing import Any

from swets_core.autograd import OpDef


def fused_ops() -> list[OpDef]:
    """Every fused op, as :class:`OpDef` objects."""
    from swets_ops import fused_attention, fused_conv, fused_misc, fused_norm, fused_rnn

    return [*fused_conv.OPS, *fused_rnn.OPS, *fused_attention.OPS, *fused_norm.OPS, *fused_misc.OPS]


def register_all(register: Any) -> None:
    """Register the fused ops."""
    for op in fused_ops():
        register(op.name, op, doc=op.doc)
