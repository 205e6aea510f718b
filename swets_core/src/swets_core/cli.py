"""The ``swets`` console script.

Core provides ``swets plugins`` and ``swets list [KIND]``; other distributions add commands through the
``swets_register_commands(cli)`` hook, and declare their names in the ``swets.commands`` entry-point
group (``train = "swets_train.plugin"``: the command and the plugin module adding it) so that
``swets --help`` lists them without importing any plugin. ``swets --version`` and ``swets --help``
load no plugin; ``swets COMMAND --help`` loads only the plugin that declares the command; running a
command loads them all (a command may use any registered component).

How problems reach the user:

* a :class:`~swets_core.errors.SwetsError` (and an ``OSError`` or ``ValueError`` from below) is one
  ``swets: error: ...`` line on stderr and exit code 1; a message of several lines (a list of
  problems) keeps its first line there and its details on the following lines, indented, capped at
  :data:`DETAIL_LINES`; ``--debug`` adds the traceback and every detail;
* a ``MemoryError`` is one line saying how much memory was asked for (components that know which
  part of a job asked say so themselves);
* warnings are ``swets: warning: ...`` lines; numpy's floating-point ``RuntimeWarning`` s (overflow,
  invalid value) are not shown: swets' own checks (the non-finite guard) report such problems;
* a closed stdout (``swets forecast ... | head``) ends the command quietly with exit code 141, as a
  Unix tool killed by ``SIGPIPE``; ``KeyboardInterrupt`` is ``swets: interrupted`` and 130.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import inspect
import os
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from swets_core import __version__
from swets_core.errors import SwetsError
from swets_core.hookspecs import ENTRY_POINT_GROUP, KINDS
from swets_core.registry import Registry, default_registry

Run = Callable[[argparse.Namespace], int | None]

COMMANDS_GROUP = "swets.commands"
"""The entry-point group where a distribution declares the commands its plugin adds (name = the
command, value = the plugin module of the ``swets`` group that adds it)."""

DETAIL_LINES = 20
"""How many detail lines an error shows after its first line without ``--debug``."""

_CORE_COMMANDS = ("plugins", "list")
_OPTION_KINDS = ("models", "layers", "losses", "optimizers", "schedulers", "executors")
_SIGPIPE_EXIT = 128 + 13


class CommandRegistry:
    """What ``swets_register_commands`` receives: add sub-commands to ``swets``."""

    def __init__(self, subparsers: Any) -> None:
        self._sub = subparsers
        self.commands: dict[str, Run] = {}

    def add_command(
        self,
        name: str,
        run: Run,
        *,
        help: str,
        configure: Callable[[argparse.ArgumentParser], None] | None = None,
    ) -> argparse.ArgumentParser:
        """Add ``swets NAME``: ``configure(parser)`` adds its options, ``run(args)`` returns the exit code.

        Every command takes ``--debug`` after its name too (``swets NAME ... --debug``, the same as
        ``swets --debug NAME ...``); a command's own ``--debug`` option replaces this one.
        """
        if name in self.commands:
            raise SwetsError(f"the command {name!r} is added twice")
        parser = self._sub.add_parser(name, help=help, description=help, conflict_handler="resolve")
        parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
        if configure is not None:
            configure(parser)
        parser.set_defaults(_run=run)
        self.commands[name] = run
        return parser


# -- declared commands ----------------------------------------------------------------------------
def declared_commands() -> dict[str, tuple[str, str]]:
    """``{command: (distribution, plugin module)}`` from the ``swets.commands`` entry-point group,
    read from the installed distributions' metadata (nothing is imported). Distributions blocked by
    ``SWETS_DISABLE_PLUGINS`` are left out."""
    disabled = {s.strip() for s in os.environ.get("SWETS_DISABLE_PLUGINS", "").split(",")}
    out: dict[str, tuple[str, str]] = {}
    for ep in md.entry_points(group=COMMANDS_GROUP):
        dist = ep.dist.name if ep.dist is not None else "<unknown>"
        if dist not in disabled and ep.name not in _CORE_COMMANDS:
            out.setdefault(ep.name, (dist, ep.value))
    return out


def _command_word(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (the first word that is not an option), or None."""
    for token in argv:
        if token == "--":
            return None
        if not token.startswith("-"):
            return token
    return None


# -- swets plugins ----------------------------------------------------------------------------------
def _cmd_plugins(args: argparse.Namespace, registry: Any) -> int:
    records = registry.plugins()
    if not records:
        print("no swets plugins are installed")
        return 0
    for rec in records:
        status = "disabled" if rec.disabled else ("FAILED" if rec.error else "ok")
        took = "" if rec.disabled else f"  loaded in {rec.seconds:.2f} s"
        print(f"{rec.name}  [{rec.distribution} {rec.version}]  {status}{took}")
        for kind, items in sorted(rec.registered.items()):
            print(f"    {kind}: {', '.join(sorted(items))}")
        if rec.commands:
            print(f"    commands: {', '.join(rec.commands)}")
        if rec.error:
            print(f"    error: {rec.error}")
    return 1 if any(r.error for r in records) and args.fail_on_error else 0


