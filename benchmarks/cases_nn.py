"""swets-nn layers, swets vs PyTorch CPU, forward + backward in float32.

Each timed call runs the layer on a fresh tape (torch: builds the autograd graph), then the backward
pass from a fixed random output gradient, producing the gradients of the input and of every parameter.

- lstm: LSTM(input 5, hidden 64, 2 layers), batch 64, length 64, batch-first;
- conv1d: Conv1d(64 -> 64, kernel 3, dilation 4, causal padding), input (64, 64, 128);
- multihead_attention: MultiheadAttention(d_model 64, 4 heads), self-attention on (64, 64, 64),
  ``need_weights=False`` on both sides (PyTorch then uses its fused attention kernel).
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.harness import Case

LSTM = {"n": 64, "length": 64, "n_in": 5, "hidden": 64, "layers": 2}
CONV = {"n": 64, "c": 64, "length": 128, "k": 3, "dilation": 4}
MHA = {"n": 64, "length": 64, "d_model": 64, "heads": 4}


def _arrays(x_shape: tuple[int, ...], g_shape: tuple[int, ...]):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    g = rng.standard_normal(g_shape).astype(np.float32)
    return x, g


def _swets_step(layer, x, g, call):
    from swets_core import GradientTape, Tensor

    xt = Tensor(x)
    params = layer.parameters()

    def step():
        with GradientTape() as tape:
            tape.watch(xt)
            y = call(layer, xt)
        return tape.backward(y, grad=g, sources=[xt, *params])

    return step


def _torch_step(module, x, g, call):
    import torch

    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(g)
    params = [xt, *module.parameters()]

    def step():
        y = call(module, xt)
        return torch.autograd.grad(y, params, gt)

    return step


# -- lstm -----------------------------------------------------------------------------------------
def _lstm_arrays():
    p = LSTM
    return _arrays((p["n"], p["length"], p["n_in"]), (p["n"], p["length"], p["hidden"]))


def lstm_swets() -> Callable[[], object]:
    import swets_nn as nn

    x, g = _lstm_arrays()
    layer = nn.LSTM(LSTM["n_in"], LSTM["hidden"], num_layers=LSTM["layers"], rng=0)
    return _swets_step(layer, x, g, lambda m, xt: m(xt)[0])


def lstm_torch() -> Callable[[], object]:
    import torch

    torch.manual_seed(0)
    x, g = _lstm_arrays()
    module = torch.nn.LSTM(LSTM["n_in"], LSTM["hidden"], LSTM["layers"], batch_first=True)
    return _torch_step(module, x, g, lambda m, xt: m(xt)[0])


# -- conv1d ---------------------------------------------------------------------------------------
def _conv_arrays():
    p = CONV
    return _arrays((p["n"], p["c"], p["length"]), (p["n"], p["c"], p["length"]))


def conv1d_swets() -> Callable[[], object]:
    import swets_nn as nn

    x, g = _conv_arrays()
    c, k, d = CONV["c"], CONV["k"], CONV["dilation"]
    layer = nn.Conv1d(c, c, k, dilation=d, padding="causal", rng=0)
    return _swets_step(layer, x, g, lambda m, xt: m(xt))


def conv1d_torch() -> Callable[[], object]:
    import torch

    torch.manual_seed(0)
    x, g = _conv_arrays()
    c, k, d = CONV["c"], CONV["k"], CONV["dilation"]
    module = torch.nn.Conv1d(c, c, k, dilation=d)
    pad = (d * (k - 1), 0)
    f = torch.nn.functional
    return _torch_step(module, x, g, lambda m, xt: m(f.pad(xt, pad)))


# -- multihead attention --------------------------------------------------------------------------
def _mha_arrays():
    p = MHA
    shape = (p["n"], p["length"], p["d_model"])
    return _arrays(shape, shape)


def mha_swets() -> Callable[[], object]:
    import swets_nn as nn

    x, g = _mha_arrays()
    layer = nn.MultiheadAttention(MHA["d_model"], MHA["heads"], rng=0)
    return _swets_step(layer, x, g, lambda m, xt: m(xt, xt, xt, need_weights=False)[0])


def mha_torch() -> Callable[[], object]:
    import torch

    torch.manual_seed(0)
    x, g = _mha_arrays()
    module = torch.nn.MultiheadAttention(MHA["d_model"], MHA["heads"], batch_first=True)
    return _torch_step(module, x, g, lambda m, xt: m(xt, xt, xt, need_weights=False)[0])


CASES = [
    Case(
        name="nn.lstm_2x64_b64_t64",
        group="nn layers (forward + backward, float32)",
        setups={"swets": lstm_swets, "torch": lstm_torch},
        note="LSTM input 5, hidden 64, 2 layers, batch 64, length 64",
    ),
    Case(
        name="nn.conv1d_64c_l128_k3_d4",
        group="nn layers (forward + backward, float32)",
        setups={"swets": conv1d_swets, "torch": conv1d_torch},
        note="Conv1d 64->64 channels, length 128, kernel 3, dilation 4, causal, batch 64",
    ),
    Case(
        name="nn.mha_d64_h4_b64_t64",
        group="nn layers (forward + backward, float32)",
        setups={"swets": mha_swets, "torch": mha_torch},
        note="MultiheadAttention d_model 64, 4 heads, self-attention, batch 64, length 64",
    ),
]
