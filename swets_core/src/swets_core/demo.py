"""A small demonstration of the tape: fit y = 3x - 1 with plain gradient descent.

Run with ``python -m swets_core.demo``. Needs the swets-ops plugin for the arithmetic.
"""

from __future__ import annotations

import numpy as np

from swets_core import GradientTape, Parameter, Tensor


def main() -> None:
    """Fit a line with the tape and print the learned coefficients."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.uniform(-1, 1, size=(256, 1)).astype(np.float32))
    y = x.numpy() * 3.0 - 1.0
    w = Parameter(np.zeros((1, 1), dtype=np.float32))
    b = Parameter(np.zeros(1, dtype=np.float32))
    for step in range(200):
        with GradientTape() as tape:
            loss = ((x @ w + b - y) ** 2.0).mean()
        grads = tape.backward(loss)
        w.numpy()[...] -= 0.1 * grads[w.id].numpy()
        b.numpy()[...] -= 0.1 * grads[b.id].numpy()
        if step % 50 == 0:
            print(f"step {step:3d}  loss {loss.item():.5f}")
    print(f"learned w={w.item():.3f} b={b.item():.3f} (true 3, -1)")


if __name__ == "__main__":
    main()
