"""The hostile-checkpoint suite: every file of ``tests/integration/hostile.py`` through every loading
path, each in a subprocess under a memory and a CPU limit and a timeout.

Every path must end in a swets error (a ``SwetsError`` from Python; exit code 1 and a
``swets: error:`` line from a command, the exception behind it a swets error) or, where the file
is fine for that path, succeed, within ``CPU_SECONDS`` (2 s) of CPU time and ``MEMORY_MIB``
(200 MiB) of address space above the process it starts from; no traceback, no hang.

* ``test_every_path_on_every_file``: the Python paths (``load_checkpoint``, ``load_job``,
  ``resume``) and the commands (``evaluate``, ``forecast``, ``plot``, ``backtest``, run through
  ``swets_core.cli.main`` as the console script does) in children forked from two warm servers
  (``hostile_runner.py``), so a case costs the file and not the interpreter's start.
* ``test_the_console_script_on_a_sample``: the real ``swets`` console script in fresh processes on
  a sample of the files (two commands each, every command on several files), limited to what a bare ``swets --version`` needs plus the same margins
  (measured by ``_baseline``: about 105 MiB of address space and 0.1 s of CPU on the development
  machine, with ``OPENBLAS_NUM_THREADS=1``).
"""

from __future__ import annotations

import json
import os
import queue
import resource
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from swets_core.errors import MAX_LISTED
from tests.integration import hostile
from tests.integration.hostile_runner import CPU_SECONDS, MEMORY_MIB, WALL_SECONDS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses fork, /proc, rlimits"),
]

ROOT = Path(__file__).resolve().parents[2]
SERVERS = 2
MAX_ERROR_LINES = MAX_LISTED + 2  # a first line, at most MAX_LISTED problems, "... and N more"
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """``(workdir, {fixture name: path})``: the base job checkpoint and every hostile file."""
    from swets_train.jobs import run_job

    work = tmp_path_factory.mktemp("hostile")
    base = work / "base.swets"
    run_job({**hostile.BASE_JOB, "output": {"checkpoint": str(base)}})
    return work, hostile.write_fixtures(base.read_bytes(), work)


def _server(work: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.hostile_runner",
            str(work / "base.swets"),
            str(work),
        ],
        cwd=ROOT,
        env=ENV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    ready = json.loads(proc.stdout.readline() or "{}")
    assert ready.get("ready"), "the hostile runner did not start"
    return proc


