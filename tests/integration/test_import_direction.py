"""A lower layer never imports a higher one: every import of every distribution's source is checked.

The test reads each module of every ``src`` folder with :mod:`ast` -- imports at module level, inside
functions and under ``TYPE_CHECKING`` alike -- and checks three rules:

1. **Layering.** A distribution imports only the siblings that :data:`MAY_IMPORT` allows, the table
   that mirrors the "imports" column of docs/architecture.md (the test also checks that the two
   agree, and that the table is a layering: no two distributions may import each other, directly or
   through others). Siblings a distribution needs but does not import (the ops of swets-ops, for the
   layers of swets-nn) are reached through the registry.
2. **Public names only.** An import from another distribution names no module or object whose name
   starts with an underscore.
3. **No cycles.** Within a distribution no two modules import each other (a function-level import
   back counts; an import under ``TYPE_CHECKING``, which never runs, does not; nor does a module's
   import of its own package, whose ``__init__`` gathers names).

:data:`KNOWN_VIOLATIONS` lists the layering violations that are still being removed; it may only
shrink: the test fails when a listed one no longer occurs, so that the list is updated.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]

MAY_IMPORT: dict[str, set[str]] = {
    "swets-core": set(),
    "swets-ops": {"swets-core"},
    "swets-nn": {"swets-core"},
    "swets-losses": {"swets-core", "swets-ops"},
    "swets-optim": {"swets-core"},
    "swets-serde-msgpack": {"swets-core"},
    "swets-timeseries": {"swets-core"},
    "swets-models": {"swets-core", "swets-ops", "swets-nn"},
    "swets-train": {
        "swets-core",
        "swets-losses",
        "swets-optim",
        "swets-serde-msgpack",
        "swets-timeseries",
    },
    "swets-dask": {
        "swets-core",
        "swets-nn",
        "swets-losses",
        "swets-optim",
        "swets-serde-msgpack",
        "swets-timeseries",
        "swets-models",
        "swets-train",
    },
    "swets-competitions": {"swets-core", "swets-timeseries", "swets-train"},
    "swets-example-dlinear": {"swets-core", "swets-nn"},
}
"""Distribution -> the sibling distributions its modules may import (docs/architecture.md)."""

KNOWN_VIOLATIONS: set[tuple[str, str]] = set()
"""(importing module, imported module) pairs breaking rule 1 that are still to be removed."""


class Import(NamedTuple):
    module: str  # the importing module
    target: str  # the imported module (or the package a name is taken from)
    names: tuple[str, ...]  # names taken with ``from target import ...`` (empty for ``import``)
    line: int
    runtime: bool  # False under ``if TYPE_CHECKING:``


def _distributions() -> dict[str, tuple[str, Path]]:
    """Top-level package -> (distribution name, its src folder)."""
    out = {}
    for pyproject in sorted(ROOT.glob("**/pyproject.toml")):
        if ".venv" in pyproject.parts or not (pyproject.parent / "src").is_dir():
            continue
        name = re.search(r'^name = "([^"]+)"', pyproject.read_text(), re.M).group(1)
        for pkg in sorted((pyproject.parent / "src").iterdir()):
            if (pkg / "__init__.py").is_file():
                out[pkg.name] = (name, pkg.parent)
    return out


PACKAGES = _distributions()


def _module_name(path: Path, src: Path) -> str:
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_of(module: str, tree: ast.AST, is_package: bool) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, runtime: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, False)
            for child in node.orelse:
                visit(child, runtime)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, alias.name, (), node.lineno, runtime))
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, *([target] if target else [])])
            names = tuple(a.name for a in node.names)
            found.append(Import(module, target, names, node.lineno, runtime))
        for child in ast.iter_child_nodes(node):
            visit(child, runtime)

    visit(tree, True)
    return found


def _all_imports() -> dict[str, list[Import]]:
    """Module -> its imports, for every module of every distribution."""
    out: dict[str, list[Import]] = {}
    for pkg, (_, src) in PACKAGES.items():
        for path in sorted((src / pkg).rglob("*.py")):
            module = _module_name(path, src)
            tree = ast.parse(path.read_text(), filename=str(path))
            out[module] = _imports_of(module, tree, path.name == "__init__.py")
    return out


IMPORTS = _all_imports()


def _dist(module: str) -> str | None:
    entry = PACKAGES.get(module.split(".")[0])
    return entry[0] if entry else None


def _targets(imp: Import) -> list[str]:
    """The modules an import loads: ``from pkg import sub`` names the module ``pkg.sub``."""
    subs = [f"{imp.target}.{n}" for n in imp.names if f"{imp.target}.{n}" in IMPORTS]
    rest = [n for n in imp.names if f"{imp.target}.{n}" not in IMPORTS]
    return subs + ([imp.target] if rest or not imp.names else [])


def layering_violations() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module, imports in IMPORTS.items():
        own = _dist(module)
        for imp in imports:
            other = _dist(imp.target)
            if other is None or other == own or other in MAY_IMPORT[own]:
                continue
            for target in _targets(imp):
                found[(module, target)].append(f"{module}:{imp.line} imports {target} ({other})")
    return found


def test_the_table_mirrors_docs_architecture():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    section = doc.split("## Distributions", 1)[1].split("\n## ", 1)[0]
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|")
    ]
    header, body = rows[0], rows[2:]
    dist_col, imports_col = header.index("distribution"), header.index("imports")
    documented = {}
    for row in body:
        dist = row[dist_col].strip("`")
        if dist in MAY_IMPORT:
            names = re.findall(r"[a-z][a-z-]*", row[imports_col])
            documented[dist] = {f"swets-{n}" for n in names}
    assert documented == MAY_IMPORT


def test_the_table_is_a_layering():
    """No distribution may reach itself through what it may import."""
    assert set(MAY_IMPORT) == {dist for dist, _ in PACKAGES.values()}

    def below(dist: str, seen: frozenset[str]) -> set[str]:
        out = set()
        for lower in MAY_IMPORT[dist]:
            assert lower not in seen, f"the layers loop: {' -> '.join([*seen, lower])}"
            out |= {lower, *below(lower, seen | {lower})}
        return out

    for dist in MAY_IMPORT:
        assert dist not in below(dist, frozenset({dist}))


def test_no_distribution_imports_a_higher_or_unlisted_one():
    found = layering_violations()
    new = {k: v for k, v in found.items() if k not in KNOWN_VIOLATIONS}
    assert not new, "imports against the layering of docs/architecture.md:\n  " + "\n  ".join(
        line for lines in new.values() for line in lines
    )
    gone = KNOWN_VIOLATIONS - set(found)
    assert not gone, f"no longer imported, remove from KNOWN_VIOLATIONS: {sorted(gone)}"


def test_other_distributions_are_imported_by_public_names():
    private = []
    for module, imports in IMPORTS.items():
        for imp in imports:
            if _dist(imp.target) in (None, _dist(module)):
                continue
            names = [*imp.target.split("."), *imp.names]
            if any(n.startswith("_") and not n.startswith("__") for n in names):
                private.append(f"{module}:{imp.line} imports {imp.target} {list(imp.names)}")
    assert not private, "private names of another distribution:\n  " + "\n  ".join(private)


def test_no_two_modules_import_each_other():
    graph: dict[str, set[str]] = defaultdict(set)
    for module, imports in IMPORTS.items():
        for imp in imports:
            if not imp.runtime or _dist(imp.target) != _dist(module):
                continue
            for target in _targets(imp):
                if target != module and not module.startswith(target + "."):  # own package
                    graph[module].add(target)
    cycles = sorted(
        f"{a} <-> {b}" for a in graph for b in graph[a] if a < b and a in graph.get(b, ())
    )
    assert not cycles, "modules importing each other:\n  " + "\n  ".join(cycles)


def test_the_checks_see_every_kind_of_import():
    """The reader finds function-level, relative and TYPE_CHECKING imports (a guard on the guard)."""
    src = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "import a.b\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n"
        "    from c import D\n"
        "def f():\n"
        "    from e.f import g\n"
    )
    got = {(i.target, i.names, i.runtime) for i in _imports_of("p.m", ast.parse(src), False)}
    assert ("a.b", (), True) in got
    assert ("p", ("sibling",), True) in got
    assert ("c", ("D",), False) in got
    assert ("e.f", ("g",), True) in got
    assert len(IMPORTS) > 100 and "swets_core.autograd" in IMPORTS
