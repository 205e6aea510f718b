"""Per-op overhead of swets-ops, beside numpy's own call and PyTorch eager.

- ``ops.mul_64x64_taped``: one elementwise op (``x * y``, 64x64 float32) recorded on an active tape,
  100 ops per timed call; numpy runs ``np.multiply`` on the same arrays, PyTorch the eager op with
  ``requires_grad=True`` (autograd graph recorded). Target: swets <= 3x numpy and below PyTorch.
- ``ops.mul_64x64_untaped``: the same op with nothing recorded (inference), 100 ops per call.
- ``ops.linear_fwd_bwd``: ``linear(x, W, b)`` forward and backward, x (256, 512), W (512, 512), float32,
  against the bare numpy matrix products of the same computation (``x @ W.T + b``, ``g @ W``,
  ``g.T @ x``, ``g.sum(0)``). Target: swets <= 1.10x numpy.
- ``ops.matmul_batched_fwd_bwd``: ``matmul`` of (32, 128, 64) by a (64, 64) weight, forward and
  backward (both gradients), against the bare numpy products.
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.harness import Case

N_OPS = 100


def _mul_swets(record: bool) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        import numpy as np

        from swets_core import GradientTape, Parameter, Tensor

        rng = np.random.default_rng(0)
        x = Parameter(rng.standard_normal((64, 64)).astype(np.float32))
        y = Tensor(rng.standard_normal((64, 64)).astype(np.float32))
        x * y  # resolve the op table once

        if record:

            def run() -> object:
                with GradientTape():
                    for _ in range(N_OPS):
                        out = x * y
                return out

        else:
            xd = x.detach()

            def run() -> object:
                for _ in range(N_OPS):
                    out = xd * y
                return out

        return run

    return setup


def _mul_numpy() -> Callable[[], object]:
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((64, 64)).astype(np.float32)
    b = rng.standard_normal((64, 64)).astype(np.float32)

    def run() -> object:
        for _ in range(N_OPS):
            out = np.multiply(a, b)
        return out

    return run


def _mul_torch(requires_grad: bool) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        import torch

        torch.manual_seed(0)
        a = torch.randn(64, 64, requires_grad=requires_grad)
        b = torch.randn(64, 64)

        if requires_grad:

            def run() -> object:
                for _ in range(N_OPS):
                    out = a * b
                return out

        else:

            def run() -> object:
                with torch.no_grad():
                    for _ in range(N_OPS):
                        out = a * b
                return out

        return run

    return setup


def _linear_swets() -> Callable[[], object]:
    import numpy as np

    from swets_core import GradientTape, Parameter, Tensor, ops

    rng = np.random.default_rng(0)
    x = Parameter(rng.standard_normal((256, 512)).astype(np.float32))
    w = Parameter((rng.standard_normal((512, 512)) * 0.04).astype(np.float32))
    b = Parameter(np.zeros(512, dtype=np.float32))
    g = Tensor(rng.standard_normal((256, 512)).astype(np.float32))

    def run() -> object:
        with GradientTape() as tape:
            y = ops.linear(x, w, b)
        return tape.backward(y, grad=g)

    return run


def _linear_numpy() -> Callable[[], object]:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 512)).astype(np.float32)
    w = (rng.standard_normal((512, 512)) * 0.04).astype(np.float32)
    b = np.zeros(512, dtype=np.float32)
    g = rng.standard_normal((256, 512)).astype(np.float32)

    def run() -> object:
        y = x @ w.T
        y += b
        return y, g @ w, g.T @ x, g.sum(axis=0)

    return run


def _linear_torch() -> Callable[[], object]:
    import torch

    torch.manual_seed(0)
    x = torch.randn(256, 512, requires_grad=True)
    w = (torch.randn(512, 512) * 0.04).requires_grad_()
    b = torch.zeros(512, requires_grad=True)
    g = torch.randn(256, 512)

    def run() -> object:
        y = torch.nn.functional.linear(x, w, b)
        return torch.autograd.grad(y, (x, w, b), g)

    return run


def _matmul_swets() -> Callable[[], object]:
    import numpy as np

    from swets_core import GradientTape, Parameter, Tensor

    rng = np.random.default_rng(0)
    a = Parameter(rng.standard_normal((32, 128, 64)).astype(np.float32))
    w = Parameter(rng.standard_normal((64, 64)).astype(np.float32))
    g = Tensor(rng.standard_normal((32, 128, 64)).astype(np.float32))

    def run() -> object:
        with GradientTape() as tape:
            y = a @ w
        return tape.backward(y, grad=g)

    return run


def _matmul_numpy() -> Callable[[], object]:
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((32, 128, 64)).astype(np.float32)
    w = rng.standard_normal((64, 64)).astype(np.float32)
    g = rng.standard_normal((32, 128, 64)).astype(np.float32)

    def run() -> object:
        y = a @ w
        ga = g @ w.T
        gw = a.reshape(-1, 64).T @ g.reshape(-1, 64)
        return y, ga, gw

    return run


def _matmul_torch() -> Callable[[], object]:
    import torch

    torch.manual_seed(0)
    a = torch.randn(32, 128, 64, requires_grad=True)
    w = torch.randn(64, 64, requires_grad=True)
    g = torch.randn(32, 128, 64)

    def run() -> object:
        y = a @ w
        return torch.autograd.grad(y, (a, w), g)

    return run


CASES: list[Case] = [
    Case(
        name="ops.mul_64x64_taped",
        group="ops: per-op overhead",
        setups={"swets": _mul_swets(True), "torch": _mul_torch(True), "numpy": _mul_numpy},
        number=20,
        note=f"{N_OPS} recorded x*y (64x64 float32) per call; torch with requires_grad=True",
    ),
    Case(
        name="ops.mul_64x64_untaped",
        group="ops: per-op overhead",
        setups={"swets": _mul_swets(False), "torch": _mul_torch(False), "numpy": _mul_numpy},
        number=20,
        note=f"{N_OPS} x*y (64x64 float32) per call, nothing recorded; torch under no_grad",
    ),
    Case(
        name="ops.linear_fwd_bwd",
        group="ops: matmul-bound",
        setups={"swets": _linear_swets, "torch": _linear_torch, "numpy": _linear_numpy},
        number=5,
        note="linear x(256,512) W(512,512) + b, forward and all three gradients; numpy = bare products",
    ),
    Case(
        name="ops.matmul_batched_fwd_bwd",
        group="ops: matmul-bound",
        setups={"swets": _matmul_swets, "torch": _matmul_torch, "numpy": _matmul_numpy},
        number=5,
        note="(32,128,64) @ (64,64), forward and both gradients; numpy = bare products",
    ),
]
