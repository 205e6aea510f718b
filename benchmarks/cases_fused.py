"""Fused ops, swets vs PyTorch CPU, forward + backward in float32.

Each timed call records the op on a fresh tape (torch: builds the autograd graph), then runs the
backward pass from a fixed random output gradient, producing the gradients of every input.

- conv1d: x (64, 64, 128), weight (64, 64, 3), bias, dilation 4, causal padding (8, 0);
- lstm: one layer, input 5, hidden 64, batch 64, length 64 (torch.nn.LSTM, batch_first);
- gru: the same shapes (torch.nn.GRU);
- attention: q, k, v (64, 4, 64, 16), without mask and causal.
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.harness import Case

CONV = {"n": 64, "c": 64, "length": 128, "k": 3, "dilation": 4}
RNN = {"n": 64, "length": 64, "n_in": 5, "hidden": 64}
ATTN = {"n": 64, "heads": 4, "length": 64, "dim": 16}


def _rng():
    import numpy as np

    return np.random.default_rng(0)


# -- conv1d ---------------------------------------------------------------------------------------
def _conv_arrays():
    import numpy as np

    rng = _rng()
    n, c, length, k = CONV["n"], CONV["c"], CONV["length"], CONV["k"]
    x = rng.standard_normal((n, c, length)).astype(np.float32)
    w = (rng.standard_normal((c, c, k)) / np.sqrt(c * k)).astype(np.float32)
    b = np.zeros(c, np.float32)
    g = rng.standard_normal((n, c, length)).astype(np.float32)
    return x, w, b, g


def conv1d_swets() -> Callable[[], object]:
    from swets_core import GradientTape, Parameter, Tensor, ops

    x, w, b, g = _conv_arrays()
    xt, wt, bt = Tensor(x), Parameter(w), Parameter(b)
    pad = (CONV["dilation"] * (CONV["k"] - 1), 0)

    def step():
        with GradientTape() as tape:
            tape.watch(xt)
            y = ops.conv1d(xt, wt, bt, padding=pad, dilation=CONV["dilation"])
        return tape.backward(y, grad=g)

    return step


def conv1d_torch() -> Callable[[], object]:
    import torch

    x, w, b, g = _conv_arrays()
    xt = torch.tensor(x, requires_grad=True)
    wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    gt = torch.tensor(g)
    pad = (CONV["dilation"] * (CONV["k"] - 1), 0)
    f = torch.nn.functional

    def step():
        y = f.conv1d(f.pad(xt, pad), wt, bt, dilation=CONV["dilation"])
        return torch.autograd.grad(y, (xt, wt, bt), gt)

    return step


# -- lstm / gru -----------------------------------------------------------------------------------
def _rnn_arrays(gates: int):
    import numpy as np

    rng = _rng()
    n, length, n_in, h = RNN["n"], RNN["length"], RNN["n_in"], RNN["hidden"]
    s = 1.0 / np.sqrt(h)
    x = rng.standard_normal((n, length, n_in)).astype(np.float32)
    weights = [
        rng.uniform(-s, s, (gates * h, n_in)).astype(np.float32),
        rng.uniform(-s, s, (gates * h, h)).astype(np.float32),
        rng.uniform(-s, s, gates * h).astype(np.float32),
        rng.uniform(-s, s, gates * h).astype(np.float32),
    ]
    g = rng.standard_normal((n, length, h)).astype(np.float32)
    return x, weights, g


def _rnn_swets(kind: str) -> Callable[[], object]:
    import numpy as np

    from swets_core import GradientTape, Parameter, Tensor, ops

    gates = 4 if kind == "lstm" else 3
    x, weights, g = _rnn_arrays(gates)
    xt = Tensor(x)
    params = [Parameter(w) for w in weights]
    zeros = np.zeros((RNN["n"], RNN["hidden"]), np.float32)
    states = (zeros, zeros) if kind == "lstm" else (zeros,)
    op = getattr(ops, kind)

    def step():
        with GradientTape() as tape:
            tape.watch(xt)
            y = op(xt, *states, *params)[0]
        return tape.backward(y, grad=g)

    return step


def _rnn_torch(kind: str) -> Callable[[], object]:
    import torch

    gates = 4 if kind == "lstm" else 3
    x, weights, g = _rnn_arrays(gates)
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    mod = cls(RNN["n_in"], RNN["hidden"], batch_first=True)
    with torch.no_grad():
        for p, w in zip(
            (mod.weight_ih_l0, mod.weight_hh_l0, mod.bias_ih_l0, mod.bias_hh_l0), weights
        ):
            p.copy_(torch.tensor(w))
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(g)
    inputs = (xt, *mod.parameters())

    def step():
        y = mod(xt)[0]
        return torch.autograd.grad(y, inputs, gt)

    return step


# -- attention ------------------------------------------------------------------------------------
def _attn_arrays():
    import numpy as np

    rng = _rng()
    shape = (ATTN["n"], ATTN["heads"], ATTN["length"], ATTN["dim"])
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(4)]


def _attn_swets(causal: bool) -> Callable[[], object]:
    from swets_core import GradientTape, Tensor, ops

    q, k, v, g = _attn_arrays()
    ts = [Tensor(a) for a in (q, k, v)]

    def step():
        with GradientTape(watch=ts) as tape:
            y = ops.scaled_dot_product_attention(*ts, is_causal=causal)
        return tape.backward(y, grad=g)

    return step


def _attn_torch(causal: bool) -> Callable[[], object]:
    import torch

    q, k, v, g = _attn_arrays()
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    gt = torch.tensor(g)
    f = torch.nn.functional

    def step():
        y = f.scaled_dot_product_attention(*ts, is_causal=causal)
        return torch.autograd.grad(y, ts, gt)

    return step


def lstm_swets() -> Callable[[], object]:
    return _rnn_swets("lstm")


def lstm_torch() -> Callable[[], object]:
    return _rnn_torch("lstm")


def gru_swets() -> Callable[[], object]:
    return _rnn_swets("gru")


def gru_torch() -> Callable[[], object]:
    return _rnn_torch("gru")


def attention_swets() -> Callable[[], object]:
    return _attn_swets(False)


def attention_torch() -> Callable[[], object]:
    return _attn_torch(False)


def attention_causal_swets() -> Callable[[], object]:
    return _attn_swets(True)


def attention_causal_torch() -> Callable[[], object]:
    return _attn_torch(True)


CASES = [
    Case(
        "fused.conv1d_fwd_bwd",
        "fused ops (forward + backward, float32)",
        {"swets": conv1d_swets, "torch": conv1d_torch},
        number=5,
        note="conv1d x (64, 64, 128), kernel 3, dilation 4, causal padding; gradients of x, weight, bias",
    ),
    Case(
        "fused.lstm_fwd_bwd",
        "fused ops (forward + backward, float32)",
        {"swets": lstm_swets, "torch": lstm_torch},
        number=3,
        note="one LSTM layer, input 5, hidden 64, batch 64, length 64 (torch.nn.LSTM)",
    ),
    Case(
        "fused.gru_fwd_bwd",
        "fused ops (forward + backward, float32)",
        {"swets": gru_swets, "torch": gru_torch},
        number=3,
        note="one GRU layer, same shapes as the LSTM (torch.nn.GRU)",
    ),
    Case(
        "fused.attention_fwd_bwd",
        "fused ops (forward + backward, float32)",
        {"swets": attention_swets, "torch": attention_torch},
        number=5,
        note="scaled_dot_product_attention q, k, v (64, 4, 64, 16)",
    ),
    Case(
        "fused.attention_causal_fwd_bwd",
        "fused ops (forward + backward, float32)",
        {"swets": attention_causal_swets, "torch": attention_causal_torch},
        number=5,
        note="the same with is_causal=True",
    ),
]
