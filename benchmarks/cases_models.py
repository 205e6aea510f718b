"""Forecasting models, swets vs PyTorch CPU with identical architectures in float32.

Training step = forward, MSE loss, backward, Adam step on one fixed batch. Inference = one window
(batch 1) in eval mode without gradient recording. Memory = the peak resident set of a 50-step
training run (whole process) and its increase over the resident set before the run (see
:func:`benchmarks.harness.peak_memory`). The PyTorch reference architectures are defined here
(:func:`torch_models`) and are checked to compute the same function as the swets models by
``tests/models/test_parity.py``.

Cases (the shapes of the models issue):

- nbeats: generic, 3 blocks of 2 hidden layers of width 512, lookback 96, horizon 24, batch 1024;
- tcn: 5 features, 64 channels, 4 levels, kernel 3, weight norm, dropout 0.1, length 128, horizon 1,
  batch 64;
- lstm: 5 features, hidden 64, 2 layers, dropout 0.1, length 64, horizon 1, batch 64;
- transformer: 5 features, d_model 64, 4 heads, 2 pre-norm GELU layers, feed-forward 128, dropout 0.1,
  sinusoidal positions, head on the last position, length 64, horizon 1, batch 64;
- nhits: the paper's architecture (3 stacks of 1 block, 2 layers of 512, pooling kernels
  [2, 2, 1], downsampling [4, 2, 1], linear interpolation), lookback 96, horizon 24, batch 256 (the
  paper's batch size);
- tide: hidden 512, 1 encoder and 1 decoder block, decoder output 32, temporal decoder 128,
  dropout 0.3, layer norm, lookback 96, horizon 24, batch 256;
- patchtst: the paper's supervised model (RevIN with affine, patch 16, stride 8, end padding: 42
  patches; d_model 128, 16 heads, 3 BatchNorm layers, feed-forward 256, dropout 0.2, flatten head),
  lookback 336, horizon 96, batch 32.

The three last ones have training-step and inference cases; the memory cases are the first four's.

Variants (training step only, :data:`VARIANTS`): ``tcn_plain`` is the TCN with plain convolutions
(no weight norm, no dropout), the conv path alone.
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks.harness import Case

MODEL_CASES: dict[str, dict[str, Any]] = {
    "nbeats": {
        "config": {
            "n_features": 1,
            "lookback": 96,
            "horizon": 24,
            "stack_types": ["generic"],
            "num_blocks": 3,
            "num_layers": 2,
            "layer_width": 512,
        },
        "batch": 1024,
    },
    "tcn": {
        "config": {
            "n_features": 5,
            "lookback": 128,
            "horizon": 1,
            "channels": 64,
            "levels": 4,
            "kernel_size": 3,
            "dropout": 0.1,
            "weight_norm": True,
        },
        "batch": 64,
    },
    "lstm": {
        "config": {
            "n_features": 5,
            "lookback": 64,
            "horizon": 1,
            "hidden_size": 64,
            "num_layers": 2,
            "dropout": 0.1,
        },
        "batch": 64,
    },
    "transformer": {
        "config": {
            "n_features": 5,
            "lookback": 64,
            "horizon": 1,
            "d_model": 64,
            "n_heads": 4,
            "num_layers": 2,
            "dim_feedforward": 128,
            "dropout": 0.1,
            "activation": "gelu",
            "norm_first": True,
            "positional": "sinusoidal",
            "causal": False,
            "head": "last",
        },
        "batch": 64,
    },
    "nhits": {
        "config": {
            "n_features": 1,
            "lookback": 96,
            "horizon": 24,
            "pool_kernel_size": [2, 2, 1],
            "freq_downsample": [4, 2, 1],
            "num_blocks": 1,
            "num_layers": 2,
            "layer_width": 512,
        },
        "batch": 256,
    },
    "tide": {
        "config": {
            "n_features": 1,
            "lookback": 96,
            "horizon": 24,
            "hidden_size": 512,
            "num_encoder_layers": 1,
            "num_decoder_layers": 1,
            "decoder_output_dim": 32,
            "temporal_decoder_hidden": 128,
            "dropout": 0.3,
            "layer_norm": True,
        },
        "batch": 256,
    },
    "patchtst": {
        "config": {
            "n_features": 1,
            "lookback": 336,
            "horizon": 96,
            "patch_len": 16,
            "stride": 8,
            "d_model": 128,
            "n_heads": 16,
            "num_layers": 3,
            "dim_feedforward": 256,
            "dropout": 0.2,
        },
        "batch": 32,
    },
}

VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "tcn_plain": ("tcn", {"weight_norm": False, "dropout": 0.0}),
}
"""Training-step variants: name -> (the model of :data:`MODEL_CASES`, the config keys replaced)."""


def model_case(name: str) -> dict[str, Any]:
    """``{"model", "config", "batch"}`` of a case of :data:`MODEL_CASES` or :data:`VARIANTS`."""
    if name in VARIANTS:
        model, changes = VARIANTS[name]
        base = MODEL_CASES[model]
        return {"model": model, "config": {**base["config"], **changes}, "batch": base["batch"]}
    return {"model": name, **MODEL_CASES[name]}


# ------------------------------------------------------------------------------------------------
# PyTorch reference architectures (torch is imported only when they are built)
# ------------------------------------------------------------------------------------------------


def torch_models() -> dict[str, Any]:
    """PyTorch classes computing the same functions as the swets models, built from the same config
    keys, with the same parameter names except PyTorch's weight-norm parametrisation
    (``conv1.parametrizations.weight.original0/1`` for ``conv1.weight_g/weight_v``)."""
    import torch
    from torch import nn
    from torch.nn import functional as F  # noqa: N812
    from torch.nn.utils.parametrizations import weight_norm

    def out_size(cfg: dict[str, Any]) -> int:
        q = cfg.get("quantiles")
        return cfg["horizon"] * (1 if q is None else len(q))

    def shape_out(cfg: dict[str, Any], y: Any) -> Any:
        q = cfg.get("quantiles")
        return y if q is None else y.reshape(y.shape[0], cfg["horizon"], len(q))

    class TemporalBlock(nn.Module):
        def __init__(self, c_in: int, c_out: int, k: int, d: int, p: float, wn: bool) -> None:
            super().__init__()
            self.left = d * (k - 1)
            self.conv1 = nn.Conv1d(c_in, c_out, k, dilation=d)
            self.conv2 = nn.Conv1d(c_out, c_out, k, dilation=d)
            if wn:
                self.conv1 = weight_norm(self.conv1)
                self.conv2 = weight_norm(self.conv2)
            self.dropout1 = nn.Dropout(p)
            self.dropout2 = nn.Dropout(p)
            self.downsample = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else None

        def forward(self, x: Any) -> Any:
            out = self.dropout1(F.relu(self.conv1(F.pad(x, (self.left, 0)))))
            out = self.dropout2(F.relu(self.conv2(F.pad(out, (self.left, 0)))))
            res = x if self.downsample is None else self.downsample(x)
            return F.relu(out + res)

    class TCN(nn.Module):
        def __init__(self, **cfg: Any) -> None:
            super().__init__()
            self.cfg = cfg
            chans = cfg["channels"]
            chans = list(chans) if isinstance(chans, list) else [chans] * cfg.get("levels", 4)
            blocks, c_in = [], cfg["n_features"]
            for i, c in enumerate(chans):
                blocks.append(
                    TemporalBlock(
                        c_in, c, cfg["kernel_size"], 2**i, cfg["dropout"], cfg["weight_norm"]
                    )
                )
                c_in = c
            self.blocks = nn.ModuleList(blocks)
            self.head = nn.Linear(c_in, out_size(cfg))

        def forward(self, x: Any) -> Any:
            h = x.transpose(1, 2)
            for b in self.blocks:
                h = b(h)
            return shape_out(self.cfg, self.head(h[:, :, -1]))

    class LSTMModel(nn.Module):
        def __init__(self, **cfg: Any) -> None:
            super().__init__()
            self.cfg = cfg
            self.lstm = nn.LSTM(
                cfg["n_features"],
                cfg["hidden_size"],
                cfg["num_layers"],
                batch_first=True,
                dropout=cfg.get("dropout", 0.0),
            )
            self.head = nn.Linear(cfg["hidden_size"], out_size(cfg))

        def forward(self, x: Any) -> Any:
            _, (h_n, _) = self.lstm(x)
            return shape_out(self.cfg, self.head(h_n[-1]))

    class Transformer(nn.Module):
        def __init__(self, **cfg: Any) -> None:
            super().__init__()
            self.cfg = cfg
            d, length = cfg["d_model"], cfg["lookback"]
            self.input_proj = nn.Linear(cfg["n_features"], d)
            if cfg.get("positional", "sinusoidal") == "learned":
                self.pos_embedding = nn.Parameter(torch.randn(length, d) * 0.02)
            else:
                pos = torch.arange(length, dtype=torch.float64)[:, None]
                div = torch.exp(
                    torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d)
                )
                pe = torch.zeros(length, d, dtype=torch.float64)
                pe[:, 0::2] = torch.sin(pos * div)
                pe[:, 1::2] = torch.cos(pos * div)[:, : d // 2]
                self._pe = {torch.float64: pe}  # a constant, cast once per dtype
            self.input_dropout = nn.Dropout(cfg["dropout"])
            self.norm_first = cfg.get("norm_first", True)
            self.layers = nn.ModuleList(
                nn.TransformerEncoderLayer(
                    d,
                    cfg["n_heads"],
                    cfg["dim_feedforward"],
                    cfg["dropout"],
                    activation=cfg.get("activation", "gelu"),
                    batch_first=True,
                    norm_first=self.norm_first,
                )
                for _ in range(cfg["num_layers"])
            )
            self.final_norm = nn.LayerNorm(d) if self.norm_first else None
            self.causal = cfg.get("causal", False)
            self.head_type = cfg.get("head", "last")
            width = d if self.head_type == "last" else length * d
            self.head = nn.Linear(width, out_size(cfg))

        def forward(self, x: Any) -> Any:
            h = self.input_proj(x)
            if hasattr(self, "pos_embedding"):
                h = h + self.pos_embedding
            else:
                pe = self._pe.get(h.dtype)
                if pe is None:
                    pe = self._pe[h.dtype] = self._pe[torch.float64].to(h.dtype)
                h = h + pe
            h = self.input_dropout(h)
            mask = None
            if self.causal:
                mask = nn.Transformer.generate_square_subsequent_mask(h.shape[1], dtype=h.dtype)
            for layer in self.layers:
                h = layer(h, src_mask=mask, is_causal=self.causal)
            if self.head_type == "last":
                h = h[:, -1]
            if self.final_norm is not None:
                h = self.final_norm(h)
            if self.head_type == "flatten":
                h = h.reshape(h.shape[0], -1)
            return shape_out(self.cfg, self.head(h))

    class GenericBlock(nn.Module):
        def __init__(self, lookback: int, out: int, layers: int, width: int) -> None:
            super().__init__()
            self.lookback = lookback
            self.layers = nn.ModuleList(
                [nn.Linear(lookback, width)] + [nn.Linear(width, width) for _ in range(layers - 1)]
            )
            self.theta = nn.Linear(width, lookback + out)

        def forward(self, x: Any) -> tuple[Any, Any]:
            h = x
            for layer in self.layers:
                h = F.relu(layer(h))
            theta = self.theta(h)
            return theta[:, : self.lookback], theta[:, self.lookback :]

    class NBEATSGeneric(nn.Module):
        """The generic N-BEATS (one or more generic stacks, no weight sharing)."""

        def __init__(self, **cfg: Any) -> None:
            super().__init__()
            self.cfg = cfg
            stacks = cfg.get("stack_types", ["generic"])
            if set(stacks) != {"generic"} or cfg.get("share_weights", False):
                raise ValueError("the reference covers the generic configuration only")

            def per(v: Any) -> list[int]:
                return list(v) if isinstance(v, list) else [v] * len(stacks)

            blocks = []
            for n, layers, width in zip(
                per(cfg["num_blocks"]), per(cfg["num_layers"]), per(cfg["layer_width"])
            ):
                blocks += [
                    GenericBlock(cfg["lookback"], out_size(cfg), layers, width) for _ in range(n)
                ]
            self.blocks = nn.ModuleList(blocks)

        def forward(self, x: Any) -> Any:
            if x.ndim == 3:
                x = x[:, :, 0]
            residual, forecast = x, None
            for i, block in enumerate(self.blocks):
                back, f = block(residual)
                forecast = f if forecast is None else forecast + f
                if i != len(self.blocks) - 1:
                    residual = residual - back
            return shape_out(self.cfg, forecast)

    def pool(x: Any, k: int) -> Any:
        """MaxPool1d(k, k, ceil_mode=True) over the time axis (1) of (B, T[, C]), windows ending
        at the last step: the reference pools the time-reversed window."""
        if k == 1:
            return x
        z = x.flip(1)
        z = z.unsqueeze(1) if z.ndim == 2 else z.transpose(1, 2)
        z = nn.functional.max_pool1d(z, k, k, ceil_mode=True).flip(-1)
        return z.squeeze(1) if x.ndim == 2 else z.transpose(1, 2)

    class NHITSBlock(nn.Module):
        def __init__(self, cfg: dict[str, Any], k: int, knots: int, layers: int, width: int):
            super().__init__()
            lookback, horizon = cfg["lookback"], cfg["horizon"]
            self.k, self.knots, self.lookback, self.horizon = k, knots, lookback, horizon
            self.q = 1 if cfg.get("quantiles") is None else len(cfg["quantiles"])
            self.mode = cfg.get("interpolation", "linear")
            past = cfg.get("n_features", 1) - 1
            inputs = -(-lookback // k) * (1 + past)
            self.layers = nn.ModuleList(
                [nn.Linear(inputs, width)] + [nn.Linear(width, width) for _ in range(layers - 1)]
            )
            self.drop = nn.Dropout(cfg.get("dropout", 0.0))
            self.theta = nn.Linear(width, lookback + knots * self.q)

        def forward(self, x: Any, past: Any) -> tuple[Any, Any]:
            h = pool(x, self.k)
            if past is not None:
                h = torch.cat([h, pool(past, self.k).flatten(1)], dim=1)
            for layer in self.layers:
                h = self.drop(F.relu(layer(h)))
            theta = self.theta(h)
            knots = theta[:, self.lookback :].reshape(-1, self.knots, self.q).transpose(1, 2)
            f = F.interpolate(knots, size=self.horizon, mode=self.mode)  # (B, Q, H)
            return theta[:, : self.lookback], f.transpose(1, 2).flatten(1)

    class NHITS(nn.Module):
        """N-HiTS (past covariates as block inputs; no known or static covariates)."""

        def __init__(self, **cfg: Any) -> None:
            super().__init__()
            self.cfg = cfg
            kernels = cfg.get("pool_kernel_size", [2, 2, 1])
            freqs = cfg.get("freq_downsample", [4, 2, 1])

            def per(key: str, default: Any) -> list[int]:
                v = cfg.get(key, default)
                return list(v) if isinstance(v, list) else [v] * len(kernels)

            blocks = []
            for s, (n, layers, width) in enumerate(
                zip(per("num_blocks", 1), per("num_layers", 2), per("layer_width", 512))
            ):
                knots = max(cfg["horizon"] // freqs[s], 1)
                blocks += [NHITSBlock(cfg, kernels[s], knots, layers, width) for _ in range(n)]
            self.blocks = nn.ModuleList(blocks)

        def forward(self, x: Any) -> Any:
            residual = x[:, :, 0]
            past = x[:, :, 1:] if x.shape[2] > 1 else None
            forecast = None
            for block in self.blocks:
                back, f = block(residual, past)
                forecast = f if forecast is None else forecast + f
                residual = residual - back
            return shape_out(self.cfg, forecast)

    class TiDEBlock(nn.Module):
        def __init__(self, n_in: int, hidden: int, n_out: int, p: float, norm: bool) -> None:
            super().__init__()
            self.hidden = nn.Linear(n_in, hidden)
            self.output = nn.Linear(hidden, n_out)
            self.skip = nn.Linear(n_in, n_out)
            self.dropout = nn.Dropout(p)
            self.norm = nn.LayerNorm(n_out) if norm else None

        def forward(self, x: Any) -> Any:
            y = self.dropout(self.output(F.relu(self.hidden(x)))) + self.skip(x)
            return y if self.norm is None else self.norm(y)

    class TiDE(nn.Module):
        """TiDE (past covariates through their feature projection; no known or static ones)."""

        def __init__(self, **cfg: Any) -> None:
            super().__init__()
            self.cfg = cfg
            g = cfg.get
            lookback, horizon = cfg["lookback"], cfg["horizon"]
            hid, tw, p = g("hidden_size", 512), g("temporal_width", 4), g("dropout", 0.3)
            norm, out = g("layer_norm", True), g("decoder_output_dim", 32)
            past = g("n_features", 1) - 1
            self.past_projection = TiDEBlock(past, hid, tw, p, norm) if past else None
            width = lookback + (lookback * tw if past else 0)
            n_enc, n_dec = g("num_encoder_layers", 1), g("num_decoder_layers", 1)
            self.encoder = nn.ModuleList(
                [TiDEBlock(width, hid, hid, p, norm)]
                + [TiDEBlock(hid, hid, hid, p, norm) for _ in range(n_enc - 1)]
            )
            self.decoder = nn.ModuleList(
                [TiDEBlock(hid, hid, hid, p, norm) for _ in range(n_dec - 1)]
                + [TiDEBlock(hid, hid, out * horizon, p, norm)]
            )
            q = 1 if g("quantiles") is None else len(g("quantiles"))
            self.temporal_decoder = TiDEBlock(out, g("temporal_decoder_hidden", 128), q, p, False)
            self.global_skip = nn.Linear(lookback, horizon * q)
            self.out = out

        def forward(self, x: Any) -> Any:
            y = x[:, :, 0]
            h = y
            if self.past_projection is not None:
                h = torch.cat([h, self.past_projection(x[:, :, 1:]).flatten(1)], dim=1)
            for block in [*self.encoder, *self.decoder]:
                h = block(h)
            h = self.temporal_decoder(h.reshape(h.shape[0], self.cfg["horizon"], self.out))
            return shape_out(self.cfg, h.flatten(1) + self.global_skip(y))

    class RevIN(nn.Module):
        def __init__(self, affine: bool, eps: float = 1e-5) -> None:
            super().__init__()
            self.eps, self.affine = eps, affine
            if affine:
                self.affine_weight = nn.Parameter(torch.ones(1))
                self.affine_bias = nn.Parameter(torch.zeros(1))

        def normalize(self, z: Any) -> tuple[Any, Any, Any]:
            mean = z.mean(dim=1, keepdim=True)
            std = torch.sqrt(z.var(dim=1, keepdim=True, unbiased=False) + self.eps)
            z = (z - mean) / std
            if self.affine:
                z = z * self.affine_weight + self.affine_bias
            return z, mean, std

        def denormalize(self, y: Any, mean: Any, std: Any) -> Any:
            if y.ndim == 3:
                mean, std = mean.unsqueeze(2), std.unsqueeze(2)
            if self.affine:
                y = (y - self.affine_bias) / (self.affine_weight + self.eps * self.eps)
            return y * std + mean

    class PatchTSTLayer(nn.Module):
        def __init__(self, d: int, heads: int, ff: int, p: float, norm: str) -> None:
            super().__init__()
            self.batch = norm == "batch"
            self.self_attn = nn.MultiheadAttention(d, heads, batch_first=True)
            self.dropout_attn = nn.Dropout(p)
            self.linear1 = nn.Linear(d, ff)
            self.dropout = nn.Dropout(p)
            self.linear2 = nn.Linear(ff, d)
            self.dropout_ffn = nn.Dropout(p)
            self.norm_attn = nn.BatchNorm1d(d) if self.batch else nn.LayerNorm(d)
            self.norm_ffn = nn.BatchNorm1d(d) if self.batch else nn.LayerNorm(d)

        def _norm(self, norm: Any, x: Any) -> Any:
            return norm(x.transpose(1, 2)).transpose(1, 2) if self.batch else norm(x)

        def forward(self, x: Any) -> Any:
            a, _ = self.self_attn(x, x, x, need_weights=False)
            x = self._norm(self.norm_attn, x + self.dropout_attn(a))
            h = self.dropout_ffn(self.linear2(self.dropout(F.gelu(self.linear1(x)))))
            return self._norm(self.norm_ffn, x + h)

    class PatchTST(nn.Module):
        """Supervised PatchTST on the target channel, RevIN around it."""

        def __init__(self, **cfg: Any) -> None:
            super().__init__()
            self.cfg = cfg
            g = cfg.get
            self.patch_len, self.stride = g("patch_len", 16), g("stride", 8)
            self.pad_end = g("pad_end", True)
            length = cfg["lookback"] + (self.stride if self.pad_end else 0)
            self.n_patches = (length - self.patch_len) // self.stride + 1
            d = g("d_model", 128)
            q = 1 if g("quantiles") is None else len(g("quantiles"))
            p = g("dropout", 0.2)
            self.patch_proj = nn.Linear(self.patch_len, d)
            self.pos_embedding = nn.Parameter(torch.empty(self.n_patches, d).uniform_(-0.02, 0.02))
            self.input_dropout = nn.Dropout(p)
            self.layers = nn.ModuleList(
                PatchTSTLayer(d, g("n_heads", 16), g("dim_feedforward", 256), p, g("norm", "batch"))
                for _ in range(g("num_layers", 3))
            )
            self.head_dropout_layer = nn.Dropout(g("head_dropout", 0.0))
            self.head = nn.Linear(self.n_patches * d, cfg["horizon"] * q)
            self.revin = None
            if g("instance_norm", True):
                self.revin = RevIN(g("instance_norm_affine", True))

        def forward(self, x: Any) -> Any:
            z = x[:, :, 0]
            if self.revin is not None:
                z, mean, std = self.revin.normalize(z)
            if self.pad_end:  # ReplicationPad1d((0, stride))
                z = torch.cat([z, z[:, -1:].expand(-1, self.stride)], dim=1)
            patches = z.unfold(1, self.patch_len, self.stride)  # (B, patches, patch_len)
            h = self.input_dropout(self.patch_proj(patches) + self.pos_embedding)
            for layer in self.layers:
                h = layer(h)
            y = shape_out(self.cfg, self.head(self.head_dropout_layer(h.flatten(1))))
            return y if self.revin is None else self.revin.denormalize(y, mean, std)

    return {
        "tcn": TCN,
        "lstm": LSTMModel,
        "transformer": Transformer,
        "nbeats": NBEATSGeneric,
        "nhits": NHITS,
        "tide": TiDE,
        "patchtst": PatchTST,
    }


def torch_state_from_swets(state: dict[str, Any]) -> dict[str, Any]:
    """Rename a swets model's state dict for the matching :func:`torch_models` module."""
    out = {}
    for name, value in state.items():
        name = name.replace("weight_g", "parametrizations.weight.original0")
        name = name.replace("weight_v", "parametrizations.weight.original1")
        out[name] = value
    return out


