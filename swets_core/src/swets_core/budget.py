"""The parameter budget: how many parameter and buffer values a model being built may create.

A checkpoint rebuilds its model from a configuration read from the file
(``registry.create("models", name, **config)``) and then loads the stored tensors into it. The stored
tensors fix every shape the model may have, so a model that creates more parameter values than the
file stores cannot be the model the file describes: a configuration saying ``num_blocks: 2000000``
in a file of a few kilobytes would otherwise allocate gigabytes before the state is even compared.

:func:`parameter_budget` opens a budget for the current thread; while it is open, every
:class:`~swets_core.autograd.Parameter` created and every buffer registered with
:meth:`~swets_core.module.Module.register_buffer` is charged its number of values (:func:`charge`),
and the first charge beyond the limit raises :class:`~swets_core.errors.CheckpointError`. This works
for any model built from ``Parameter`` and ``register_buffer`` (every swets layer, and third-party
models alike) without the model knowing: nn layers allocate their weights with ``np.zeros``
(address space only, no pages touched) and wrap them in a ``Parameter`` before initialising them, so
an oversized layer is refused before its values are written. Arrays a model derives from its
configuration outside parameters and buffers are not charged: a model should size them from values
its parameters also depend on, or compute them lazily.

A budget opened with ``state_follows=True`` also says that every parameter and buffer created in
the block is overwritten right after by a state loaded strictly (what a checkpoint does), so
random initial values would be drawn for nothing: :func:`state_follows` tells initialisers
(``swets_nn.init``) to leave the zeros the values were allocated with.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from swets_core.checks import check_count
from swets_core.errors import CheckpointError


class Budget:
    """An open budget: ``limit`` values, ``used`` so far, ``exceeded`` once a charge went beyond."""

    __slots__ = ("exceeded", "limit", "state_follows", "used", "what")

    def __init__(self, limit: int, what: str, state_follows: bool = False) -> None:
        self.limit, self.what = limit, what
        self.state_follows = state_follows
        self.used = 0
        self.exceeded = False

    def message(self) -> str:
        """What exceeding it means, for the error."""
        return (
            f"the model being built creates more than {self.limit:,} parameter and buffer values, "
            f"the number {self.what}"
        )


_local = threading.local()


def active_budget() -> Budget | None:
    """The budget open in this thread, or None."""
    return getattr(_local, "budget", None)


@contextmanager
def parameter_budget(limit: int, what: str, *, state_follows: bool = False) -> Iterator[Budget]:
    """Open a budget of ``limit`` parameter and buffer values for the current thread.

    Args:
        limit: the most values the parameters and buffers created inside the block may hold.
        what: how the limit was set, for the message ("the file stores").
        state_follows: every parameter and buffer created in the block is overwritten right
            after by a strictly loaded state (see :func:`state_follows`).

    Budgets nest: the innermost applies. After the block, ``budget.exceeded`` tells whether a
    charge went beyond the limit (also when the builder caught the error).
    """
    limit = check_count(limit, "limit", 0, where="parameter_budget")
    outer = active_budget()
    budget = Budget(limit, what, bool(state_follows))
    _local.budget = budget
    try:
        yield budget
    finally:
        _local.budget = outer


def charge(count: int) -> None:
    """Charge ``count`` values to the budget open in this thread (nothing happens without one).

    Raises:
        CheckpointError: the budget is exceeded (and stays exceeded: every later charge raises too).
    """
    budget = getattr(_local, "budget", None)
    if budget is None:
        return
    budget.used += int(count)
    if budget.exceeded or budget.used > budget.limit:
        budget.exceeded = True
        raise CheckpointError(budget.message())


def state_follows() -> bool:
    """True while this thread builds a model whose parameters and buffers a loaded state will
    overwrite (a budget opened with ``state_follows=True``): initial values need not be drawn."""
    budget = getattr(_local, "budget", None)
    return budget is not None and budget.state_follows


__all__ = ["Budget", "active_budget", "charge", "parameter_budget", "state_follows"]
