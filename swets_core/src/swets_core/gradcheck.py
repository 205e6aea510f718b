"""The gradient check and the op-case walker (re-exported by :mod:`swets_core.testing`).

:func:`gradcheck` compares the gradients the tape computes for ``fn(*inputs)`` with central finite
differences in float64, over every element of every floating-point input. :class:`GradCase` names one
such check for a registered op, so that a suite can require at least one case per op
(:func:`ops_without_cases`) and run them all (:meth:`GradCase.check`). The conformance kit
(:mod:`swets_core.conformance`) builds on this module; this module imports neither it nor
:mod:`swets_core.testing`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from types import ModuleType
from typing import Any

import attrs
import numpy as np

from swets_core.autograd import GradientTape, Tensor, no_grad
from swets_core.errors import ArgumentTypeError, ConfigError, ShapeError, TapeError
from swets_core.registry import default_registry


def _prepare(inputs: Sequence[Any]) -> tuple[list[Any], list[tuple[int, Tensor]]]:
    """Float64 working copies of the float inputs (layout kept), shared where an object repeats.

    Returns the argument list for ``fn`` and ``(first input index, tensor)`` for each distinct float
    input, in order.
    """
    args: list[Any] = []
    seen: dict[int, Tensor] = {}
    checked: list[tuple[int, Tensor]] = []
    for i, x in enumerate(inputs):
        data = x._data if isinstance(x, Tensor) else x
        if not isinstance(data, np.ndarray | float | np.floating):
            args.append(x)
            continue
        arr = np.asarray(data)
        if arr.dtype.kind != "f":
            args.append(x)  # integer indices, bool masks: passed through, never differentiated
            continue
        key = id(x)
        if key in seen:
            args.append(seen[key])
            continue
        # order="K" keeps a transposed input transposed (non-C-contiguous), so the op sees it so
        work = Tensor._wrap(np.array(arr, dtype=np.float64, order="K", copy=True))
        seen[key] = work
        checked.append((i, work))
        args.append(work)
    return args, checked


def _outputs(out: Any) -> list[Tensor]:
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, tuple | list) and all(isinstance(o, Tensor) for o in out):
        return list(out)
    raise ArgumentTypeError(
        f"gradcheck: fn must return a Tensor or a tuple of Tensors, got {type(out).__name__}"
    )


def _projections(
    outs: list[Tensor], grad_output: Any, rng: np.random.Generator
) -> list[np.ndarray | None]:
    """One float64 weight array per output (None for non-float outputs, which are skipped)."""
    if grad_output is not None:
        given = list(grad_output) if isinstance(grad_output, tuple | list) else [grad_output]
        if len(given) != len(outs):
            raise ConfigError(
                f"gradcheck: {len(given)} grad_output arrays for {len(outs)} outputs of fn"
            )
        result: list[np.ndarray | None] = []
        for o, g in zip(outs, given):
            if g is None:
                result.append(None)
                continue
            g = np.asarray(g._data if isinstance(g, Tensor) else g, dtype=np.float64)
            if g.shape != o.shape:
                raise ShapeError(
                    f"gradcheck: grad_output of shape {g.shape} for an output of shape {o.shape}"
                )
            result.append(g)
        return result
    return [rng.standard_normal(o.shape) if o._data.dtype.kind == "f" else None for o in outs]


def _objective(out: Any, weights: list[np.ndarray | None]) -> float:
    return float(
        sum(
            np.sum(o._data.astype(np.float64) * w)
            for o, w in zip(_outputs(out), weights)
            if w is not None
        )
    )


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    grad_output: Any = None,
    seed: int = 0,
) -> None:
    """Assert that the tape's gradients of ``fn`` match central finite differences in float64.

    Args:
        fn: takes Tensors (one per input, in order) and returns a Tensor or a tuple of Tensors.
        *inputs: Tensors, numpy arrays or Python floats. Every floating-point input is converted to
            a float64 copy that keeps its memory layout (a transposed array stays non-contiguous)
            and is checked element by element. The same object passed twice is one input (the
            gradient through both uses is checked). Integer and bool inputs (indices, masks) are
            passed through unchanged and not differentiated.
        eps: finite-difference step.
        atol, rtol: an element passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
        grad_output: the gradient fed into the output (an array, or one per output of a tuple, None
            to skip an output). By default a random projection (normal weights, seeded by ``seed``)
            of every floating-point output, so all outputs and all positions count.
        seed: seed of the default projection.

    Raises:
        AssertionError: naming the input (its position in ``inputs`` and shape), the number of
            mismatching elements, and the worst one: its index, the analytic and numeric values and
            the error. Also raised when no gradient reaches an input whose numeric gradient is
            non-zero.
    """
    args, checked = _prepare(inputs)
    if not checked:
        raise ConfigError("gradcheck: no floating-point input to check")
    rng = np.random.default_rng(seed)
    # persistent: backward runs once per output of fn, each seeded with that output's weights
    with GradientTape(watch=[t for _, t in checked], persistent=True) as tape:
        out = fn(*args)
    outs = _outputs(out)
    weights = _projections(outs, grad_output, rng)
    sources = [t for _, t in checked]
    analytic: dict[int, np.ndarray] = {}
    for o, w in zip(outs, weights):
        if w is None:
            continue
        try:
            tape_grads = tape.backward(o, grad=w.astype(o._data.dtype), sources=sources)
        except TapeError:
            continue  # this output does not depend on any input
        for k, v in tape_grads.items():
            v = v._data.astype(np.float64)
            analytic[k] = analytic[k] + v if k in analytic else v

    problems: list[str] = []
    for position, t in checked:
        data = t._data
        numeric = np.zeros(data.shape, dtype=np.float64)
        with no_grad():
            for idx in np.ndindex(data.shape):
                orig = data[idx]
                data[idx] = orig + eps
                plus = _objective(fn(*args), weights)
                data[idx] = orig - eps
                minus = _objective(fn(*args), weights)
                data[idx] = orig
                numeric[idx] = (plus - minus) / (2 * eps)
        got = analytic.get(t.id)
        label = f"input {position} (shape {data.shape})"
        if got is None:
            if np.any(np.abs(numeric) > atol):
                worst = np.unravel_index(int(np.argmax(np.abs(numeric))), numeric.shape)
                problems.append(
                    f"{label}: no gradient reached it, but the numeric gradient is non-zero "
                    f"(e.g. {numeric[worst]:.6g} at index {tuple(int(i) for i in worst)})"
                )
            continue
        if got.shape != data.shape:
            problems.append(f"{label}: the gradient has shape {got.shape}")
            continue
        err = np.abs(got - numeric)
        bad = ~(err <= atol + rtol * np.abs(numeric))  # NaN counts as a mismatch
        if bad.any():
            ratio = np.where(bad, np.nan_to_num(err, nan=np.inf), -1.0)
            worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            problems.append(
                f"{label}: {int(bad.sum())} of {bad.size} elements differ; worst at index "
                f"{tuple(int(i) for i in worst)}: analytic {got[worst]:.8g}, numeric "
                f"{numeric[worst]:.8g}, error {err[worst]:.3g} (atol {atol:g}, rtol {rtol:g})"
            )
    if problems:
        raise AssertionError("gradcheck failed:\n  " + "\n  ".join(problems))


def assert_no_grad(fn: Callable[..., Any], *inputs: Any) -> None:
    """Assert that no gradient flows from ``fn(*inputs)`` back to its floating-point inputs.

    For ops without a gradient (comparisons, ``sign``, integer results): either the output is not
    recorded at all, or the tape returns no gradient for any input.

    Raises:
        AssertionError: naming the input that received a gradient.
    """
    args, checked = _prepare(inputs)
    with GradientTape(watch=[t for _, t in checked], persistent=True) as tape:
        out = fn(*args)
    for o in _outputs(out):
        try:
            got = tape.backward(o, sources=[t for _, t in checked])
        except TapeError:
            continue  # not recorded: nothing can flow
        for position, t in checked:
            if t.id in got:
                raise AssertionError(
                    f"expected no gradient, but input {position} (shape {t.shape}) received one"
                )


@attrs.frozen
class GradCase:
    """One gradient check of a registered op.

    Attributes:
        op: the registry name of the op this case covers (``"matmul"``).
        fn: takes Tensors, one per entry of ``inputs``, and returns a Tensor or a tuple of Tensors;
            usually a call of the op, e.g. ``lambda a, b: ops.matmul(a, b)``.
        inputs: numpy arrays, Tensors or Python floats (see :func:`gradcheck`). Pass the same array
            object twice to check an input used in two places.
        name: a short label of what the case exercises (``"broadcast (3, 1) x (4,)"``).
        non_differentiable: the op has no gradient here: assert that none flows instead of
            comparing with finite differences.
        eps, atol, rtol: tolerances for :func:`gradcheck`.
    """

    op: str
    fn: Callable[..., Any] = attrs.field(repr=False)
    inputs: tuple[Any, ...] = attrs.field(converter=tuple, repr=False)
    name: str = ""
    non_differentiable: bool = False
    eps: float = 1e-6
    atol: float = 1e-5
    rtol: float = 1e-3

    @property
    def id(self) -> str:
        """A readable test id: ``op`` or ``op-name``."""
        return f"{self.op}-{self.name}" if self.name else self.op

    def check(self) -> None:
        """Run the case: :func:`gradcheck`, or :func:`assert_no_grad` when non-differentiable."""
        if self.non_differentiable:
            assert_no_grad(self.fn, *self.inputs)
        else:
            try:
                gradcheck(self.fn, *self.inputs, eps=self.eps, atol=self.atol, rtol=self.rtol)
            except AssertionError as exc:
                raise AssertionError(f"{self.id}: {exc}") from None


def collect_cases(modules: Iterable[ModuleType]) -> list[GradCase]:
    """Concatenate the ``CASES`` lists of ``modules``; a module without one is an error."""
    cases: list[GradCase] = []
    for m in modules:
        found = getattr(m, "CASES", None)
        if not isinstance(found, list) or not all(isinstance(c, GradCase) for c in found):
            raise ArgumentTypeError(f"{m.__name__} must define CASES: list[GradCase]")
        cases.extend(found)
    return cases


def ops_without_cases(cases: Iterable[GradCase], registry: Any = None) -> list[str]:
    """Names of the ops registered in ``registry`` (the default registry when None) that no case
    covers, sorted; an empty list means every op has at least one gradient-check case."""
    if registry is None:
        registry = default_registry()
    covered = {c.op for c in cases}
    return [name for name in registry.names("ops") if name not in covered]


__all__ = [
    "GradCase",
    "assert_no_grad",
    "collect_cases",
    "gradcheck",
    "ops_without_cases",
]
