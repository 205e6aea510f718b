"""docs/checkpoint-format.md states the constants the code uses (magic, layout, dtypes, keys, tags)."""

from __future__ import annotations

import re
from pathlib import Path

from swets_core import checkpoint as ck
from swets_core import plaindata, rng
from swets_core.errors import MAX_LISTED
from swets_serde_msgpack import format as fmt

DOC = (Path(__file__).resolve().parents[2] / "docs" / "checkpoint-format.md").read_text()


def _table_rows(heading: str) -> list[list[str]]:
    section = DOC.split(heading, 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not line.startswith("| ---"):
            rows.append([c.strip().strip("`") for c in line.strip("|").split("|")])
    return rows


def test_prefix_layout_matches_the_struct():
    rows = _table_rows("## The msgpack container, version 1")
    fixed = [r for r in rows[1:] if r[0].isdigit() and r[1].isdigit()]
    assert [(int(r[0]), int(r[1]), r[2]) for r in fixed] == [
        (0, 8, "magic"),
        (8, 4, "version"),
        (12, 4, "flags"),
        (16, 8, "header_length"),
        (24, 8, "data_length"),
        (32, 32, "header_sha256"),
    ]
    assert sum(int(r[1]) for r in fixed) == fmt.PREFIX_SIZE == 64
    assert fmt.PREFIX.format == "<8sIIQQ32s"
    assert fmt.MAGIC.hex(" ") in DOC
    assert f"container version: `{fmt.CONTAINER_VERSION}`" in DOC
    assert f"next multiple of {fmt.ALIGN}" in DOC


def test_record_keys_dtypes_and_limits():
    rows = _table_rows("each a map with exactly these keys:")
    assert {r[0] for r in rows[1:]} == set(fmt.RECORD_KEYS)
    line = next(x for x in DOC.splitlines() if x.startswith("`bool int8"))
    assert line.split("` ")[0].strip("`").split() == list(ck.ALLOWED_DTYPES)
    assert f"at most {fmt.MAX_NDIM} dimensions" in DOC
    assert f"`MAX_DEPTH` = {ck.MAX_DEPTH}" in DOC
    assert f'"format_version": {ck.FORMAT_VERSION}' in DOC
    assert f'"format": "{ck.PAYLOAD_FORMAT}"' in DOC


def test_tags_and_names():
    for tag in (
        plaindata._TAG_TUPLE,
        plaindata._TAG_MAP,
        plaindata._TAG_INT,
        plaindata._TAG_SCALAR,
    ):
        assert '"\\x00' + tag[1:] + '"' in DOC
    assert f"at most {plaindata._MAX_INT_DIGITS} digits" in DOC
    assert ck.TEMP_SUFFIX in DOC
    assert f"`TREE_OBJECTS` = {fmt.TREE_OBJECTS:,}" in DOC
    assert f"`OBJECTS_PER_TENSOR` = {fmt.OBJECTS_PER_TENSOR}" in DOC
    assert f"`BUILD_SLACK` = {ck.BUILD_SLACK:,}" in DOC
    assert f"`MAX_LISTED` ({MAX_LISTED})" in DOC
    assert ck.STRICT_ENV in DOC
    names = re.search(r"allow-list by name\*\* \(([^)]*)\)", DOC).group(1)
    assert re.findall(r"`(\w+)`", names) == list(rng._BIT_GENERATORS)


def test_checkpoint_keeps_every_public_name_of_the_modules_it_was_split_into():
    from swets_core import atomic, schema

    for module in (plaindata, rng, atomic, schema):
        for name in module.__all__:
            assert getattr(ck, name) is getattr(module, name), f"{module.__name__}.{name}"
            assert name in ck.__all__
