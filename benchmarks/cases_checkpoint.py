"""Checkpoint save and load next to ``torch.save`` / ``torch.load(weights_only=True)``.

Models: the N-BEATS bench model (generic, 3 blocks, 2 hidden layers of width 512, lookback 96,
horizon 24: 1.12 M parameters; a plain Module of the same shapes if swets-models is not installed)
and a 25.2 M parameter stack of 24 dense 1024x1024 layers. torch saves and loads a state dict of the
same shapes and dtype (float32).

* ``save_*``: ``save_checkpoint`` (temporary file, fsync, atomic rename, directory fsync) against
  ``torch.save`` (which does not fsync). ``save_*_nofsync`` is the same swets save without the two
  fsyncs (still atomic against a killed process), the like-for-like comparison of the formats.
* ``load_*``: ``load_checkpoint`` (verify every SHA-256, rebuild the model through the registry,
  strict state loading) against building the same torch module and
  ``model.load_state_dict(torch.load(path, weights_only=True))``. ``load_state_*`` is
  ``load_payload`` (read, verify, arrays) against ``torch.load`` alone, like for like; the ``_mmap``
  case maps the file on both sides.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable

from benchmarks.harness import Case

NBEATS = {"lookback": 96, "horizon": 24, "num_blocks": 3, "num_layers": 2, "layer_width": 512}
N_WIDE, WIDE = 24, 1024


def _tmpdir() -> str:
    d = tempfile.mkdtemp(prefix="swets-bench-ckpt-")
    atexit.register(shutil.rmtree, d, ignore_errors=True)
    return d


def _registry_and_model(which: str):
    """Activate a registry that can rebuild the bench model; return the model (parameters set)."""
    import numpy as np

    import swets_core
    import swets_serde_msgpack.plugin as serde_plugin
    from swets_core import Module, Parameter, registry

    class DenseStack(Module):
        """Bench-only model: ``n`` dense layers of (width, width) weights and (width,) biases."""

        registry_name = "bench_dense_stack"

        def __init__(self, shapes: list[list[int]]) -> None:
            super().__init__()
            self.shapes = [list(s) for s in shapes]
            self.params = [Parameter(np.zeros(s, np.float32)) for s in self.shapes]

        def config(self) -> dict:
            return {"shapes": self.shapes}

    class BenchModels:
        @swets_core.hookimpl
        def swets_register_models(self, register):
            register("bench_dense_stack", DenseStack)

    rng = np.random.default_rng(0)
    if which == "nbeats" and "nbeats" in registry.names("models"):
        model = registry.create("models", "nbeats", **NBEATS)
    else:
        if which == "nbeats":  # swets-models absent: the same shapes as a plain Module
            w, lb, out = (
                NBEATS["layer_width"],
                NBEATS["lookback"],
                NBEATS["lookback"] + NBEATS["horizon"],
            )
            shapes = []
            for _ in range(NBEATS["num_blocks"]):
                shapes += [[w, lb], [w], [w, w], [w], [out, w], [out]]
        else:
            shapes = [[WIDE, WIDE], [WIDE]] * N_WIDE
        reg = registry.Registry(entry_points=False)
        reg.add_plugin(BenchModels(), name="bench_models", distribution="swets-bench", version="0")
        reg.add_plugin(
            serde_plugin, name="serde_msgpack", distribution="swets-serde-msgpack", version="0"
        )
        registry.activate(reg)  # for the life of this worker process
        model = DenseStack(shapes)
    for p in model.parameters():
        p._data[...] = rng.standard_normal(p._data.shape, dtype=np.float32)
    return model


def _swets_save(which: str, fsync: bool = True) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        import os

        from swets_core.checkpoint import save_checkpoint
        from swets_serde_msgpack import MsgpackSerializer

        model = _registry_and_model(which)
        path = os.path.join(_tmpdir(), "model.swets")
        ser = MsgpackSerializer(fsync=fsync)
        return lambda: save_checkpoint(path, model, serializer=ser)

    return setup


def _swets_load(
    which: str, state_only: bool = False, mmap: bool = False
) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        import os

        from swets_core.checkpoint import load_checkpoint, load_payload, save_checkpoint
        from swets_serde_msgpack import MsgpackSerializer

        model = _registry_and_model(which)
        path = os.path.join(_tmpdir(), "model.swets")
        save_checkpoint(path, model)
        ser = MsgpackSerializer(mmap=mmap)
        if state_only:
            return lambda: load_payload(path, serializer=ser)["model"]["state"]
        return lambda: load_checkpoint(path, serializer=ser).model

    return setup


def _torch_state(which: str) -> dict:
    import torch

    if which == "nbeats":
        shapes = []
        w, lb, theta = (
            NBEATS["layer_width"],
            NBEATS["lookback"],
            NBEATS["lookback"] + NBEATS["horizon"],
        )
        for b in range(NBEATS["num_blocks"]):
            shapes += [
                (f"blocks.{b}.layers.0.weight", (w, lb)),
                (f"blocks.{b}.layers.0.bias", (w,)),
                (f"blocks.{b}.layers.1.weight", (w, w)),
                (f"blocks.{b}.layers.1.bias", (w,)),
                (f"blocks.{b}.theta.weight", (theta, w)),
                (f"blocks.{b}.theta.bias", (theta,)),
            ]
    else:
        shapes = []
        for i in range(N_WIDE):
            shapes += [(f"params.{2 * i}", (WIDE, WIDE)), (f"params.{2 * i + 1}", (WIDE,))]
    g = torch.Generator().manual_seed(0)
    return {k: torch.randn(s, generator=g, dtype=torch.float32) for k, s in shapes}


def _torch_save(which: str) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        import os

        import torch

        state = _torch_state(which)
        path = os.path.join(_tmpdir(), "model.pt")
        return lambda: torch.save(state, path)

    return setup


def _torch_model(which: str):
    """A torch module whose state dict has the names and shapes of ``_torch_state(which)``."""
    from torch import nn

    if which == "nbeats":
        w, lb = NBEATS["layer_width"], NBEATS["lookback"]
        theta = lb + NBEATS["horizon"]

        class Block(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.layers = nn.ModuleList([nn.Linear(lb, w), nn.Linear(w, w)])
                self.theta = nn.Linear(w, theta)

        class NBeats(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.blocks = nn.ModuleList([Block() for _ in range(NBEATS["num_blocks"])])

        return NBeats()
    import torch

    class Dense(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            shapes = [(WIDE, WIDE), (WIDE,)] * N_WIDE
            self.params = nn.ParameterList([nn.Parameter(torch.zeros(s)) for s in shapes])

    return Dense()


def _torch_load(
    which: str, build_model: bool = False, mmap: bool = False
) -> Callable[[], Callable[[], object]]:
    def setup() -> Callable[[], object]:
        import os

        import torch

        path = os.path.join(_tmpdir(), "model.pt")
        torch.save(_torch_state(which), path)
        if not build_model:
            return lambda: torch.load(path, weights_only=True, mmap=mmap)

        def load() -> object:
            model = _torch_model(which)
            model.load_state_dict(torch.load(path, weights_only=True), strict=True)
            return model

        return load

    return setup


CASES = [
    Case(
        "checkpoint.save_nbeats_1.1m",
        "checkpoint",
        {"swets": _swets_save("nbeats"), "torch": _torch_save("nbeats")},
        note="swets: save_checkpoint with fsync + atomic rename; torch.save does not fsync",
    ),
    Case(
        "checkpoint.save_nbeats_1.1m_nofsync",
        "checkpoint",
        {"swets": _swets_save("nbeats", fsync=False), "torch": _torch_save("nbeats")},
    ),
    Case(
        "checkpoint.load_nbeats_1.1m",
        "checkpoint",
        {"swets": _swets_load("nbeats"), "torch": _torch_load("nbeats", build_model=True)},
        note="swets: load_checkpoint (verify SHA-256, rebuild by name, strict load); torch: build the "
        "same module, load_state_dict(torch.load(...)); load_state_*: load_payload vs torch.load",
    ),
    Case(
        "checkpoint.load_state_nbeats_1.1m",
        "checkpoint",
        {"swets": _swets_load("nbeats", state_only=True), "torch": _torch_load("nbeats")},
    ),
    Case(
        "checkpoint.save_dense_25m",
        "checkpoint",
        {"swets": _swets_save("dense"), "torch": _torch_save("dense")},
    ),
    Case(
        "checkpoint.save_dense_25m_nofsync",
        "checkpoint",
        {"swets": _swets_save("dense", fsync=False), "torch": _torch_save("dense")},
    ),
    Case(
        "checkpoint.load_dense_25m",
        "checkpoint",
        {"swets": _swets_load("dense"), "torch": _torch_load("dense", build_model=True)},
    ),
    Case(
        "checkpoint.load_state_dense_25m",
        "checkpoint",
        {"swets": _swets_load("dense", state_only=True), "torch": _torch_load("dense")},
    ),
    Case(
        "checkpoint.load_state_dense_25m_mmap",
        "checkpoint",
        {
            "swets": _swets_load("dense", state_only=True, mmap=True),
            "torch": _torch_load("dense", mmap=True),
        },
        note="both memory-map the file: MsgpackSerializer(mmap=True) still reads every byte to "
        "verify the SHA-256s; torch.load(mmap=True, weights_only=True) reads nothing until used",
    ),
]