# -- swets list -------------------------------------------------------------------------------------
_SECTION = re.compile(r"^(Args|Arguments|Parameters)\b.*:\s*$")
_ROLE = re.compile(r":\w+:`(~?)([^`]+)`")
_ITEM = re.compile(r"^(?P<names>\w+(?:\s*[,/]\s*\w+)*)(?:\s*\([^)]*\))?\s*:\s*(?P<text>.*)$")


def _argument_docs(doc: str) -> dict[str, str]:
    """``{argument: its description}`` from the ``Args:`` section of a Google-style docstring."""
    out: dict[str, str] = {}
    lines = doc.expandtabs().splitlines()
    for i, line in enumerate(lines):
        if not _SECTION.match(line.strip()):
            continue
        base = len(line) - len(line.lstrip())
        item_indent = None
        names: list[str] = []
        for raw in lines[i + 1 :]:
            if not raw.strip():
                continue
            indent = len(raw) - len(raw.lstrip())
            if indent <= base:
                break
            item_indent = indent if item_indent is None else item_indent
            m = _ITEM.match(raw.strip()) if indent == item_indent else None
            if m:
                names = [n.strip() for n in re.split(r"[,/]", m.group("names"))]
                for n in names:
                    out[n] = m.group("text").strip()
            elif names and indent > item_indent:
                for n in names:
                    out[n] = f"{out[n]} {raw.strip()}".strip()
        break
    return out


def _plain(text: str) -> str:
    """Docstring markup as plain text: ````x```` -> ``x``, ``:class:`~a.B``` -> ``B``."""
    text = _ROLE.sub(lambda m: m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2), text)
    return text.replace("``", "")


