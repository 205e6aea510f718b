"""Round trips: every registered model, the test-only model, training state, metadata, and the errors
of the checkpoint API (missing plugin, strict state, names, migrations)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from swets_core import Tensor, registry
from swets_core import checkpoint as ck
from swets_core.errors import CheckpointError, ConfigError, StateDictError
from swets_core.registry import activate
from swets_serde_msgpack import MsgpackSerializer
from tests.serde.helpers import TinyNet, Unregistered, isolated_registry, perturbed
from tests.serde.model_configs import MODEL_CASES


@pytest.fixture
def iso():
    with activate(isolated_registry()) as reg:
        yield reg


def _outputs(out):
    if isinstance(out, Tensor):
        return [out._data]
    if isinstance(out, (tuple, list)):
        return [a for o in out for a in _outputs(o)]
    if isinstance(out, dict):
        return [a for k in sorted(out) for a in _outputs(out[k])]
    return [np.asarray(out)]


def _assert_same_state(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        assert a[k].shape == b[k].shape, k
        assert a[k].tobytes() == b[k].tobytes(), k


# -- every registered model -----------------------------------------------------------------------
@pytest.mark.parametrize("name", registry.names("models"))
def test_registered_model_round_trip(name, tmp_path):
    case = MODEL_CASES.get(name)
    if case is None:
        pytest.fail(
            f"model {name!r} is registered but tests/serde/model_configs.py has no small "
            "configuration and input shape for it: add one to MODEL_CASES"
        )
    model = registry.create("models", name, **case["config"])
    perturbed(model, seed=3)
    model.eval()
    path = tmp_path / f"{name}.swets"
    ck.save_checkpoint(path, model, metadata={"case": name})
    loaded = ck.load_checkpoint(path)
    assert loaded.model_name == name
    assert type(loaded.model) is type(model)
    assert loaded.config == model.config()
    _assert_same_state(loaded.model.state_dict(), model.state_dict())
    x = np.random.default_rng(7).standard_normal(case["input_shape"])
    dtype = next((a.dtype for a in model.state_dict().values() if a.dtype.kind == "f"), np.float32)
    x = x.astype(dtype)
    loaded.model.eval()
    for want, got in zip(
        _outputs(model(Tensor(x))), _outputs(loaded.model(Tensor(x))), strict=True
    ):
        assert want.tobytes() == got.tobytes()
    info = registry.info("models", name)
    recorded = [c for c in loaded.components if c["kind"] == "models"]
    assert recorded == [
        {
            "kind": "models",
            "name": name,
            "distribution": info.distribution,
            "version": info.version,
            "plugin": info.plugin,
        }
    ]


# -- the test-only model through an isolated registry ---------------------------------------------
def test_test_model_round_trip_outputs_and_metadata(iso, tmp_path):
    model = perturbed(TinyNet(n_in=5, hidden=7, n_out=3))
    model.calls[...] = 41
    model.mask[2] = False
    path = tmp_path / "tiny.swets"
    ck.save_checkpoint(path, model, metadata={"run": "a", "tags": ("x", 2), "ids": {3: "three"}})
    got = ck.load_checkpoint(path)
    assert isinstance(got.model, TinyNet) and got.model is not model
    assert got.config == {"n_in": 5, "hidden": 7, "n_out": 3}
    _assert_same_state(got.model.state_dict(), model.state_dict())
    assert int(got.model.calls) == 41 and not got.model.mask[2]
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    assert got.model(Tensor(x))._data.tobytes() == model(Tensor(x))._data.tobytes()
    assert got.user_metadata == {"run": "a", "tags": ("x", 2), "ids": {3: "three"}}
    meta = got.metadata
    assert meta["format_version"] == ck.FORMAT_VERSION
    assert meta["swets_version"] == __import__("swets_core").__version__
    assert meta["created"].endswith("+00:00")
    assert {(c["kind"], c["name"], c["distribution"], c["version"]) for c in got.components} == {
        ("models", "tiny_net", "swets-test-models", "7.1.2"),
        ("serializers", "msgpack", "swets-serde-msgpack", "0.1.0"),
    }
    assert got.training_state is None


def test_float64_model_is_restored_in_float64(iso, tmp_path):
    model = perturbed(TinyNet().astype("float64"))
    ck.save_checkpoint(tmp_path / "f64.swets", model)
    got = ck.load_checkpoint(tmp_path / "f64.swets").model
    assert got.w1._data.dtype == np.float64
    _assert_same_state(got.state_dict(), model.state_dict())


def test_loaded_parameters_are_writable_and_independent(iso, tmp_path):
    model = perturbed(TinyNet())
    ck.save_checkpoint(tmp_path / "m.swets", model, training_state={"m": np.ones(3)})
    got = ck.load_checkpoint(tmp_path / "m.swets")
    got.model.w1._data += 1.0  # optimizers update in place
    got.training_state["m"] *= 2.0
    assert np.array_equal(got.training_state["m"], [2.0, 2.0, 2.0])
    assert not np.shares_memory(got.model.w1._data, model.w1._data)


@pytest.mark.parametrize("mmap", [False, True])
def test_mmap_and_threads_give_the_same_payload(iso, tmp_path, mmap):
    big = np.random.default_rng(2).standard_normal((700, 1024)).astype(np.float32)  # > 2 MiB
    state = {"big": big, "small": np.arange(5, dtype=np.int32), "flag": np.array([True, False])}
    ck.save_payload(tmp_path / "p.swets", state, serializer=MsgpackSerializer(threads=2))
    got = ck.load_payload(tmp_path / "p.swets", serializer=MsgpackSerializer(mmap=mmap, threads=2))
    for k, v in state.items():
        assert got[k].dtype == v.dtype and got[k].tobytes() == v.tobytes()
    got["big"][0, 0] = 123.0  # copy-on-write under mmap: the file is untouched
    again = ck.load_payload(tmp_path / "p.swets")
    assert again["big"][0, 0] == big[0, 0]


# -- training state -------------------------------------------------------------------------------
def _training_state() -> dict:
    rng = np.random.default_rng(1234)
    rng.standard_normal(17)  # advance: the state is mid-stream
    return {
        "epoch": 7,
        "step": 2**40 + 3,
        "rng": ck.generator_state(rng),
        "optimizer": {
            "state": {
                0: {
                    "step": 12,
                    "exp_avg": rng.standard_normal((3, 4)),
                    "exp_avg_sq": np.full(4, 1e-300),
                },
                1: {"step": 12, "exp_avg": np.array([np.nan, -0.0, np.inf], np.float32)},
            },
            "param_groups": [
                {"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False}
            ],
        },
        "scheduler": {"last_epoch": 6, "base_lrs": [0.01], "_last_lr": [0.0095]},
        "scaler": {"mean": np.float64(1.5), "std": np.arange(3, dtype=np.float32), "fitted": True},
        "loader": {"epoch": 7, "position": 128, "order": np.arange(10, dtype=np.int64)[::-1]},
        "nested": {"a": {"b": {"c": [1, [2, (3, None)], b"\x00\xff", "ü", {"\x00odd": 1}]}}},
        "empty": {"arr": np.zeros((0, 3), np.float32), "list": [], "dict": {}, "tuple": ()},
        "big_int": -(2**100),
        "uint64": np.uint64(2**64 - 1),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "bigendian": np.arange(4, dtype=">i4"),
        "scalar0d": np.array(3.25),
    }


def _assert_exact(a, b, where="state"):
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _assert_exact(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_exact(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.shape == b.shape and a.dtype.newbyteorder("=") == b.dtype.newbyteorder("="), where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
        assert np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes() == b.tobytes()
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), where
    elif isinstance(a, float):
        assert np.float64(a).tobytes() == np.float64(b).tobytes(), where
    else:
        assert a == b, where


def test_training_state_round_trips_exactly(iso, tmp_path):
    state = _training_state()
    model = perturbed(TinyNet())
    ck.save_checkpoint(
        tmp_path / "t.swets", model, training_state=state, components=[("models", "tiny_net")]
    )
    got = ck.load_checkpoint(tmp_path / "t.swets").training_state
    _assert_exact(state, got)
    assert got["step"] == 2**40 + 3 and got["big_int"] == -(2**100)
    assert got["uint64"] == np.uint64(2**64 - 1)


def test_rng_state_resumes_the_same_stream(iso, tmp_path):
    for bit_gen in (
        np.random.PCG64,
        np.random.PCG64DXSM,
        np.random.Philox,
        np.random.SFC64,
        np.random.MT19937,
    ):
        rng = np.random.Generator(bit_gen(99))
        rng.random(5)
        ck.save_checkpoint(
            tmp_path / "r.swets", TinyNet(), training_state={"rng": ck.generator_state(rng)}
        )
        restored = ck.restore_generator(
            ck.load_checkpoint(tmp_path / "r.swets").training_state["rng"]
        )
        assert np.array_equal(restored.random(50), rng.random(50)), bit_gen.__name__
    with pytest.raises(CheckpointError, match=r"unknown bit generator 'os\.system'"):
        ck.restore_generator({"bit_generator": "os.system", "state": {}})
    with pytest.raises(CheckpointError, match="invalid PCG64 RNG state"):
        ck.restore_generator({"bit_generator": "PCG64", "state": {"state": "x"}})


def test_payload_level_round_trip_and_detection(iso, tmp_path):
    payload = {"a": [1, 2.5, None, True], "b": {"c": np.eye(3, dtype=np.float32)}}
    path = tmp_path / "p.bin"  # no suffix: detected by magic
    ck.save_payload(path, payload)
    _assert_exact(payload, ck.load_payload(path))
    _assert_exact(payload, ck.load_payload(path, serializer="msgpack"))


# -- errors ---------------------------------------------------------------------------------------
def test_missing_model_plugin_names_component_and_distribution(tmp_path):
    with activate(isolated_registry()):
        ck.save_checkpoint(tmp_path / "m.swets", TinyNet())
    with activate(isolated_registry(models=False)), pytest.raises(CheckpointError) as err:
        ck.load_checkpoint(tmp_path / "m.swets")
    msg = str(err.value)
    assert "'tiny_net'" in msg and "swets-test-models 7.1.2" in msg and "install" in msg


def test_strict_state_loading_lists_every_problem(iso, tmp_path):
    model = TinyNet()
    state = model.state_dict()
    state["w1"] = state["w1"][:, :3]  # shape
    state["b1"] = state["b1"].astype(np.float64)  # dtype
    del state["calls"]  # missing
    state["extra.weight"] = np.zeros(2, np.float32)  # unexpected
    payload = {
        "format": ck.PAYLOAD_FORMAT,
        "format_version": ck.FORMAT_VERSION,
        "model": {"name": "tiny_net", "config": model.config(), "dtype": None, "state": state},
        "training": None,
        "metadata": {"components": [], "user": {}},
    }
    ck.save_payload(tmp_path / "bad.swets", payload)
    with pytest.raises(CheckpointError) as err:
        ck.load_checkpoint(tmp_path / "bad.swets")
    assert isinstance(err.value, StateDictError) and isinstance(err.value, ck.CheckpointStateError)
    problems = "\n".join(err.value.problems)
    assert len(err.value.problems) == 4
    for needle in (
        "missing key 'calls'",
        "unexpected key 'extra.weight'",
        "'w1': shape",
        "'b1': dtype",
    ):
        assert needle in problems
    assert "tiny_net" in str(err.value) and "bad.swets" in str(err.value)


def test_rejected_config_is_a_checkpoint_error(iso, tmp_path):
    payload = {
        "format": ck.PAYLOAD_FORMAT,
        "format_version": ck.FORMAT_VERSION,
        "model": {"name": "tiny_net", "config": {"hidden": -1}, "dtype": None, "state": {}},
        "training": None,
        "metadata": {},
    }
    ck.save_payload(tmp_path / "c.swets", payload)
    with pytest.raises(CheckpointError, match=r"rejected the saved configuration.*hidden"):
        ck.load_checkpoint(tmp_path / "c.swets")
    payload["model"]["config"] = {"not_an_arg": 1}
    ck.save_payload(tmp_path / "c.swets", payload)
    with pytest.raises(CheckpointError, match="cannot be built from the saved configuration"):
        ck.load_checkpoint(tmp_path / "c.swets")


def test_model_factory_out_of_memory_is_a_checkpoint_error(tmp_path):
    import swets_core

    class Hungry:
        @swets_core.hookimpl
        def swets_register_models(self, register):
            def hungry(**config):
                raise MemoryError

            register("tiny_net", hungry)

    with activate(isolated_registry()):
        ck.save_checkpoint(tmp_path / "m.swets", TinyNet())
    reg = isolated_registry(models=False)
    reg.add_plugin(Hungry(), name="hungry", distribution="hungry", version="1")
    with activate(reg), pytest.raises(CheckpointError, match="needs more memory"):
        ck.load_checkpoint(tmp_path / "m.swets")


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda p: p.update(format="other"), "not a swets checkpoint"),
        (lambda p: p.pop("model"), "missing field 'model'"),
        (lambda p: p["model"].update(name=3), "field 'model.name' is an int"),
        (lambda p: p["model"]["state"].update(w1=[1.0]), "not a named array"),
        (lambda p: p.update(training=[1]), "field 'training' is a list"),
        (lambda p: p.update(format_version=-1), "invalid format_version"),
        (lambda p: p.update(format_version=ck.FORMAT_VERSION + 1), "newer than this swets reads"),
    ],
)
def test_malformed_payload_fields(iso, tmp_path, mutate, needle):
    model = TinyNet()
    payload = {
        "format": ck.PAYLOAD_FORMAT,
        "format_version": ck.FORMAT_VERSION,
        "model": {
            "name": "tiny_net",
            "config": model.config(),
            "dtype": None,
            "state": model.state_dict(),
        },
        "training": None,
        "metadata": {},
    }
    mutate(payload)
    ck.save_payload(tmp_path / "x.swets", payload)
    with pytest.raises(CheckpointError, match=needle):
        ck.load_checkpoint(tmp_path / "x.swets")


def test_model_name_resolution(iso, tmp_path):
    assert ck.model_registry_name(TinyNet()) == "tiny_net"
    with pytest.raises(CheckpointError, match="not registered as a model"):
        ck.save_checkpoint(tmp_path / "u.swets", Unregistered())
    ck.save_checkpoint(tmp_path / "u.swets", Unregistered(), name="tiny_net")  # a TinyNet subclass
    assert ck.load_checkpoint(tmp_path / "u.swets").model_name == "tiny_net"
    with pytest.raises(CheckpointError, match="unknown model 'tiny_nett'"):
        ck.save_checkpoint(tmp_path / "u.swets", TinyNet(), name="tiny_nett")

    class NoConfig(TinyNet):
        registry_name = "tiny_net"
        config = None

    with pytest.raises(CheckpointError, match="no config"):
        ck.save_checkpoint(tmp_path / "u.swets", NoConfig())


def test_unstorable_values_are_refused_before_writing(iso, tmp_path):
    path = tmp_path / "keep.swets"
    ck.save_checkpoint(path, TinyNet())
    before = path.read_bytes()
    for bad, needle in [
        ({"s": {1, 2}}, r"training\.s: .*type set"),
        ({"o": np.array([object()])}, r"training\.o: arrays of dtype object"),
        ({"r": np.zeros(2, [("a", "f4")])}, "arrays of dtype"),
        ({"u": np.array(["x"])}, "arrays of dtype <U1"),
        ({"f": lambda: 0}, "type function"),
        ({"k": {object(): 1}}, "dict key"),
        ({"t": "\ud800"}, "not valid UTF-8"),
    ]:
        with pytest.raises(CheckpointError, match=needle):
            ck.save_checkpoint(path, TinyNet(), training_state=bad)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.swets"]  # no temporary files left


def test_unknown_serializer_and_missing_file(iso, tmp_path):
    with pytest.raises(CheckpointError, match="cannot use serializer 'yaml'"):
        ck.save_checkpoint(tmp_path / "a.swets", TinyNet(), serializer="yaml")
    with pytest.raises(CheckpointError, match=r"cannot open checkpoint .*missing\.swets"):
        ck.load_checkpoint(tmp_path / "missing.swets")
    with pytest.raises(CheckpointError, match="cannot open checkpoint"):
        ck.load_checkpoint(tmp_path / "missing.swets", serializer="msgpack")


def test_migration_hook_upgrades_an_old_payload(iso, tmp_path):
    model = perturbed(TinyNet())
    # A "version 0" layout: flat fields, as an earlier format might have had.
    old = {
        "format_version": 0,
        "model_name": "tiny_net",
        "model_config": model.config(),
        "weights": model.state_dict(),
    }
    ck.save_payload(tmp_path / "v0.swets", old)
    with pytest.raises(CheckpointError, match="version 0 is too old: no migration to version 1"):
        ck.load_checkpoint(tmp_path / "v0.swets")

    @ck.register_migration(0)
    def v0_to_v1(p):
        return {
            "format": ck.PAYLOAD_FORMAT,
            "model": {"name": p["model_name"], "config": p["model_config"], "state": p["weights"]},
            "training": None,
            "metadata": {"components": [], "user": {"migrated": True}},
        }

    try:
        with pytest.raises(ValueError, match="already registered"):
            ck.register_migration(0, v0_to_v1)
        for bad in (-1, True, "0"):  # refused at once, before anything is decorated
            with pytest.raises(ConfigError, match="from_version must be a non-negative int"):
                ck.register_migration(bad)
        got = ck.load_checkpoint(tmp_path / "v0.swets")
        _assert_same_state(got.model.state_dict(), model.state_dict())
        assert got.metadata["format_version"] == ck.FORMAT_VERSION
        assert got.user_metadata == {"migrated": True}
    finally:
        ck.unregister_migration(0)


def test_failing_migration_is_reported(iso, tmp_path):
    ck.save_payload(tmp_path / "v0.swets", {"format_version": 0})
    ck.register_migration(0, lambda p: p["absent"])
    try:
        with pytest.raises(CheckpointError, match="migration from format version 0 failed"):
            ck.load_checkpoint(tmp_path / "v0.swets")
    finally:
        ck.unregister_migration(0)


def test_atomic_write_keeps_old_file_on_error_and_sets_permissions(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), ck.atomic_write(path) as f:
        f.write(b"half")
        raise RuntimeError("boom")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
    with ck.atomic_write(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"
    umask = os.umask(0)
    os.umask(umask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~umask)


# -- resuming with the registered optimizers and a scheduler ----------------------------------------
@pytest.mark.parametrize("opt_name", registry.names("optimizers"))
def test_resume_with_registered_optimizer_matches_uninterrupted(opt_name, tmp_path):
    """Saving mid-run and resuming from the file gives bitwise the same parameters as not stopping."""
    if "step_lr" not in registry.names("schedulers"):
        pytest.skip("swets-optim's step_lr scheduler is not installed")
    hyper = {"lr": 0.05, "momentum": 0.9} if opt_name in ("sgd", "rmsprop") else {"lr": 0.05}
    data_rng = np.random.default_rng(5)
    grads_seq = [
        [data_rng.standard_normal(p.shape) for p in TinyNet().parameters()] for _ in range(6)
    ]

    def run(model, opt, sched, steps):
        for gs in steps:
            params = model.parameters()
            grads = {p.id: Tensor(g.astype(p._data.dtype)) for p, g in zip(params, gs, strict=True)}
            opt.step(params, grads)
            sched.step()

    def make(model):
        opt = registry.create("optimizers", opt_name, model.parameters(), **hyper)
        return opt, registry.create("schedulers", "step_lr", opt, step_size=2, gamma=0.5)

    straight = TinyNet()
    opt, sched = make(straight)
    run(straight, opt, sched, grads_seq)

    first = TinyNet()
    opt, sched = make(first)
    run(first, opt, sched, grads_seq[:3])
    with activate(isolated_registry()):
        ck.save_checkpoint(
            tmp_path / "mid.swets",
            first,
            training_state={
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "step": 3,
            },
        )
        got = ck.load_checkpoint(tmp_path / "mid.swets")
    opt2, sched2 = make(got.model)
    opt2.load_state_dict(got.training_state["optimizer"])
    sched2.load_state_dict(got.training_state["scheduler"])
    run(got.model, opt2, sched2, grads_seq[got.training_state["step"] :])
    _assert_same_state(got.model.state_dict(), straight.state_dict())
