"""Helpers for the swets-nn tests: a PyTorch parity runner and comparison utilities."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from swets_core import GradientTape, Module, Tensor

TOL = 1e-8


def _flatten(out: Any) -> list[Any]:
    if isinstance(out, (tuple, list)):
        items: list[Any] = []
        for o in out:
            items.extend(_flatten(o))
        return items
    return [] if out is None else [out]


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """``max|a - b| / max|b|`` (absolute when ``b`` is all zeros)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    finite = np.isfinite(b)
    assert np.array_equal(np.isfinite(a), finite), "non-finite values differ"
    if not finite.any():
        return 0.0
    diff = np.max(np.abs(a[finite] - b[finite]))
    scale = np.max(np.abs(b[finite]))
    return float(diff / scale) if scale > 0 else float(diff)


def assert_close(a: Any, b: Any, what: str, tol: float = TOL) -> None:
    err = rel_err(a, b)
    assert err <= tol, f"{what}: relative error {err:.3e} > {tol:.0e}"


def copy_torch_state(layer: Module, tlayer: Any) -> None:
    """Load the torch module's state dict into ``layer`` (strict: names must match)."""
    state = {k: v.detach().cpu().numpy().copy() for k, v in tlayer.state_dict().items()}
    layer.load_state_dict(state)


def parity(
    layer: Module,
    tlayer: Any,
    inputs: Sequence[np.ndarray],
    call: Callable[..., Any] | None = None,
    tcall: Callable[..., Any] | None = None,
    grad_inputs: Sequence[int] | None = None,
    copy_state: bool = True,
    seed: int = 0,
    tol: float = TOL,
) -> tuple[list[Any], list[Any]]:
    """Compare outputs and gradients (inputs and every parameter) of ``layer`` and ``tlayer``.

    ``inputs`` are numpy arrays given to both (float arrays listed in ``grad_inputs``, default all
    float arrays, are differentiated). The loss is ``sum_i sum(out_i * G_i)`` with fixed random
    ``G_i``, so every output element gets a distinct upstream gradient.
    Returns the swets and torch outputs (flattened).
    """
    torch = pytest.importorskip("torch")
    if copy_state:
        copy_torch_state(layer, tlayer)
    call = call or (lambda m, *xs: m(*xs))
    tcall = tcall or (lambda m, *xs: m(*xs))
    if grad_inputs is None:
        grad_inputs = [i for i, a in enumerate(inputs) if np.asarray(a).dtype.kind == "f"]
    sw_in = [Tensor(np.array(a)) for a in inputs]
    t_in = [torch.tensor(np.array(a), requires_grad=i in grad_inputs) for i, a in enumerate(inputs)]

    tlayer.zero_grad(set_to_none=True)
    t_outs = _flatten(tcall(tlayer, *t_in))
    rng = np.random.default_rng(seed)
    gs = [rng.standard_normal(tuple(o.shape)) for o in t_outs]
    t_loss = sum(
        (o * torch.tensor(g)).sum() for o, g in zip(t_outs, gs) if o.dtype.is_floating_point
    )
    t_loss.backward()

    with GradientTape() as tape:
        tape.watch(*[sw_in[i] for i in grad_inputs])
        outs = _flatten(call(layer, *sw_in))
        assert len(outs) == len(t_outs), f"{len(outs)} outputs, torch gives {len(t_outs)}"
        loss = None
        for o, g in zip(outs, gs):
            if o.dtype.is_floating:
                term = (o * g).sum()
                loss = term if loss is None else loss + term
    grads = tape.backward(loss)

    for k, (o, to) in enumerate(zip(outs, t_outs)):
        assert_close(o.numpy(), to.detach().numpy(), f"output {k}", tol)
    for i in grad_inputs:
        tg = t_in[i].grad
        g = grads.get(sw_in[i].id)
        if tg is None:
            assert g is None or not np.any(g.numpy()), f"input {i}: torch has no gradient"
            continue
        assert g is not None, f"input {i}: no gradient"
        assert_close(g.numpy(), tg.numpy(), f"grad of input {i}", tol)
    tparams = dict(tlayer.named_parameters())
    names = [n for n, _ in layer.named_parameters()]
    assert sorted(names) == sorted(tparams), f"parameter names {names} vs {sorted(tparams)}"
    for name, p in layer.named_parameters():
        tg = tparams[name].grad
        g = grads.get(p.id)
        if tg is None:
            assert g is None or not np.any(g.numpy()), f"{name}: torch has no gradient"
            continue
        assert g is not None, f"{name}: no gradient"
        assert_close(g.numpy(), tg.numpy(), f"grad of {name}", tol)
    return outs, t_outs


def layer_gradcheck(
    layer: Module,
    *inputs: Any,
    call: Callable[..., Any] | None = None,
    **kwargs: Any,
) -> None:
    """Finite-difference check of ``layer`` in float64 for its float inputs and every parameter.

    The parameters are swapped for the checked tensors while ``fn`` runs (the layer is restored
    afterwards), so :func:`swets_core.testing.gradcheck` sees them as ordinary inputs.
    """
    from swets_core.testing import gradcheck

    call = call or (lambda m, *xs: m(*xs))
    named = list(layer.named_parameters())
    owners = []
    for name, _ in named:
        mod_name, _, attr = name.rpartition(".")
        owner = dict(layer.named_modules())[mod_name]
        owners.append((owner, attr))
    n_in = len(inputs)

    def fn(*args: Any) -> Any:
        xs, ps = args[:n_in], args[n_in:]
        saved = [getattr(o, a) for o, a in owners]
        try:
            for (o, a), p in zip(owners, ps):
                setattr(o, a, p)
            outs = _flatten(call(layer, *xs))
            return outs[0] if len(outs) == 1 else tuple(outs)
        finally:
            for (o, a), p in zip(owners, saved):
                setattr(o, a, p)

    gradcheck(fn, *inputs, *[p.numpy() for _, p in named], **kwargs)
