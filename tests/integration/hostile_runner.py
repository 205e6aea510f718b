"""Runs one loading path on one file per forked child, under limits: the server of the hostile suite.

Started as ``python -m tests.integration.hostile_runner BASE_CHECKPOINT WORKDIR`` (from the repository
root), it imports swets and everything the paths need, prepares the base job's training objects
(for ``resume``), then reads one JSON request per line on stdin (``{"id", "op", "path",
"strict"}``) and answers one JSON line per request on stdout. Each request runs in a child forked
from this warm process, so the child pays for the file and nothing else:

* ``RLIMIT_AS``: the server's address space at the fork plus ``MEMORY_MIB`` (200 MiB);
* ``RLIMIT_CPU``: ``CPU_SECONDS`` (2 s) of CPU time (the kernel stops the child with ``SIGXCPU``);
* a wall-clock timeout (``WALL_SECONDS``) for what does not spend CPU, such as waiting on a pipe.

The answer: ``outcome`` (``ok``, ``error`` for a swets error or a ``swets: error:`` line with exit
code 1, ``crash`` for anything else, with its traceback), the error's type and first line, the
number of lines printed, the child's CPU seconds and peak resident memory above the server's.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import sys
import time
import traceback
from typing import Any

MEMORY_MIB = 200
CPU_SECONDS = 2
WALL_SECONDS = 30


def _status(key: str) -> int:
    """A field of /proc/self/status in bytes (VmSize, VmRSS...)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


class Paths:
    """The loading paths, warm: every module imported, the base job prepared once."""

    def __init__(self, base: str, workdir: str) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot

        from swets_core import checkpoint
        from swets_core.cli import build_parser, main
        from swets_train import backtest, plot, predict  # noqa: F401 - imported by the commands
        from swets_train.jobs import fit_prepared, load_job, prepare

        self.workdir = workdir
        self.checkpoint, self.main, self.load_job = checkpoint, main, load_job
        self.fit_prepared = fit_prepared
        build_parser()  # every plugin loaded
        self.base_spec = load_job(base).spec
        self.prepare = prepare

    def run(self, op: str, path: str, rid: int) -> dict[str, Any]:
        if op in ("load_checkpoint", "load_job", "resume"):
            return self._python(op, path)
        return self._cli(op, path, rid)

    def _python(self, op: str, path: str) -> dict[str, Any]:
        from swets_core.errors import SwetsError

        try:
            if op == "load_checkpoint":
                self.checkpoint.load_checkpoint(path)
            elif op == "load_job":
                self.load_job(path)
            else:
                self.fit_prepared(self.prepare(self.base_spec), resume_from=path)
        except SwetsError as exc:
            text = str(exc)
            return {
                "outcome": "error",
                "type": type(exc).__name__,
                "message": _clip(text),
                "lines": text.count("\n") + 1,
            }
        return {"outcome": "ok"}

    def _cli(self, op: str, path: str, rid: int) -> dict[str, Any]:
        """The command as ``swets`` runs it, with ``--debug`` so that the type of the exception
        behind a ``swets: error:`` line is known (the line alone would not tell a swets error
        from a bare ``ValueError`` the command let through)."""
        extra = {
            "plot": ["--output", os.path.join(self.workdir, f"plot-{rid}.png")],
            "backtest": ["--folds", "2", "--no-progress"],
        }.get(op, [])
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = self.main([op, path, *extra, "--debug"])
        text = err.getvalue()
        lines = text.splitlines()
        if code == 0:
            return {"outcome": "ok", "lines": len(lines)}
        at = next((i for i, line in enumerate(lines) if line.startswith("swets: error: ")), None)
        raised = _raised(lines[:at] if at is not None else lines)
        if code == 1 and at is not None and _is_swets_error(raised):
            message = lines[at:]
            return {
                "outcome": "error",
                "type": raised,
                "message": _clip("\n".join(message)),
                "lines": len(message),
            }
        return {"outcome": "crash", "detail": f"exit {code}, raised {raised}\n{text[-3000:]}"}


def _clip(text: str) -> str:
    """A message for the answer: its beginning and its end (where "... and N more" is)."""
    return text if len(text) <= 4000 else f"{text[:2500]}\n[...]\n{text[-1000:]}"


def _raised(lines: list[str]) -> str | None:
    """The class name of the exception a printed traceback ends with (the last one of a chain)."""
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call")]
    if not starts:
        return None
    for line in lines[starts[-1] + 1 :]:
        if line and not line.startswith(" "):
            return line.split(":", 1)[0]
    return None


def _is_swets_error(name: str | None) -> bool:
    import importlib

    from swets_core.errors import SwetsError

    if not name or "." not in name:
        return False
    module, _, cls = name.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError):
        return False
    return isinstance(obj, type) and issubclass(obj, SwetsError)


def _child(paths: Paths, request: dict[str, Any], limit: int, fd: int) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
        if request.get("strict"):
            os.environ["SWETS_STRICT_CHECKPOINTS"] = "1"
        else:
            os.environ.pop("SWETS_STRICT_CHECKPOINTS", None)
        result = paths.run(request["op"], request["path"], request["id"])
    except BaseException:  # anything but a swets error is what the suite looks for
        result = {"outcome": "crash", "detail": traceback.format_exc()[-3000:]}
    os.write(fd, json.dumps(result).encode())
    os._exit(0)


def _serve_one(paths: Paths, request: dict[str, Any]) -> dict[str, Any]:
    base_rss = _status("VmRSS")
    limit = _status("VmSize") + MEMORY_MIB * 2**20
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(paths, request, limit, write_fd)
    os.close(write_fd)
    status, usage = 0, None
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - start > WALL_SECONDS:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            break
        time.sleep(0.002)
    wall = time.monotonic() - start
    with os.fdopen(read_fd, "rb") as f:
        raw = f.read()
    if raw:
        result = json.loads(raw)
    elif os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        result = {"outcome": "cpu-limit", "detail": f"more than {CPU_SECONDS} s of CPU"}
    elif os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        result = {"outcome": "timeout", "detail": f"no answer within {WALL_SECONDS} s"}
    else:
        result = {"outcome": "crash", "detail": f"child ended with status {status}"}
    result["cpu"] = usage.ru_utime + usage.ru_stime
    result["rss_mib"] = max(0.0, (usage.ru_maxrss * 1024 - base_rss) / 2**20)
    result["wall"] = wall
    result["id"] = request["id"]
    return result


def main() -> None:
    base, workdir = sys.argv[1], sys.argv[2]
    paths = Paths(base, workdir)
    sys.stdout.write(json.dumps({"ready": True, "vm_mib": _status("VmSize") / 2**20}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        result = _serve_one(paths, json.loads(line))
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