# ------------------------------------------------------------------------------------------------
# Setups
# ------------------------------------------------------------------------------------------------


def _data(name: str, batch: int) -> tuple[Any, Any]:
    import numpy as np

    case = model_case(name)
    cfg = case["config"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, cfg["lookback"], cfg["n_features"])).astype(np.float32)
    y = rng.standard_normal((batch, cfg["horizon"])).astype(np.float32)
    return x, y


def _swets_train(name: str):
    def setup():
        from swets_core import GradientTape, Tensor, registry
        from swets_ops import jit
        from swets_optim import Adam

        # the LSTM's ops use the optional compiled kernels (numba and LLVM, when installed and
        # enabled): they load with the framework, as PyTorch's libraries do, so a memory case's
        # "increase" counts neither library and its "peak" counts both; the other models never
        # load numba
        if name == "lstm":
            jit.warm_up()
        case = model_case(name)
        model = registry.create("models", case["model"], **case["config"], seed=0)
        opt = Adam(model.parameters(), lr=1e-3)
        mse = registry.create("losses", "mse")
        xa, ya = _data(name, case["batch"])
        x, y = Tensor(xa), Tensor(ya)

        def step():
            with GradientTape() as tape:
                loss = mse(model(x), y)
            opt.step(None, tape.backward(loss))

        return step

    return setup


