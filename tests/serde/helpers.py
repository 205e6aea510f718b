"""Test-only models, an isolated registry, and a forger of checkpoint files for the hostile tests."""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import msgpack
import numpy as np

import swets_core
import swets_serde_msgpack.plugin as serde_plugin
from swets_core import Module, Parameter, Tensor
from swets_core.errors import ConfigError
from swets_core.registry import Registry
from swets_serde_msgpack import format as fmt


class TinyNet(Module):
    """A two-layer perceptron computed with numpy (no ops plugin needed), with an int buffer.

    Shapes: input ``(batch, n_in)`` -> output ``(batch, n_out)``.
    """

    registry_name = "tiny_net"

    def __init__(
        self, n_in: int = 4, hidden: int = 8, n_out: int = 2, dtype: str = "float32"
    ) -> None:
        super().__init__()
        for key, v in (("n_in", n_in), ("hidden", hidden), ("n_out", n_out)):
            if not isinstance(v, int) or isinstance(v, bool) or not 0 < v <= 512:
                raise ConfigError(f"TinyNet: {key} must be an int in [1, 512], got {v!r}")
        self.n_in, self.hidden, self.n_out = n_in, hidden, n_out
        rng = np.random.default_rng(0)
        self.w1 = Parameter(rng.standard_normal((hidden, n_in)).astype(dtype))
        self.b1 = Parameter(np.zeros(hidden, dtype))
        self.layers = [Parameter(rng.standard_normal((n_out, hidden)).astype(dtype))]
        self.register_buffer("calls", np.zeros((), np.int64))
        self.register_buffer("mask", np.ones(hidden, bool))

    def config(self) -> dict[str, Any]:
        return {"n_in": self.n_in, "hidden": self.hidden, "n_out": self.n_out}

    def forward(self, x: Tensor) -> Tensor:
        h = np.tanh(x._data @ self.w1._data.T + self.b1._data) * self.mask
        return Tensor(h @ self.layers[0]._data.T)


class Unregistered(TinyNet):
    """A subclass nobody registered (and that hides the inherited registry name)."""

    registry_name = None  # type: ignore[assignment]


class TestModels:
    """The plugin that registers the test-only models."""

    @swets_core.hookimpl
    def swets_register_models(self, register):
        register("tiny_net", TinyNet)


def isolated_registry(models: bool = True) -> Registry:
    """A registry with only the msgpack serializer (and the test models unless ``models=False``)."""
    reg = Registry(entry_points=False)
    if models:
        reg.add_plugin(
            TestModels(), name="test_models", distribution="swets-test-models", version="7.1.2"
        )
    reg.add_plugin(
        serde_plugin, name="serde_msgpack", distribution="swets-serde-msgpack", version="0.1.0"
    )
    return reg


def perturbed(model: Module, seed: int = 1) -> Module:
    """Change every float parameter so a rebuilt model's fresh initialisation cannot pass for it."""
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        p._data += rng.standard_normal(p._data.shape).astype(p._data.dtype)
    return model


# -- forging files ------------------------------------------------------------------------------
def seal(
    header: bytes,
    data: bytes,
    *,
    magic: bytes = fmt.MAGIC,
    version: int = 1,
    flags: int = 0,
    header_length: int | None = None,
    data_length: int | None = None,
    padding: bytes | None = None,
) -> bytes:
    """Assemble a file around raw header bytes, with a correct header hash unless told otherwise."""
    hl = len(header) if header_length is None else header_length
    dl = len(data) if data_length is None else data_length
    if padding is None:
        padding = bytes(-(fmt.PREFIX_SIZE + len(header)) % fmt.ALIGN)
    prefix = struct.pack(
        "<8sIIQQ32s", magic, version, flags, hl, dl, hashlib.sha256(header).digest()
    )
    return prefix + header + padding + data


def forge(tree: Any, records: list[dict[str, Any]], data: bytes, **kw: Any) -> bytes:
    """A file with the given tree and tensor records, sealed with a correct header hash."""
    return seal(msgpack.packb({"tree": tree, "tensors": records}, use_bin_type=True), data, **kw)


def record(path: list[Any], array: np.ndarray, offset: int = 0, **overrides: Any) -> dict[str, Any]:
    """A correct tensor record for ``array`` stored at ``offset``; ``overrides`` replace fields."""
    rec = {
        "path": path,
        "dtype": array.dtype.name,
        "shape": list(array.shape),
        "offset": offset,
        "nbytes": array.nbytes,
        "sha256": hashlib.sha256(array.tobytes()).digest(),
    }
    rec.update(overrides)
    return rec


def split_file(blob: bytes) -> tuple[dict[str, Any], bytes]:
    """(header as a dict, data section bytes) of a valid file."""
    _, _, _, hl, dl, _ = struct.unpack_from("<8sIIQQ32s", blob)
    header = msgpack.unpackb(blob[fmt.PREFIX_SIZE : fmt.PREFIX_SIZE + hl], raw=False)
    return header, blob[len(blob) - dl :]
