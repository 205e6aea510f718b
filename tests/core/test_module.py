"""Module: parameter discovery, dotted names, modes, state dicts, dtype conversion, repr."""

from __future__ import annotations

import numpy as np
import pytest

from swets_core import Module, Parameter
from swets_core.errors import StateDictError
from swets_core.protocols import Layer


class Dense(Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = Parameter(np.full((n_out, n_in), 0.5))
        self.bias = Parameter(np.zeros(n_out))

    def extra_repr(self):
        return f"{self.weight.shape[1]}, {self.weight.shape[0]}"


class Norm(Module):
    def __init__(self):
        super().__init__()
        self.scale = Parameter(np.ones(2))
        self.register_buffer("running_mean", np.zeros(2))


class Net(Module):
    def __init__(self):
        super().__init__()
        self.encoder = Dense(3, 2)
        self.layers = [Dense(2, 2), Dense(2, 2)]
        self.heads = {"mean": Dense(2, 1)}
        self.norm = Norm()
        self.shared = self.layers[0]  # the same layer reachable twice


def test_dotted_names_from_attributes_and_containers():
    names = [n for n, _ in Net().named_parameters()]
    assert names == [
        "encoder.weight",
        "encoder.bias",
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
        "heads.mean.weight",
        "heads.mean.bias",
        "norm.scale",
    ]  # "shared" is deduplicated


class Mixture(Module):
    """Parameters held in a list and in a dict, beside a plain one."""

    def __init__(self):
        super().__init__()
        self.l = [Parameter(np.ones(2))]
        self.d = {"a": Parameter(np.full(3, 2.0)), "b": Parameter(np.zeros(1))}
        self.w = Parameter(np.ones(1))


def test_parameters_in_dicts_are_found_named_saved_and_optimized():
    net = Mixture()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["l.0", "d.a", "d.b", "w"]
    assert [p.id for p in net.parameters()] == [net.l[0].id, net.d["a"].id, net.d["b"].id, net.w.id]
    assert net.num_parameters() == 7
    sd = net.state_dict()
    assert sorted(sd) == ["d.a", "d.b", "l.0", "w"]
    np.testing.assert_array_equal(sd["d.a"], np.full(3, 2.0))
    twin = Mixture()
    twin.d["a"]._data[...] = 0.0
    twin.load_state_dict(sd)
    np.testing.assert_array_equal(twin.d["a"]._data, np.full(3, 2.0))
    with pytest.raises(StateDictError, match=r"missing key 'd\.b'"):
        twin.load_state_dict({k: v for k, v in sd.items() if k != "d.b"})
    net.astype("float32")
    assert net.d["b"]._data.dtype == np.float32


def test_state_dict_includes_buffers_and_aliases():
    sd = Net().state_dict()
    assert "norm.running_mean" in sd and "shared.weight" in sd
    assert isinstance(Net(), Layer)


def test_round_trip_keeps_parameter_ids():
    a, b = Net(), Net()
    for p in a.parameters():
        p.numpy()[...] = np.random.default_rng(0).standard_normal(p.shape)
    a.norm.running_mean[:] = [1.0, 2.0]
    ids = [p.id for p in b.parameters()]
    b.load_state_dict(a.state_dict())
    assert [p.id for p in b.parameters()] == ids
    for (na, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy(), err_msg=na)
    np.testing.assert_array_equal(b.norm.running_mean, [1.0, 2.0])


def test_strict_load_lists_every_problem():
    net = Net()
    sd = net.state_dict()
    del sd["encoder.bias"]
    sd["extra.weight"] = np.zeros(1)
    sd["layers.1.weight"] = np.zeros((3, 3))
    sd["heads.mean.bias"] = np.zeros(1, dtype=np.float32)
    with pytest.raises(StateDictError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert "4 problem(s)" in msg
    assert "missing key 'encoder.bias'" in msg
    assert "unexpected key 'extra.weight'" in msg
    assert "'layers.1.weight': shape (3, 3) in the state, (2, 2) in the model" in msg
    assert "'heads.mean.bias': dtype float32 in the state, float64 in the model" in msg


def test_non_strict_tolerates_missing_and_unexpected():
    net = Net()
    net.load_state_dict({"encoder.bias": np.ones(2), "other": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(net.encoder.bias.numpy(), [1.0, 1.0])


def test_train_eval_propagate_and_astype():
    net = Net().eval()
    assert not net.training and not net.layers[1].training and not net.heads["mean"].training
    net.train()
    assert net.norm.training
    ids = [p.id for p in net.parameters()]
    net.astype("float32")
    assert all(p.numpy().dtype == np.float32 for p in net.parameters())
    assert net.norm.running_mean.dtype == np.float32
    assert [p.id for p in net.parameters()] == ids
    assert net.num_parameters() == 6 + 2 + 6 + 6 + 2 + 1 + 2


def test_repr_shows_the_tree():
    text = repr(Net())
    assert text.startswith("Net(\n  (encoder): Dense(3, 2)")
    assert "(layers.1): Dense(2, 2)" in text and "(heads.mean): Dense(2, 1)" in text


def test_conformance_check_layer_accepts_layers_without_parameters():
    from swets_core import testing
    from swets_core.registry import Registry, activate
    from tests.core.conftest import TinyOps

    class Relu(Module):
        def forward(self, x):
            from swets_core import call_op

            return call_op("relu", x)

    reg = Registry(entry_points=False)
    reg.add_plugin(TinyOps(), name="tiny_ops")
    with activate(reg):
        testing.check_layer(Relu(), np.array([[-1.0, 2.0]]))


def test_assign_takes_the_arrays_and_keeps_ids():
    net = Net()
    state = {k: v + 1.0 for k, v in net.state_dict().items()}
    ids = [p.id for p in net.parameters()]
    net.load_state_dict(state, assign=True)
    assert net.encoder.weight.numpy() is state["encoder.weight"]
    assert [p.id for p in net.parameters()] == ids
    frozen = {k: v.copy() for k, v in state.items()}
    for v in frozen.values():
        v.flags.writeable = False
    net.load_state_dict(frozen, assign=True)  # read-only arrays are copied, not shared
    assert net.encoder.weight.numpy() is not frozen["encoder.weight"]
    np.testing.assert_array_equal(net.encoder.weight.numpy(), frozen["encoder.weight"])
