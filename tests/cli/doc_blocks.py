"""What the documentation tests share: the fenced code blocks of a Markdown file, the files a guide's
blocks make up, and running code without fresh entropy."""

from __future__ import annotations

import contextlib
import re
import traceback
from collections.abc import Iterator
from pathlib import Path

import attrs
import numpy as np

FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
FILE_HEADER = re.compile(r"^# (\S+\.(?:py|toml))( \(continued\))?$")


@attrs.frozen
class Block:
    """One fenced block: its language, its text, and the line where it starts in the file."""

    lang: str
    code: str
    line: int

    @property
    def file(self) -> str | None:
        """The file this block is (part of), from a first line ``# path`` or ``# path (continued)``."""
        m = FILE_HEADER.match(self.code.split("\n", 1)[0])
        return m.group(1) if m else None


def blocks(path: Path) -> list[Block]:
    """Every fenced code block of a Markdown file, in order."""
    text = path.read_text()
    return [
        Block(m.group(1).strip(), m.group(2), text.count("\n", 0, m.start()) + 1)
        for m in FENCE.finditer(text)
    ]


def files(found: list[Block]) -> dict[str, str]:
    """The files the blocks make up: blocks naming the same file are concatenated in order."""
    out: dict[str, str] = {}
    for b in found:
        if b.file is not None:
            out[b.file] = out.get(b.file, "") + ("\n" if b.file in out else "") + b.code
    return out


@contextlib.contextmanager
def no_fresh_entropy() -> Iterator[None]:
    """Fail when code inside the block draws from a generator made without a seed.

    ``numpy.random.default_rng()`` without a seed is allowed (loaders create one they may never
    use); drawing from it is not, since the result would differ from run to run. One exception:
    ``load_checkpoint`` rebuilds a model from its configuration (drawing initial weights) and then
    replaces every weight with the checkpoint's, so nothing drawn there survives.
    """
    original = np.random.default_rng
    made: list[tuple[np.random.Generator, str, str]] = []

    def default_rng(seed=None):
        gen = original(seed)
        if seed is None:
            stack = traceback.extract_stack()
            if not any(f.name == "load_checkpoint" for f in stack):
                where = "".join(traceback.format_list(stack[-4:-1]))
                made.append((gen, repr(gen.bit_generator.state), where))
        return gen

    np.random.default_rng = default_rng
    try:
        yield
    finally:
        np.random.default_rng = original
    drawn = [where for gen, state, where in made if repr(gen.bit_generator.state) != state]
    assert not drawn, "drew from an unseeded generator, made at:\n" + "\n".join(drawn)
