"""Fused ops of swets-ops: each a single tape node with a hand-written backward.

``conv1d``, ``lstm_cell``, ``lstm``, ``lstm_stack``, ``gru_cell``, ``gru``,
``scaled_dot_product_attention``, ``layer_norm``, ``batch_norm``, ``dropout``, ``embedding`` and
``weight_norm``; see ``docs/ops-fused.md``.
The implementations live in the ``fused_*`` modules next to this one.
"""

from __future__ import annotations

from typing import Any

from swets_core.autograd import OpDef


def fused_ops() -> list[OpDef]:
    """Every fused op, as :class:`OpDef` objects."""
    from swets_ops import (
        fused_attention,
        fused_conv,
        fused_gru,
        fused_lstm,
        fused_misc,
        fused_norm,
    )

    modules = (fused_conv, fused_lstm, fused_gru, fused_attention, fused_norm, fused_misc)
    return [op for module in modules for op in module.OPS]


def register_all(register: Any) -> None:
    """Register the fused ops."""
    for op in fused_ops():
        register(op.name, op, doc=op.doc)
