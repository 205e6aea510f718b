"""Packages with lazy exports: names import their module on first use, and behave as eager ones."""

from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

PACKAGE = {
    "__init__.py": """
        from swets_core.lazy import all_exports, lazy_exports

        __getattr__, __dir__ = lazy_exports(
            __name__,
            {"lazypkg.alpha": ("Alpha", "beta"), "lazypkg.run": ("run",)},
            submodules=("tools",),
        )
        __all__ = all_exports(__name__)
    """,
    "alpha.py": """
        from swets_core.lazy import exports_of

        __all__ = [*exports_of(__name__), "gamma"]

        class Alpha:
            pass

        def gamma():
            return "gamma"

        def beta():
            return "beta"
    """,
    "run.py": """
        def run():
            return "ran"
    """,
    "tools.py": """
        VALUE = 3
    """,
    "stray.py": """
        from swets_core.lazy import exports_of

        __all__ = exports_of(__name__)
    """,
    "user.py": """
        import lazypkg.run  # a module importing the submodule that shares an exported name

        WHAT = lazypkg.run
    """,
}


@pytest.fixture
def lazypkg(tmp_path, monkeypatch):
    root = tmp_path / "lazypkg"
    root.mkdir()
    for name, source in PACKAGE.items():
        (root / name).write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "lazypkg" or m.startswith("lazypkg.")]:
        monkeypatch.delitem(sys.modules, name)
    yield importlib.import_module("lazypkg")
    for name in [m for m in sys.modules if m == "lazypkg" or m.startswith("lazypkg.")]:
        del sys.modules[name]


def test_names_import_their_module_on_first_use(lazypkg):
    assert "lazypkg.alpha" not in sys.modules and "lazypkg.tools" not in sys.modules
    assert lazypkg.beta() == "beta" and "lazypkg.alpha" in sys.modules
    from lazypkg import Alpha

    assert Alpha is sys.modules["lazypkg.alpha"].Alpha and "Alpha" in vars(lazypkg)
    assert lazypkg.tools.VALUE == 3
    assert {"Alpha", "beta", "run", "tools"} <= set(dir(lazypkg))
    with pytest.raises(AttributeError, match="module 'lazypkg' has no attribute 'gamma'"):
        _ = lazypkg.gamma
    assert not hasattr(lazypkg, "gamma")
    namespace: dict = {}
    exec("from lazypkg import *", namespace)
    assert namespace["run"]() == "ran" and namespace["Alpha"] is Alpha


def test_an_export_named_like_its_module_stays_the_export(lazypkg):
    import lazypkg.user  # imports lazypkg.run first, binding the submodule to the package

    assert lazypkg.run() == "ran" and callable(lazypkg.user.WHAT)
    from lazypkg import run

    assert run is sys.modules["lazypkg.run"].run


def test_the_package_table_is_the_one_list_of_each_module_s_names(lazypkg):
    from swets_core.errors import MissingKeyError
    from swets_core.lazy import all_exports, exports_of

    assert lazypkg.__all__ == ["Alpha", "beta", "run", "tools"]
    assert all_exports("lazypkg") == lazypkg.__all__
    assert "lazypkg.alpha" not in sys.modules  # reading the table imports nothing
    assert exports_of("lazypkg.alpha") == ["Alpha", "beta"]
    alpha = importlib.import_module("lazypkg.alpha")
    assert alpha.__all__ == ["Alpha", "beta", "gamma"]
    namespace: dict = {}
    exec("from lazypkg.alpha import *", namespace)
    assert namespace["gamma"]() == "gamma" and namespace["Alpha"] is alpha.Alpha
    with pytest.raises(MissingKeyError, match=r"exports_of\('lazypkg.stray'\): the package "):
        importlib.import_module("lazypkg.stray")
    with pytest.raises(MissingKeyError, match="'textwrap' has no lazy_exports table"):
        all_exports("textwrap")
    with pytest.raises(KeyError):  # also the builtin a lookup raises
        exports_of("textwrap.dedent")
