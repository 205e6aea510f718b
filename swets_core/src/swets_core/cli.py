"""The ``swets`` console script.

Core provides ``swets plugins`` and ``swets list [KIND]``; other distributions add commands through the
``swets_register_commands(cli)`` hook. A :class:`~swets_core.errors.SwetsError` reaches the user as one
line on stderr and exit code 1; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from swets_core import __version__
from swets_core.errors import SwetsError
from swets_core.hookspecs import KINDS
from swets_core.registry import Registry, default_registry

Run = Callable[[argparse.Namespace], int | None]


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
        """Add ``swets NAME``: ``configure(parser)`` adds its options, ``run(args)`` returns the exit code."""
        if name in self.commands:
            raise SwetsError(f"the command {name!r} is added twice")
        parser = self._sub.add_parser(name, help=help, description=help)
        if configure is not None:
            configure(parser)
        parser.set_defaults(_run=run)
        self.commands[name] = run
        return parser


def _cmd_plugins(args: argparse.Namespace, registry: Registry) -> int:
    records = registry.plugins()
    if not records:
        print("no swets plugins are installed")
        return 0
    for rec in records:
        status = "disabled" if rec.disabled else ("FAILED" if rec.error else "ok")
        print(f"{rec.name}  [{rec.distribution} {rec.version}]  {status}")
        for kind, items in sorted(rec.registered.items()):
            print(f"    {kind}: {', '.join(sorted(items))}")
        if rec.commands:
            print(f"    commands: {', '.join(rec.commands)}")
        if rec.error:
            print(f"    error: {rec.error}")
    return 1 if any(r.error for r in records) and args.fail_on_error else 0


def _cmd_list(args: argparse.Namespace, registry: Registry) -> int:
    kinds = [args.kind] if args.kind else list(KINDS)
    for kind in kinds:
        items = registry.items(kind)
        if len(kinds) > 1:
            if not items:
                continue
            print(f"{kind}:")
        width = max((len(c.name) for c in items), default=0)
        for c in items:
            indent = "  " if len(kinds) > 1 else ""
            print(f"{indent}{c.name.ljust(width)}  {c.doc}  [{c.distribution}]")
    return 0


def build_parser(
    registry: Registry | None = None,
) -> tuple[argparse.ArgumentParser, CommandRegistry]:
    """The full argument parser, with every plugin's commands."""
    registry = registry or default_registry()
    parser = argparse.ArgumentParser(
        prog="swets", description="swets: time-series forecasting on the CPU."
    )
    parser.add_argument("--version", action="version", version=f"swets {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    cli = CommandRegistry(sub)

    def conf_plugins(p: argparse.ArgumentParser) -> None:
        p.add_argument("--fail-on-error", action="store_true", help="exit 1 if a plugin failed")

    def conf_list(p: argparse.ArgumentParser) -> None:
        p.add_argument("kind", nargs="?", choices=KINDS, help="only this kind")

    cli.add_command(
        "plugins",
        lambda a: _cmd_plugins(a, registry),
        help="installed plugins, what each registered, and load failures",
        configure=conf_plugins,
    )
    cli.add_command(
        "list", lambda a: _cmd_list(a, registry), help="registered components", configure=conf_list
    )
    registry.call_command_hooks(cli)
    return parser, cli


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``swets`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        parser, _ = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "_run", None) is None:
            parser.print_help()
            return 2
        code = args._run(args)
        return int(code or 0)
    except SwetsError as exc:
        if debug:
            traceback.print_exc()
        print(f"swets: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("swets: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:
        if debug:
            traceback.print_exc()
        print(f"swets: error: {exc}", file=sys.stderr)
        return 1


def run() -> None:
    """Console-script wrapper around :func:`main`."""
    sys.exit(main())
