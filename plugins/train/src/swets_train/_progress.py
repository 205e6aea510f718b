"""The training progress bar (tqdm), silent unless stderr is a terminal and progress was asked for."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


class Progress:
    """One bar per epoch showing the running training loss, then the epoch's validation metrics.

    Args:
        enabled: the caller's wish (``progress=`` of fit); the bar is shown only when it is True and
            the stream is a terminal.
        epochs: the epoch budget (for the ``epoch 3/10`` label), or None.
        stream: where to draw (stderr by default). Nothing is ever written to a file.
    """

    __slots__ = ("_bar", "_epochs", "_every", "_running", "_seen", "_stream", "enabled")

    def __init__(self, enabled: bool, epochs: int | None, stream: Any = None) -> None:
        self._stream = sys.stderr if stream is None else stream
        isatty = getattr(self._stream, "isatty", None)
        self.enabled = bool(enabled) and callable(isatty) and bool(isatty())
        self._epochs = epochs
        self._bar: Any = None
        self._running = 0.0
        self._seen = 0
        self._every = 1

    def start_epoch(self, epoch: int, total: int | None, initial: int = 0) -> None:
        """Open the bar of epoch ``epoch`` (0-based) with ``total`` batches, ``initial`` already done."""
        if not self.enabled:
            return
        from tqdm.auto import tqdm

        label = f"epoch {epoch + 1}" + (f"/{self._epochs}" if self._epochs else "")
        self._bar = tqdm(
            total=total,
            initial=initial,
            desc=label,
            file=self._stream,
            leave=True,
            dynamic_ncols=True,
            mininterval=0.2,
            unit="batch",
        )
        self._running = 0.0
        self._seen = 0

    def update(self, loss: float) -> None:
        """One batch done with this loss."""
        bar = self._bar
        if bar is None:
            return
        self._seen += 1
        self._running += (loss - self._running) / self._seen
        bar.set_postfix_str(f"loss={_fmt(self._running)}", refresh=False)
        bar.update(1)

    def end_epoch(self, record: Mapping[str, Any]) -> None:
        """Show the epoch's record (loss and validation metrics) and close the bar."""
        bar = self._bar
        if bar is None:
            return
        shown = {k: v for k, v in record.items() if k not in ("epoch", "step")}
        bar.set_postfix_str(", ".join(f"{k}={_fmt(v)}" for k, v in shown.items()), refresh=True)
        bar.close()
        self._bar = None

    def close(self) -> None:
        """Close an open bar (after an error or a stop in the middle of an epoch)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
