"""DeepAR's training step, swets vs a PyTorch implementation of the same architecture, float32.

Training step = the teacher-forced unroll over the conditioning and prediction ranges, the Student-t
negative log-likelihood of the prediction range, backward, Adam step, on one fixed batch.

Shapes (GluonTS's defaults where it has them): lookback (conditioning range) 96, horizon
(prediction range) 24, lags 1 and 24, 2 LSTM layers of 40 cells, dropout 0.1, Student-t head, batch
64, no covariates: the LSTM reads 3 inputs per step (two lagged targets over the mean scale, and
``log`` of the scale) over 96 + 24 - 24 = 96 steps.

The PyTorch reference below builds the same inputs (``ν = 1 + mean |z|`` of the conditioning range,
``z_{t - lag} / ν``, ``log ν``), the same head and links (``σ = ν (softplus + 1e-6)``,
``ν_df = 2 + softplus``) and the same likelihood; ``python -m benchmarks.run --suite deepar``.
"""

from __future__ import annotations

from typing import Any

from benchmarks.harness import Case

CONFIG: dict[str, Any] = {
    "lookback": 96,
    "horizon": 24,
    "hidden_size": 40,
    "num_layers": 2,
    "dropout": 0.1,
    "lags": [1, 24],
    "distribution": "student_t",
}
BATCH = 64


def _data() -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(0)
    t = np.arange(CONFIG["lookback"] + CONFIG["horizon"])
    level = 10 + 5 * np.sin(2 * np.pi * t / 24)
    z = (level + rng.standard_normal((BATCH, t.size))).astype(np.float32)
    return z[:, : CONFIG["lookback"], None], z[:, CONFIG["lookback"] :]


def _swets_train():
    def setup():
        from swets_core import GradientTape, Tensor, registry
        from swets_ops import jit
        from swets_optim import Adam

        jit.warm_up()
        model = registry.create("models", "deepar", **CONFIG, seed=0)
        opt = Adam(model.parameters(), lr=1e-3)
        nll = registry.create("losses", "student_t_nll")
        xa, ya = _data()
        x, y = Tensor(xa), Tensor(ya)

        def step():
            with GradientTape() as tape:
                loss = nll(model(x, target=y), y)
            opt.step(None, tape.backward(loss))

        return step

    return setup


def _torch_train():
    def setup():
        import math

        import torch
        from torch import nn
        from torch.nn import functional as F  # noqa: N812

        torch.manual_seed(0)
        lookback, horizon, lags = CONFIG["lookback"], CONFIG["horizon"], CONFIG["lags"]
        m0 = max(lags)

        class DeepAR(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.lstm = nn.LSTM(
                    len(lags) + 1,
                    CONFIG["hidden_size"],
                    CONFIG["num_layers"],
                    batch_first=True,
                    dropout=CONFIG["dropout"],
                )
                self.head = nn.Linear(CONFIG["hidden_size"], 3)

            def forward(self, x: Any, y: Any) -> Any:
                z = x[:, :, 0]
                scale = 1.0 + z.abs().mean(dim=1, keepdim=True)
                full = torch.cat([z, y], dim=1) / scale
                total = lookback + horizon
                lagged = torch.stack([full[:, m0 - lag : total - lag] for lag in lags], dim=2)
                log_scale = torch.log(scale)[:, None, :].expand(-1, total - m0, 1)
                h, _ = self.lstm(torch.cat([lagged, log_scale], dim=2))
                raw = self.head(h[:, lookback - m0 :])
                mu = raw[..., 0] * scale
                sigma = (F.softplus(raw[..., 1]) + 1e-6) * scale
                nu = 2.0 + F.softplus(raw[..., 2])
                q = (y - mu) / sigma
                nll = (
                    torch.lgamma(nu / 2)
                    - torch.lgamma((nu + 1) / 2)
                    + 0.5 * torch.log(nu * math.pi)
                    + torch.log(sigma)
                    + (nu + 1) / 2 * torch.log1p(q * q / nu)
                )
                return nll.mean()

        model = DeepAR()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        xa, ya = _data()
        x, y = torch.from_numpy(xa), torch.from_numpy(ya)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = model(x, y)
            loss.backward()
            opt.step()

        return step

    return setup


CASES: list[Case] = [
    Case(
        name="models.deepar_train_step",
        group="models: training step (forward, backward, Adam)",
        setups={"swets": _swets_train(), "torch": _torch_train()},
        number=3,
        note="deepar: " + ", ".join(f"{k}={v}" for k, v in CONFIG.items()) + f"; batch {BATCH}",
        extra={"target": 1.0},
    )
]