def _torch_train(name: str):
    def setup():
        import torch
        from torch.nn import functional as F  # noqa: N812

        torch.manual_seed(0)
        case = model_case(name)
        model = torch_models()[case["model"]](**case["config"])
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        xa, ya = _data(name, case["batch"])
        x, y = torch.from_numpy(xa), torch.from_numpy(ya)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()

        return step

    return setup


def _swets_infer(name: str):
    def setup():
        from swets_core import Tensor, no_grad, registry

        case = MODEL_CASES[name]
        model = registry.create("models", name, **case["config"], seed=0).eval()
        x = Tensor(_data(name, 1)[0])

        def infer():
            with no_grad():
                return model(x)

        return infer

    return setup


def _torch_infer(name: str):
    def setup():
        import torch

        torch.manual_seed(0)
        case = MODEL_CASES[name]
        model = torch_models()[name](**case["config"]).eval()
        x = torch.from_numpy(_data(name, 1)[0])

        def infer():
            with torch.inference_mode():
                return model(x)

        return infer

    return setup


def _memory(train_setup):
    """A memory setup: build the training step, then run 50 steps under :func:`peak_memory`."""

    def setup():
        from benchmarks.harness import peak_memory

        step = train_setup()

        def run():
            return peak_memory(lambda: [step() for _ in range(MEMORY_STEPS)])

        return run

    return setup


