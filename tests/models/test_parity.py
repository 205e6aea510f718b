"""The PyTorch reference architectures of the benchmark compute the same functions as the swets models.

Given the swets model's weights, the reference gives the same outputs and parameter gradients
(float64), so the benchmark compares like with like, and the swets models match a PyTorch build of
the published architectures (PyTorch's weight norm, LSTM and TransformerEncoderLayer included).
"""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import GradientTape, Tensor, registry
from tests.models.configs import SMALL_CONFIGS

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.parity

CASES = [
    ("tcn", {}),
    ("tcn", {"weight_norm": False, "quantiles": [0.1, 0.9]}),
    ("lstm", {}),
    ("transformer", {}),
    ("transformer", {"norm_first": False, "activation": "relu", "positional": "learned"}),
    ("transformer", {"causal": True, "head": "flatten", "quantiles": [0.5, 0.7]}),
    (
        "nbeats",
        {"stack_types": ["generic", "generic"], "num_blocks": [2, 1], "share_weights": False},
    ),
    ("nhits", {}),
    ("nhits", {"n_features": 1, "quantiles": [0.1, 0.9], "lookback": 11, "horizon": 5}),
    ("nhits", {"interpolation": "nearest", "freq_downsample": [2, 1], "horizon": 7}),
    ("tide", {}),
    ("tide", {"n_features": 1, "quantiles": [0.2, 0.8], "layer_norm": False}),
    ("patchtst", {}),
    ("patchtst", {"norm": "layer", "pad_end": False, "quantiles": [0.3, 0.6]}),
    ("patchtst", {"instance_norm": False, "instance_norm_affine": False, "stride": 3}),
]


@pytest.mark.parametrize(
    "name, overrides", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_reference_architecture_matches(name, overrides):
    from benchmarks.cases_models import torch_models, torch_state_from_swets

    cfg = {**SMALL_CONFIGS[name], **overrides}
    model = registry.create("models", name, **cfg, seed=0, dtype="float64").eval()
    torch.manual_seed(0)  # the reference's own initial weights are replaced by the model's below
    ref = torch_models()[name](**cfg).double().eval()
    state = {k: torch.from_numpy(v) for k, v in torch_state_from_swets(model.state_dict()).items()}
    ref.load_state_dict(state, strict=True)

    x = np.random.default_rng(0).standard_normal((3, model.lookback, model.n_features))
    with GradientTape() as tape:
        y = model(Tensor(x))
        loss = (y * y).sum()
    grads = tape.backward(loss)

    xt = torch.from_numpy(x)
    yt = ref(xt)
    (yt * yt).sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-12)
    torch_grads = {k: p.grad.numpy() for k, p in ref.named_parameters() if p.grad is not None}
    for pname, p in model.named_parameters():
        tname = torch_state_from_swets({pname: None}).popitem()[0]
        np.testing.assert_allclose(
            grads[p.id].numpy(), torch_grads[tname], rtol=1e-8, atol=1e-12, err_msg=pname
        )
