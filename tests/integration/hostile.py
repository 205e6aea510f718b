"""Hostile checkpoints, generated from one small valid job checkpoint: every file is well formed at the
container level (the writer seals and hashes it) unless its name says otherwise, and attacks one
field, one bound or one way of opening the file.

Each :class:`Fixture` says which loading paths succeed on it (``ok``); every other path must end
in a swets error. The paths: ``load_checkpoint``, ``load_job``, ``resume`` (``Trainer.fit(...,
resume_from=...)`` with the job's prepared objects) and the commands ``evaluate``, ``forecast``,
``plot`` and ``backtest`` (``tests/integration/hostile_runner.py`` runs them).
"""

from __future__ import annotations

import copy
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from swets_serde_msgpack import dumps, loads
from tests.serde.helpers import seal

PYTHON_PATHS = ("load_checkpoint", "load_job", "resume")
CLI_PATHS = ("evaluate", "forecast", "plot", "backtest")
PATHS = PYTHON_PATHS + CLI_PATHS

BASE_JOB = {
    "data": {"dataset": "electricity", "lookback": 48, "horizon": 12},
    "model": {"name": "nbeats", "num_blocks": 1, "num_layers": 2, "layer_width": 16},
    "training": {"max_steps": 3, "patience": 2, "seed": 0},
}
"""The job every fixture starts from (trained for three steps; early stopping keeps a state)."""

ALL = frozenset(PATHS)
NONE: frozenset[str] = frozenset()
CHECKPOINT_ONLY = frozenset({"load_checkpoint"})  # the training state or the job is broken
NOT_THE_JOB = frozenset({"load_checkpoint", "resume"})  # resume does not read the job
NOT_THE_DATA = frozenset(PYTHON_PATHS)  # the job's data: read by the commands only
RESUME_ONLY = ALL - {"resume"}  # a component's own state: checked when the component loads it


@attrs.frozen
class Fixture:
    """A hostile file: ``build(tree, workdir)`` returns the file's bytes, or the path of something
    that is not a regular file; ``ok`` the paths that load it; ``strict`` runs every path with
    ``SWETS_STRICT_CHECKPOINTS=1``."""

    name: str
    build: Callable[[dict[str, Any], Path], bytes | Path]
    ok: frozenset[str] = NONE
    strict: bool = False


def _tree(mutate: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any], Path], bytes]:
    """A fixture built by changing the plain payload tree in place, then sealing it again."""

    def build(tree: dict[str, Any], workdir: Path) -> bytes:
        mutate(tree)
        return dumps(tree)

    return build


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set the dotted ``path`` of the tree (``model.config.num_blocks``)."""

    def mutate(tree: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = tree
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _del(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(tree: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = tree
        for p in parents:
            node = node[p]
        del node[last]

    return mutate


def _header(tree_bytes: bytes) -> bytes:
    """A header map holding ``tree_bytes`` as its tree and no tensor record."""
    return b"\x82\xa4tree" + tree_bytes + b"\xa7tensors\x90"


def _many(count: int, item: bytes) -> Callable[[dict[str, Any], Path], bytes]:
    """12 MB of one-byte objects (empty lists, empty maps) in an otherwise valid payload."""

    def build(tree: dict[str, Any], workdir: Path) -> bytes:
        body = b"\xdd" + struct.pack(">I", count) + item * count
        return seal(_header(b"\x81\xa4junk" + body), b"")

    return build


def _reshape_overflow(tree: dict[str, Any], workdir: Path) -> bytes:
    from tests.serde.helpers import split_file

    blob = dumps({**tree, "extra": np.zeros((0, 2), np.float32)})
    header, data = split_file(blob)
    for rec in header["tensors"]:
        if rec["path"] == ["extra"]:
            rec["shape"] = [0, 3036988439, 3037012561]
    import msgpack

    return seal(msgpack.packb(header, use_bin_type=True), data)


def _unexpected_tensors(n: int) -> Callable[[dict[str, Any]], None]:
    def mutate(tree: dict[str, Any]) -> None:
        state = tree["model"]["state"]
        for i in range(n):
            state[f"stacks.{i}.weight"] = np.zeros(0, np.float32)

    return mutate


def _first_weight(value: float) -> Callable[[dict[str, Any]], None]:
    def mutate(tree: dict[str, Any]) -> None:
        state = tree["model"]["state"]
        name = sorted(k for k, v in state.items() if v.dtype.kind == "f")[0]
        arr = np.array(state[name])
        arr.reshape(-1)[:3] = value
        state[name] = arr

    return mutate


def _job_data(kind: str) -> Callable[[dict[str, Any], Path], bytes]:
    """The job's ``data.path`` names a named pipe or a link to ``/dev/zero``."""

    def build(tree: dict[str, Any], workdir: Path) -> bytes:
        data = tree["metadata"]["user"]["job"]["data"]
        data.pop("dataset", None)
        target = workdir / f"job-data-{kind}.csv"
        if not os.path.lexists(target):
            if kind == "fifo":
                os.mkfifo(target)
            else:
                os.symlink("/dev/zero", target)
        data["path"] = str(target)
        return dumps(tree)

    return build


