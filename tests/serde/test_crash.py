"""Crash safety: a process saving in a loop is SIGKILLed at random moments; the file on disk always
loads, whole, as one of the versions that were saved."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from swets_core import checkpoint as ck
from swets_serde_msgpack import MsgpackSerializer

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

SAVER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from swets_core import checkpoint as ck
    from swets_serde_msgpack import MsgpackSerializer

    path, start = sys.argv[1], int(sys.argv[2])
    ser = MsgpackSerializer()
    base = np.random.default_rng(0).standard_normal((512, 1024)).astype(np.float32)  # 2 MiB
    i = start
    while True:
        payload = {"version": i, "weights": base + np.float32(i), "steps": list(range(i % 50))}
        ck.save_payload(path, payload, serializer=ser)
        if i == start:
            print("saved", flush=True)
        i += 1
    """
)


def _check(path) -> int:
    got = ck.load_payload(path, serializer=MsgpackSerializer())
    version = got["version"]
    base = np.random.default_rng(0).standard_normal((512, 1024)).astype(np.float32)
    assert np.array_equal(got["weights"], base + np.float32(version))
    assert got["steps"] == list(range(version % 50))
    return version


def test_kill_during_save_leaves_a_loadable_file(tmp_path):
    path = tmp_path / "ckpt.swets"
    rnd = random.Random(20240611)
    seen = []
    start = 0
    for _ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path), str(start)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout.readline().strip() == "saved"
            time.sleep(rnd.uniform(0.0, 0.25))
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL
        version = _check(path)
        assert version >= start
        seen.append(version)
        start = version + 1000  # the next process writes new versions over this file
    assert len(set(seen)) == len(seen)
    # stray temporary files of killed saves are the only other entries, and never the target's name
    others = [p.name for p in tmp_path.iterdir() if p.name != "ckpt.swets"]
    assert all(n.startswith(".ckpt.swets.") and n.endswith(ck.TEMP_SUFFIX) for n in others)
    # the next save removes them: their writers are gone
    ck.save_payload(path, {"version": -1, "weights": np.zeros(1), "steps": []})
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.swets"]