def _first_sentence(text: str, limit: int = 100) -> str:
    text = _plain(" ".join(text.split()))
    m = re.search(r"(?<!e\.g)(?<!i\.e)\.(\s|$)", text)
    if m:
        text = text[: m.start() + 1]
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def factory_options(factory: Any) -> list[tuple[str, str, str]]:
    """The options of a registered factory (a class or a function): ``(name, default, one line)``
    for each parameter of its signature (``required`` when it has no default), the line taken from
    the ``Args:`` section of its docstring (a class's, its ``__init__``'s, then its bases')."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return []
    docs: dict[str, str] = {}
    owners = [c for c in factory.__mro__ if c is not object] if isinstance(factory, type) else []
    for holder in [factory] if not owners else [h for c in owners for h in (c, c.__init__)]:
        for name, text in _argument_docs(inspect.getdoc(holder) or "").items():
            docs.setdefault(name, text)  # the most derived class's words win
    out = []
    for name, p in signature.parameters.items():
        if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        default = "required" if p.default is inspect.Parameter.empty else repr(p.default)
        out.append((name, default, _first_sentence(docs.get(name, ""))))
    return out


def _cmd_list(args: argparse.Namespace, registry: Any) -> int:
    kinds = [args.kind] if args.kind else list(KINDS)
    with_options = len(kinds) == 1 and kinds[0] in _OPTION_KINDS and not args.short
    for kind in kinds:
        items = registry.items(kind)
        if len(kinds) > 1:
            if not items:
                continue
            print(f"{kind}:")
        width = max((len(c.name) for c in items), default=0)
        for c in items:
            indent = "  " if len(kinds) > 1 else ""
            print(f"{indent}{c.name.ljust(width)}  {_plain(c.doc)}  [{c.distribution}]")
            if with_options:
                options = [(f"{n}={d}", text) for n, d, text in factory_options(c.obj)]
                left = max((len(o) for o, _ in options), default=0)
                for option, text in options:
                    print(f"    {option.ljust(left)}  {text}".rstrip())
    return 0


# -- the parser -------------------------------------------------------------------------------------
def _core_parser(registry: Callable[[], Any]) -> tuple[argparse.ArgumentParser, CommandRegistry]:
    """The parser with core's commands; ``registry()`` gives the registry they use when they run."""
    parser = argparse.ArgumentParser(
        prog="swets",
        description="swets: time-series forecasting on the CPU.",
        epilog="`swets COMMAND --help` lists the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"swets {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    cli = CommandRegistry(sub)

    def conf_plugins(p: argparse.ArgumentParser) -> None:
        p.add_argument("--fail-on-error", action="store_true", help="exit 1 if a plugin failed")

    def conf_list(p: argparse.ArgumentParser) -> None:
        p.add_argument("kind", nargs="?", choices=KINDS, help="only this kind")
        p.add_argument(
            "--short", action="store_true", help="names only, without each component's options"
        )

    cli.add_command(
        "plugins",
        lambda a: _cmd_plugins(a, registry()),
        help="installed plugins, what each registered, how long each took to load, and failures",
        configure=conf_plugins,
    )
    cli.add_command(
        "list",
        lambda a: _cmd_list(a, registry()),
        help="registered components; for one kind, each one's options (name=default, meaning)",
        configure=conf_list,
    )
    return parser, cli


def build_parser(registry: Any = None) -> tuple[argparse.ArgumentParser, CommandRegistry]:
    """The full argument parser, with every plugin's commands (this loads the plugins)."""
    registry = registry or default_registry()
    parser, cli = _core_parser(lambda: registry)
    registry.call_command_hooks(cli)
    return parser, cli


def _help_parser() -> argparse.ArgumentParser:
    """The parser of ``swets``, ``swets --help`` and ``swets --version``: core's commands and the
    declared names of the plugins' commands, without loading a plugin."""
    parser, cli = _core_parser(default_registry)
    for name, (dist, _) in sorted(declared_commands().items()):
        cli.add_command(name, _not_loaded, help=f"(from {dist})")
    return parser


def _not_loaded(args: argparse.Namespace) -> int:  # pragma: no cover - never run
    raise SwetsError(f"the command {args.command!r} was not loaded")


def _command_parser(name: str) -> argparse.ArgumentParser:
    """The parser for ``swets NAME --help``: only the plugin declaring ``name`` is loaded (every
    plugin when none declares it)."""
    declared = declared_commands().get(name)
    if declared is None:
        return build_parser()[0]
    dist, module = declared
    reg = Registry(entry_points=False)
    for ep in md.entry_points(group=ENTRY_POINT_GROUP):
        if ep.dist is not None and ep.dist.name == dist and ep.value == module:
            try:
                plugin = ep.load()
            except (Exception, SystemExit):
                return build_parser()[0]  # the registry records and reports the failure
            reg.add_plugin(plugin, name=ep.name, distribution=dist, version=ep.dist.version)
    parser, cli = _core_parser(lambda: reg)
    reg.call_command_hooks(cli)
    if name not in cli.commands:
        return build_parser()[0]
    return parser


def _parse(argv: list[str]) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    command = _command_word(argv)
    if command is None or command in _CORE_COMMANDS:
        parser = _help_parser()
    elif "-h" in argv or "--help" in argv:
        parser = _command_parser(command)
    else:
        parser, cli = build_parser()
        if command not in cli.commands:
            _unavailable(command)
    return parser, parser.parse_args(argv)


def _unavailable(command: str) -> None:
    """A declared command that is not there: its plugin failed to load or registered no such
    command (an unknown word is left to argparse, which lists the commands)."""
    declared = declared_commands().get(command)
    if declared is None:
        return
    dist = declared[0]
    failed = [r for r in default_registry().plugins() if r.distribution == dist and r.error]
    why = f"it failed to load: {failed[0].error}" if failed else "it did not add the command"
    raise SwetsError(f"the command {command!r} comes from {dist}, but {why}")


# -- how problems are shown -------------------------------------------------------------------------
def _error_lines(text: str, debug: bool) -> list[str]:
    lines = [ln.rstrip() for ln in str(text).splitlines() if ln.strip()] or [""]
    details = [ln if ln.startswith(" ") else "  " + ln for ln in lines[1:]]
    if not debug and len(details) > DETAIL_LINES:
        hidden = len(details) - DETAIL_LINES
        details = [*details[:DETAIL_LINES], f"  ... and {hidden} more line(s) (--debug shows all)"]
    return [lines[0], *details]


def _report(text: str, debug: bool, what: str = "error") -> None:
    first, *rest = _error_lines(text, debug)
    print(f"swets: {what}: {first}", file=sys.stderr)
    for line in rest:
        print(line, file=sys.stderr)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    if category is RuntimeWarning:  # numpy's floating-point warnings: swets' own checks speak
        return
    _report(str(message), debug=False, what="warning")


@contextmanager
def _cli_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        yield


def _memory_message(exc: MemoryError) -> str:
    text = str(exc).strip()
    if not text:
        return "out of memory"
    return f"out of memory: {text[0].lower()}{text[1:]}"


def _quiet_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the interpreter's final flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - no real stdout
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``swets`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    with _cli_warnings():
        try:
            parser, args = _parse(argv)
            if getattr(args, "_run", None) is None:
                parser.print_help()
                return 2
            code = args._run(args)
            sys.stdout.flush()
            return int(code or 0)
        except BrokenPipeError:
            _quiet_stdout()
            return _SIGPIPE_EXIT
        except SwetsError as exc:
            if debug:
                traceback.print_exc()
            _report(str(exc), debug)
            return 1
        except KeyboardInterrupt:
            print("swets: interrupted", file=sys.stderr)
            return 130
        except MemoryError as exc:
            if debug:
                traceback.print_exc()
            _report(_memory_message(exc), debug)
            return 1
        except (OSError, ValueError) as exc:
            if debug:
                traceback.print_exc()
            _report(str(exc), debug)
            return 1


def run() -> None:
    """Console-script wrapper around :func:`main`."""
    sys.exit(main())