@pytest.fixture(scope="module")
def results(files):
    """Every (file, path) case, run on ``SERVERS`` warm servers in parallel."""
    work, paths = files
    cases = [
        {"id": i, "op": op, "path": str(paths[fx.name]), "strict": fx.strict, "case": (fx.name, op)}
        for i, (fx, op) in enumerate((fx, op) for fx in hostile.FIXTURES for op in hostile.PATHS)
    ]
    todo: queue.Queue = queue.Queue()
    for case in cases:
        todo.put(case)
    out: dict[tuple[str, str], dict] = {}

    def work_on(proc: subprocess.Popen) -> None:
        while True:
            try:
                case = todo.get_nowait()
            except queue.Empty:
                return
            request = {k: v for k, v in case.items() if k != "case"}
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            out[case["case"]] = json.loads(line) if line else {"outcome": "server died"}

    servers = [_server(work) for _ in range(SERVERS)]
    try:
        threads = [threading.Thread(target=work_on, args=(s,)) for s in servers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in servers:
            s.stdin.close()
            s.wait(timeout=60)
    by_cpu = sorted(out, key=lambda c: -out[c].get("cpu", 0))[:3]
    by_mem = sorted(out, key=lambda c: -out[c].get("rss_mib", 0))[:3]
    print(f"\nhostile suite: {len(out)} cases")
    print("  most CPU: " + ", ".join(f"{'/'.join(c)} {out[c].get('cpu', 0):.2f} s" for c in by_cpu))
    print(
        "  most memory above the server: "
        + ", ".join(f"{'/'.join(c)} {out[c].get('rss_mib', 0):.0f} MiB" for c in by_mem)
    )
    return out


CASES = [(fx, op) for fx in hostile.FIXTURES for op in hostile.PATHS]


@pytest.mark.parametrize(("fixture", "op"), CASES, ids=[f"{fx.name}-{op}" for fx, op in CASES])
def test_every_path_on_every_file(results, fixture, op):
    got = results[(fixture.name, op)]
    expected = "ok" if op in fixture.ok else "error"
    assert got["outcome"] == expected, f"{fixture.name} through {op}: {got}"
    if expected == "error":
        assert got["lines"] <= MAX_ERROR_LINES, got["message"]
        if op in hostile.PYTHON_PATHS:
            assert got["type"] != "SwetsError", "a precise subclass"
    assert got["cpu"] <= CPU_SECONDS and got["rss_mib"] <= MEMORY_MIB, got


def test_errors_name_what_is_wrong(results):
    """A few messages, read as a user reads them: the field, the bound, the file kind."""

    def message(name, op="load_checkpoint"):
        return results[(name, op)]["message"]

    assert "would create more than" in message("config-num_blocks-2e6")
    assert "field 'format'" in message("format-array")
    assert "field 'training.history.records[0]'" in message("history-records-ints", "load_job")
    assert "'metadata.user.job'" in message("job-model-array", "load_job")
    assert "named pipe" in message("checkpoint-fifo")
    assert "named pipe" in message("job-data-fifo", "evaluate")
    assert "holds more than" in message("12M-empty-lists")
    assert "and 29,9" in message("model-state-30000-unexpected")  # "... and 29,9xx more"
    assert "NaN" in message("weights-nan")
    assert "scaler scale[0]" in message("scaler-scale-0", "load_job")
    assert "and 49,9" in message("scaler-stats-50000", "load_job")  # "... and 49,9xx more"


# -- the console script itself ------------------------------------------------------------------
BASELINE = """
import atexit, os, resource, sys
def report():
    peak = [l for l in open('/proc/self/status') if l.startswith('VmPeak:')][0].split()[1]
    r = resource.getrusage(resource.RUSAGE_SELF)
    os.write(2, f"BASELINE {int(peak) * 1024} {r.ru_utime + r.ru_stime}\\n".encode())
atexit.register(report)
from swets_core.cli import main
sys.exit(main(["--version"]))
"""


def _baseline() -> tuple[int, float]:
    """Address space (bytes) and CPU seconds of a bare ``swets --version``."""
    proc = subprocess.run(
        [sys.executable, "-c", BASELINE], env=ENV, capture_output=True, text=True, timeout=120
    )
    line = next(x for x in proc.stderr.splitlines() if x.startswith("BASELINE"))
    _, vm, cpu = line.split()
    return int(vm), float(cpu)


SAMPLE = [
    "config-num_blocks-2e6",
    "config-layer_width-1e30",
    "format-array",
    "model-state-30000-unexpected",
    "history-records-ints",
    "job-model-array",
    "job-data-fifo",
    "12M-empty-lists",
    "checkpoint-fifo",
]


def test_the_console_script_on_a_sample(files):
    work, paths = files
    vm, cpu = _baseline()
    limit_as = vm + MEMORY_MIB * 2**20
    limit_cpu = int(cpu + CPU_SECONDS) + 1

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
        resource.setrlimit(resource.RLIMIT_CPU, (limit_cpu, limit_cpu + 1))

    swets = Path(sys.executable).parent / "swets"
    # two commands per file, in turn, so each command meets several files (the forked runs above
    # cover every command on every file)
    commands = hostile.CLI_PATHS
    cases = [
        (name, commands[(2 * i + k) % len(commands)])
        for i, name in enumerate(SAMPLE)
        for k in range(2)
    ]
    extra = {"plot": ["--output", str(work / "sample.png")], "backtest": ["--folds", "2"]}
    failures = []

    def run(name: str, op: str) -> None:
        try:
            proc = subprocess.run(
                [str(swets), op, str(paths[name]), *extra.get(op, [])],
                cwd=work,
                env=ENV,
                capture_output=True,
                text=True,
                timeout=WALL_SECONDS,
                preexec_fn=limits,
            )
        except subprocess.TimeoutExpired:
            failures.append(f"{name} {op}: no answer within {WALL_SECONDS} s")
            return
        lines = proc.stderr.splitlines()
        ok = (
            proc.returncode == 1
            and any(line.startswith("swets: error: ") for line in lines)
            and "Traceback" not in proc.stderr
            and len(lines) <= MAX_ERROR_LINES
        )
        if not ok:
            failures.append(f"{name} {op}: exit {proc.returncode}\n{proc.stderr[-2000:]}")

    todo = list(cases)
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not todo:
                    return
                name, op = todo.pop()
            run(name, op)

    threads = [threading.Thread(target=worker) for _ in range(SERVERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, "\n\n".join(failures)
