"""The load path never reaches pickle, marshal, eval or dynamic imports: checked on the source (AST)
and at run time (the dangerous functions are replaced by traps while a checkpoint loads)."""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import marshal
import pickle

import numpy as np
import pytest

from swets_core import checkpoint as ck
from swets_core.registry import activate
from tests.serde.helpers import TinyNet, isolated_registry, perturbed

LOAD_PATH_MODULES = [
    "swets_core.checkpoint",
    "swets_core.plaindata",
    "swets_core.serializer",
    "swets_core.rng",
    "swets_core.atomic",
    "swets_core.budget",
    "swets_core.schema",
    "swets_serde_msgpack",
    "swets_serde_msgpack.format",
    "swets_serde_msgpack.serializer",
    "swets_serde_msgpack.plugin",
]
FORBIDDEN_MODULES = {
    "pickle",
    "cPickle",
    "_pickle",
    "marshal",
    "shelve",
    "dill",
    "cloudpickle",
    "joblib",
    "importlib",
    "pydoc",
    "torch",
}
FORBIDDEN_NAMES = {
    "eval",
    "exec",
    "compile",
    "__import__",
    "import_module",
    "loads_pickle",
    "allow_pickle",
    "locate",
}


@pytest.mark.parametrize("module_name", LOAD_PATH_MODULES)
def test_load_path_source_has_no_code_execution(module_name):
    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            problems += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
                problems.append(node.module)
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES | FORBIDDEN_MODULES:
            problems.append(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES | {
            "load",
            "fromfile",
        }:
            # np.load / np.fromfile could unpickle or skip validation; the only .load allowed is
            # the serializer's own (called as ser.load / _format.load)
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if owner not in {"ser", "_format", "self"}:
                problems.append(f"{owner}.{node.attr}")
        elif isinstance(node, ast.keyword) and node.arg == "allow_pickle":
            problems.append("allow_pickle=")
    assert not problems, f"{module_name} uses {problems}"


def test_msgpack_unpacking_is_configured_safely():
    src = inspect.getsource(importlib.import_module("swets_serde_msgpack.format"))
    tree = ast.parse(src)
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == "msgpack"
        and "unpack" in n.func.attr.lower()
    ]
    assert [c.func.attr for c in calls] == ["Unpacker"]
    kw = {k.arg: k.value for k in calls[0].keywords}
    for key in (
        "raw",
        "strict_map_key",
        "object_pairs_hook",
        "list_hook",
        "ext_hook",
        "max_str_len",
        "max_bin_len",
        "max_array_len",
        "max_map_len",
        "max_ext_len",
    ):
        assert key in kw, key
    assert isinstance(kw["raw"], ast.Constant) and kw["raw"].value is False
    assert isinstance(kw["strict_map_key"], ast.Constant) and kw["strict_map_key"].value is True


def test_loading_with_code_execution_trapped(tmp_path, monkeypatch):
    with activate(isolated_registry()):
        model = perturbed(TinyNet())
        state = {"rng": ck.generator_state(np.random.default_rng(3)), "t": (1, {2: np.ones(2)})}
        ck.save_checkpoint(tmp_path / "m.swets", model, training_state=state)

        def trap(*args, **kwargs):
            raise AssertionError("code execution primitive reached while loading a checkpoint")

        for mod, name in [
            (pickle, "loads"),
            (pickle, "load"),
            (pickle, "Unpickler"),
            (marshal, "loads"),
            (marshal, "load"),
            (builtins, "eval"),
            (builtins, "exec"),
            (builtins, "compile"),
            (np, "load"),
            (importlib, "import_module"),
        ]:
            monkeypatch.setattr(mod, name, trap)
        got = ck.load_checkpoint(tmp_path / "m.swets")
    monkeypatch.undo()
    assert np.array_equal(got.model.w1._data, model.w1._data)
    assert got.training_state["t"][1][2].tolist() == [1.0, 1.0]