def _describe(name: str) -> str:
    case = model_case(name)
    cfg = ", ".join(f"{k}={v}" for k, v in case["config"].items())
    return f"{name}: {cfg}; batch {case['batch']}"


MEMORY_STEPS = 50
"""Training steps of a memory measurement."""

TRAIN_TARGETS = {"nbeats": 1.2, "tcn": 1.0, "lstm": 1.0, "transformer": 1.0, "tcn_plain": 1.0}
"""The issue's targets for the swets/PyTorch time ratio of a training step (none for the others)."""

MEMORY_MODELS = ("nbeats", "tcn", "lstm", "transformer")
"""The models of the memory cases."""

CASES: list[Case] = (
    [
        Case(
            name=f"models.{name}_train_step",
            group="models: training step (forward, backward, Adam)",
            setups={"swets": _swets_train(name), "torch": _torch_train(name)},
            number=1 if name == "nbeats" else 3,
            note=_describe(name),
            extra={"target": TRAIN_TARGETS.get(name)},
        )
        for name in [*MODEL_CASES, *VARIANTS]
    ]
    + [
        Case(
            name=f"models.{name}_inference_b1",
            group="models: single-window inference latency (batch 1)",
            setups={"swets": _swets_infer(name), "torch": _torch_infer(name)},
            number=20,
            note=f"{name}: one window, eval mode, no gradient recording",
            extra={"target": 0.5},
        )
        for name in MODEL_CASES
    ]
    + [
        Case(
            name=f"models.{name}_train_memory",
            group=f"models: memory of a {MEMORY_STEPS}-step training run (MiB)",
            setups={
                "swets": _memory(_swets_train(name)),
                "torch": _memory(_torch_train(name)),
            },
            kind="memory",
            note=(
                f"{name}: peak = the process's peak resident set during the run (interpreter, "
                "libraries, model, data included); increase = peak - resident set before the run"
            )
            if name == "nbeats"
            else "",
            extra={"target": {"peak": 1.0, "increase": 1.0}},
        )
        for name in MEMORY_MODELS
    ]
)
