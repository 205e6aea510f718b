"""The text tables every swets command prints: one rule for numbers, one layout.

:func:`format_value` writes a number the same way in every table (``swets train``, ``evaluate``,
``forecast``, ``backtest``, ``sweep``): ``nan`` for None and NaN; a float of magnitude ``>= 1e6`` or
below ``1e-3`` (zero aside) in scientific notation with three decimals, one of ``>= 100`` with one
decimal, any other with four; ints and text as they are. :func:`text_table` lays rows out in columns
as wide as their widest cell, the first ``left`` columns aligned left and the others right, with a
dashed rule under the head.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["format_value", "text_table"]


def format_value(value: Any) -> str:
    """One cell of a table (see the module docstring): ``0.1234``, ``123.4``, ``1.234e+06``, ``nan``."""
    if value is None:
        return "nan"
    if not isinstance(value, (float, np.floating)):
        return str(value)
    v = float(value)
    if math.isnan(v):
        return "nan"
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
        return f"{v:.3e}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    return f"{v:.4f}"


def text_table(head: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1) -> str:
    """``head`` and ``rows`` as aligned text: each column as wide as its widest cell, the first
    ``left`` columns aligned left and the others right, a dashed rule under the head. Cells that are
    not strings are written with :func:`format_value`."""
    cells = [list(head)] + [
        [c if isinstance(c, str) else format_value(c) for c in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    lines = [
        "  ".join(
            c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))
        ).rstrip()
        for r in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
