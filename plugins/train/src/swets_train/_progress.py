"""Training progress: a tqdm bar on a terminal, tqdm's notebook bar in Jupyter, plain lines elsewhere.

Where stderr is a terminal, one bar per epoch shows the running loss, then the epoch's record. In a
Jupyter notebook (an IPython kernel, whose stderr is no terminal) tqdm's notebook widget is used when
ipywidgets is installed. Anywhere else (a pipe, a log file, CI, a notebook without ipywidgets) one
line per epoch is written: ``epoch 3/20  step 129  loss 0.5057  lr 0.001  val_loss 0.3617``.
Nothing is ever written to a file of its own.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Mapping
from typing import Any


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (an IPython ZMQ shell)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _notebook_widgets() -> bool:
    """Whether tqdm's notebook bar can be drawn (it needs ipywidgets)."""
    return importlib.util.find_spec("ipywidgets") is not None


def _mode(enabled: bool, stream: Any) -> str | None:
    if not enabled:
        return None
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        return "bar"
    if _in_notebook() and _notebook_widgets():
        return "notebook"
    return "lines"


class Progress:
    """One bar (or one line) per epoch: the running training loss, then the epoch's record.

    Args:
        enabled: the caller's wish (``progress=`` of fit).
        epochs: the epoch budget (for the ``epoch 3/10`` label), or None.
        stream: where to write (stderr by default).

    Attributes:
        mode: ``"bar"`` (a terminal), ``"notebook"`` (a Jupyter kernel with ipywidgets), ``"lines"``
            (anywhere else) or None (``enabled`` False).
        enabled: whether anything is shown.
    """

    __slots__ = ("_bar", "_epochs", "_running", "_seen", "_stream", "enabled", "mode")

    def __init__(self, enabled: bool, epochs: int | None, stream: Any = None) -> None:
        self._stream = sys.stderr if stream is None else stream
        self.mode = _mode(bool(enabled), self._stream)
        self.enabled = self.mode is not None
        self._epochs = epochs
        self._bar: Any = None
        self._running = 0.0
        self._seen = 0

    def _label(self, epoch: int) -> str:
        return f"epoch {epoch + 1}" + (f"/{self._epochs}" if self._epochs else "")

    def start_epoch(self, epoch: int, total: int | None, initial: int = 0) -> None:
        """Open the bar of epoch ``epoch`` (0-based) with ``total`` batches, ``initial`` already done."""
        if self.mode not in ("bar", "notebook"):
            return
        if self.mode == "notebook":
            from tqdm.notebook import tqdm
        else:
            from tqdm import tqdm
        self._bar = tqdm(
            total=total,
            initial=initial,
            desc=self._label(epoch),
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
        """Show the epoch's record (loss and validation metrics) and close the bar, or write the
        epoch's line."""
        if self.mode == "lines":
            shown = "  ".join(f"{k} {_fmt(v)}" for k, v in record.items() if k != "epoch")
            epoch = int(record.get("epoch", 0))
            print(f"{self._label(epoch)}  {shown}", file=self._stream, flush=True)
            return
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