def _not_regular(kind: str) -> Callable[[dict[str, Any], Path], Path]:
    """The checkpoint path itself is a named pipe, a link to ``/dev/zero``, or a directory."""

    def build(tree: dict[str, Any], workdir: Path) -> Path:
        target = workdir / f"checkpoint-{kind}.swets"
        if not os.path.lexists(target):
            if kind == "fifo":
                os.mkfifo(target)
            elif kind == "devzero":
                os.symlink("/dev/zero", target)
            else:
                target.mkdir()
        return target

    return build


def _scaler(value: float, index: str = "scale") -> Callable[[dict[str, Any]], None]:
    def mutate(tree: dict[str, Any]) -> None:
        tree["training"]["scaler"]["stats"]["*"][index][0] = value  # the target's column

    return mutate


BIG = {"\x00int": "1" + "0" * 30}  # 10**30 in the plain encoding

FIXTURES: list[Fixture] = [
    Fixture("valid", _tree(lambda t: None), ok=ALL),
    # -- the model configuration against the stored tensors
    Fixture("config-num_blocks-2e6", _tree(_set("model.config.num_blocks", [2_000_000]))),
    Fixture("config-num_layers-1e7", _tree(_set("model.config.num_layers", [10_000_000]))),
    Fixture("config-layer_width-2**62", _tree(_set("model.config.layer_width", [2**62]))),
    Fixture("config-layer_width-1e30", _tree(_set("model.config.layer_width", [BIG]))),
    Fixture("config-lookback-1e30", _tree(_set("model.config.lookback", BIG))),
    Fixture("config-stacks-1e5", _tree(_set("model.config.stack_types", ["generic"] * 100_000))),
    Fixture("config-array", _tree(_set("model.config.layer_width", np.arange(3)))),
    Fixture("config-bytes", _tree(_set("model.config.dtype", b"float32"))),
    Fixture("config-int-keys", _tree(_set("model.config", {"\x00map": [[1, 2]]}))),
    # -- payload fields of the wrong type
    Fixture("format-array", _tree(_set("format", np.arange(3)))),
    Fixture("format-list", _tree(_set("format", ["swets.checkpoint"]))),
    Fixture("format_version-str", _tree(_set("format_version", "1"))),
    Fixture("format_version-1e30", _tree(_set("format_version", BIG))),
    Fixture("model-list", _tree(_set("model", [1, 2]))),
    Fixture("model-name-array", _tree(_set("model.name", np.zeros(2)))),
    Fixture("model-name-unknown", _tree(_set("model.name", "x" * 10_000))),
    Fixture("model-state-list", _tree(_set("model.state", [1]))),
    Fixture("model-state-entry-list", _tree(_set("model.state.extra", [1.0, 2.0]))),
    Fixture("model-dtype-float128", _tree(_set("model.dtype", "float128"))),
    Fixture("model-state-30000-unexpected", _tree(_unexpected_tensors(30_000))),
    Fixture("model-state-empty", _tree(_set("model.state", {}))),
    Fixture("training-list", _tree(_set("training", [1, 2]))),
    Fixture("metadata-list", _tree(_set("metadata", [1]))),
    Fixture("metadata-components-str", _tree(_set("metadata.components", "x"))),
    Fixture("metadata-components-int", _tree(_set("metadata.components", [1, 2]))),
    Fixture("metadata-user-list", _tree(_set("metadata.user", [1]))),
    # -- the training state (swets-train's format): the checkpoint loads, nothing that uses it
    Fixture(
        "history-records-ints", _tree(_set("training.history.records", [1, 2])), CHECKPOINT_ONLY
    ),
    Fixture(
        "history-records-str", _tree(_set("training.history.records", "epochs")), CHECKPOINT_ONLY
    ),
    Fixture(
        "history-record-array",
        _tree(_set("training.history.records.0.loss", np.ones(3))),
        CHECKPOINT_ONLY,
    ),
    Fixture("history-list", _tree(_set("training.history", [1])), CHECKPOINT_ONLY),
    Fixture("training-version-2", _tree(_set("training.version", 2)), CHECKPOINT_ONLY),
    Fixture("training-epoch-str", _tree(_set("training.epoch", "1")), CHECKPOINT_ONLY),
    Fixture("training-step-negative", _tree(_set("training.step", -1)), CHECKPOINT_ONLY),
    Fixture("training-batch-1e30", _tree(_set("training.batch", BIG)), CHECKPOINT_ONLY),
    Fixture("training-epoch_loss-list", _tree(_set("training.epoch_loss", [1])), CHECKPOINT_ONLY),
    Fixture("training-stop-str", _tree(_set("training.stop", "yes")), CHECKPOINT_ONLY),
    Fixture("training-elapsed-nan", _tree(_set("training.elapsed", float("nan"))), CHECKPOINT_ONLY),
    Fixture("training-no-optimizer", _tree(_del("training.optimizer")), CHECKPOINT_ONLY),
    Fixture("optimizer-state-list", _tree(_set("training.optimizer.state", [1])), RESUME_ONLY),
    Fixture(
        "optimizer-lr-str", _tree(_set("training.optimizer.param_groups.0.lr", "fast")), RESUME_ONLY
    ),
    Fixture(
        "rng-unknown-generator",
        _tree(_set("training.rng.model", {"x": {"bit_generator": "Evil"}})),
        RESUME_ONLY,
    ),
    Fixture("loader-position-1e30", _tree(_set("training.loader.position", BIG)), CHECKPOINT_ONLY),
    Fixture("loader-position-inconsistent", _tree(_set("training.batch", 1)), CHECKPOINT_ONLY),
    Fixture(
        "loader-rng-junk",
        _tree(_set("training.loader.rng_state", {"bit_generator": [1]})),
        RESUME_ONLY,
    ),
    Fixture("callbacks-list", _tree(_set("training.callbacks", [1])), CHECKPOINT_ONLY),
    Fixture(
        "callbacks-state-junk",
        _tree(_set("training.callbacks.EarlyStopping.wait", "x")),
        RESUME_ONLY,
    ),
    Fixture("scaler-kind-list", _tree(_set("training.scaler.kind", [1])), CHECKPOINT_ONLY),
    Fixture(
        "scaler-stats-50000",
        _tree(_set("training.scaler.stats", {str(i): [i] for i in range(50_000)})),
        CHECKPOINT_ONLY,
    ),
    Fixture(
        "scaler-stats-100000",
        _tree(_set("training.scaler.stats", {str(i): [i] for i in range(100_000)})),
    ),
    # -- the job description (read by load_job and the commands, not by resume)
    Fixture("job-model-array", _tree(_set("metadata.user.job.model", np.arange(3))), NOT_THE_JOB),
    Fixture("job-list", _tree(_set("metadata.user.job", [1])), NOT_THE_JOB),
    Fixture("job-missing", _tree(_del("metadata.user.job")), NOT_THE_JOB),
    Fixture("job-other-model", _tree(_set("metadata.user.job.model.name", "lstm")), NOT_THE_JOB),
    Fixture(
        "job-lookback-mismatch", _tree(_set("metadata.user.job.data.lookback", 96)), NOT_THE_JOB
    ),
    Fixture(
        "job-static-encoder-junk",
        _tree(_set("metadata.user.static_encoder", {"columns": "x", "mean": [1]})),
        NOT_THE_JOB,
    ),
    Fixture(
        "job-static-encoder-10000-categories",
        _tree(
            _set(
                "metadata.user.static_encoder",
                {
                    "columns": ["c"],
                    "categories": {"c": [str(i) for i in range(10_000)]},
                    "mean": {},
                    "std": {},
                },
            )
        ),
        NOT_THE_JOB,
    ),
    Fixture("job-data-fifo", _job_data("fifo"), NOT_THE_DATA),
    Fixture("job-data-devzero", _job_data("devzero"), NOT_THE_DATA),
    # -- values that load but cannot forecast: refused in strict mode
    Fixture("weights-nan", _tree(_first_weight(float("nan"))), strict=True),
    Fixture("weights-inf", _tree(_first_weight(float("inf"))), strict=True),
    Fixture("scaler-scale-0", _tree(_scaler(0.0)), NOT_THE_JOB, strict=True),
    Fixture("scaler-offset-nan", _tree(_scaler(float("nan"), "offset")), NOT_THE_JOB, strict=True),
    # -- sizes: objects the tensors do not account for
    Fixture("12M-empty-lists", _many(12_000_000, b"\x90")),
    Fixture("2M-empty-maps", _many(2_000_000, b"\x80")),
    Fixture("shape-overflows-with-a-zero", _reshape_overflow),
    # -- what is not a regular file
    Fixture("checkpoint-fifo", _not_regular("fifo")),
    Fixture("checkpoint-devzero", _not_regular("devzero")),
    Fixture("checkpoint-directory", _not_regular("directory")),
]


def base_tree(blob: bytes) -> dict[str, Any]:
    """The plain payload tree of a checkpoint (arrays included), to mutate."""
    return loads(blob)


def write_fixtures(base: bytes, workdir: Path) -> dict[str, Path]:
    """Write every fixture into ``workdir``; returns ``{name: path}``."""
    tree = base_tree(base)
    out = {}
    for fx in FIXTURES:
        built = fx.build(copy.deepcopy(tree), workdir)
        if isinstance(built, Path):
            out[fx.name] = built
        else:
            path = workdir / f"{fx.name}.swets"
            path.write_bytes(built)
            out[fx.name] = path
    return out
