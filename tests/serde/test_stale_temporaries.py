"""Temporary files of killed saves: the next save to the same path removes those whose writer is
provably gone, and never a live writer's, another machine's or an unknown one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from swets_core import atomic
from swets_core import checkpoint as ck

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process ids are checked on POSIX")


def _temp(directory, base: str, pid: int, start: int, host: str, rand: str = "0123456789ab"):
    path = directory / f".{base}.{rand}.{pid}-{start}-{host}{ck.TEMP_SUFFIX}"
    path.write_bytes(b"half a checkpoint")
    return path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the id runs nothing now (the kernel does not reuse it at once)
    return proc.pid


def test_the_next_save_removes_only_what_dead_writers_of_this_target_left(tmp_path):
    host = atomic._host_key()
    me = os.getpid()
    my_start = atomic._process_start(me)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live_start = atomic._process_start(sleeper.pid)
        dead = _dead_pid()
        stale = [
            _temp(tmp_path, "m.swets", dead, 12345, host, "aaaaaaaaaaaa"),
            _temp(tmp_path, "m.swets", dead, 0, host, "bbbbbbbbbbbb"),
        ]
        kept = [
            _temp(tmp_path, "m.swets", me, my_start, host, "cccccccccccc"),  # this process
            _temp(tmp_path, "m.swets", sleeper.pid, live_start, host, "dddddddddddd"),  # alive
            _temp(tmp_path, "m.swets", dead, 12345, "0badc0de", "eeeeeeeeeeee"),  # elsewhere
            _temp(tmp_path, "other.swets", dead, 12345, host),  # another target
            tmp_path / f".m.swets.0123456789ab{ck.TEMP_SUFFIX}",  # the old form: writer unknown
        ]
        kept[-1].write_bytes(b"old")
        if my_start:  # with /proc, a reused process id is told apart by its start time
            stale.append(
                _temp(tmp_path, "m.swets", sleeper.pid, live_start + 1, host, "ffffffffffff")
            )
        ck.save_payload(tmp_path / "m.swets", {"x": 1})
        assert ck.load_payload(tmp_path / "m.swets") == {"x": 1}
        for p in stale:
            assert not p.exists(), p.name
        for p in kept:
            assert p.exists(), p.name
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_live_writer_of_the_same_target_keeps_its_file(tmp_path):
    """Two saves of one target at once: the second does not remove the first's temporary file."""
    target = tmp_path / "m.swets"
    with atomic.atomic_write(target) as first:
        first.write(b"first")
        (mine,) = [p for p in tmp_path.iterdir() if p.name.endswith(ck.TEMP_SUFFIX)]
        ck.save_payload(target, {"x": 2})
        assert mine.exists()
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["m.swets"]


def test_the_temporary_name_records_the_writer(tmp_path):
    names = []

    class Spy:
        def write(self, data):
            names.extend(p.name for p in tmp_path.iterdir())

    with atomic.atomic_write(tmp_path / "m.swets") as f:
        Spy().write(b"")
        f.write(b"x")
    (name,) = [n for n in names if n.endswith(ck.TEMP_SUFFIX)]
    pid, start, host = name[len(".m.swets.") + 13 : -len(ck.TEMP_SUFFIX)].split("-")
    assert int(pid) == os.getpid() and host == atomic._host_key()
    assert int(start) == (atomic._process_start(os.getpid()) or 0)
