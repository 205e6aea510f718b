"""Core picks the serializer from the registry and names none itself: the one installed by default,
an error listing them when several are, and an error saying why when none is."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import swets_core
from swets_core import checkpoint as ck
from swets_core.errors import CheckpointError
from swets_core.registry import Registry, activate
from swets_serde_msgpack import MsgpackSerializer
from tests.serde.helpers import TestModels, TinyNet, isolated_registry, perturbed

CORE_SRC = Path(swets_core.__file__).resolve().parent


class OtherSerializer(MsgpackSerializer):
    """A second serializer: the msgpack container under another name and suffix."""

    __slots__ = ()
    name = "other"
    suffix = ".other"


class OtherPlugin:
    @swets_core.hookimpl
    def swets_register_serializers(self, register):
        register("other", OtherSerializer)


class BrokenSerializerPlugin:
    @swets_core.hookimpl
    def swets_register_serializers(self, register):
        raise ImportError("No module named 'fancy_format'")


def _models_only() -> Registry:
    reg = Registry(entry_points=False)
    reg.add_plugin(TestModels(), name="test_models", distribution="swets-test-models", version="1")
    return reg


def test_the_one_installed_serializer_is_the_default(tmp_path):
    with activate(isolated_registry()):
        model = perturbed(TinyNet())
        ck.save_checkpoint(tmp_path / "m.swets", model)
        got = ck.load_checkpoint(tmp_path / "m.swets")
    assert got.model_name == "tiny_net"
    kinds = {(c["kind"], c["name"]) for c in got.components}
    assert ("serializers", "msgpack") in kinds


def test_several_installed_serializers_must_be_chosen(tmp_path):
    reg = isolated_registry()
    reg.add_plugin(
        OtherPlugin(), name="other_serde", distribution="swets-other-serde", version="2.0"
    )
    with activate(reg):
        with pytest.raises(CheckpointError, match="several checkpoint serializers") as err:
            ck.save_checkpoint(tmp_path / "m.swets", TinyNet())
        text = str(err.value)
        assert "'msgpack' from swets-serde-msgpack 0.1.0" in text
        assert "'other' from swets-other-serde 2.0" in text
        assert "serializer=" in text
        assert list(tmp_path.iterdir()) == []
        ck.save_checkpoint(tmp_path / "m.swets", TinyNet(), serializer="other")
        assert ck.load_checkpoint(tmp_path / "m.swets").model_name == "tiny_net"  # detected


def test_no_serializer_installed_says_so_and_why(tmp_path, recwarn):
    with activate(_models_only()):
        with pytest.raises(CheckpointError, match="no checkpoint serializer is installed"):
            ck.save_checkpoint(tmp_path / "m.swets", TinyNet())
        (tmp_path / "x.swets").write_bytes(b"\x89SWETS\r\n" + bytes(100))
        with pytest.raises(CheckpointError, match=r"cannot load .*SWETS.*no checkpoint serializer"):
            ck.load_checkpoint(tmp_path / "x.swets")
    reg = _models_only()
    reg.add_plugin(
        BrokenSerializerPlugin(), name="fancy_serde", distribution="swets-fancy", version="3"
    )
    with activate(reg), pytest.raises(CheckpointError) as err:
        ck.save_checkpoint(tmp_path / "m.swets", TinyNet())
    text = str(err.value)
    assert "fancy_serde (swets-fancy) failed to load" in text
    assert "fancy_format" in text


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            out.add(id(first.value))
    return out


def test_core_code_names_no_serializer_or_serializer_distribution():
    """No string in core's code (docstrings aside) names the msgpack serializer or its distribution."""
    found = []
    for path in sorted(CORE_SRC.rglob("*.py")):
        tree = ast.parse(path.read_text())
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) and id(node) not in docs else None
            if isinstance(text, str) and ("msgpack" in text.lower() or "swets-serde" in text):
                found.append(f"{path.name}:{node.lineno}")
    assert not found, f"core names a serializer plugin: {found}"


def test_default_serializer_is_none():
    assert ck.DEFAULT_SERIALIZER is None
    for fn in (ck.save_checkpoint, ck.save_payload):
        assert inspect.signature(fn).parameters["serializer"].default is None
