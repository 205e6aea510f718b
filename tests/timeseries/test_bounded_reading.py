"""Reading stops at a bound: regular files only, a size bound, and the first line that cannot be a row.

The hostile paths (a link to /dev/zero, a FIFO) ran until memory ran out or hung forever before the
readers checked them, so they are read in a child process under an address-space limit and a timer:
a regression fails the test instead of taking the machine down.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from swets_core.errors import ConfigError, DataValidationError
from swets_timeseries import read_csv, read_csv_header, read_parquet, read_series_csv
from swets_timeseries._files import bounded_lines

HEADER = "timestamp,open,high,low,close,volume\n"


def rows(n: int, start: int = 0) -> str:
    """``n`` valid bar lines a minute apart; volume = the row's number."""
    stamps = np.datetime_as_string(np.datetime64("2024-01-01T00:00") + np.arange(start, start + n))
    return "".join(f"{t}Z,1,2,0.5,1.5,{i}\n" for i, t in enumerate(stamps.tolist(), start))


def write_bytes(tmp_path, data: bytes, name="bars.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


CHILD = r"""
import json, os, resource, signal, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

def alarm(signum, frame):
    raise TimeoutError("still reading after 10 s")

signal.signal(signal.SIGALRM, alarm)
from swets_timeseries import read_csv, read_csv_header, read_series_csv, read_parquet
readers = {
    "read_csv": read_csv,
    "read_series_csv": lambda p: read_series_csv(p, target="close"),
    "read_csv_header": read_csv_header,
    "read_parquet": read_parquet,
}
out = {}
for name, path in json.loads(sys.argv[1]):
    for reader, fn in readers.items():
        signal.alarm(10)
        try:
            fn(path)
            out[f"{name} {reader}"] = "read"
        except BaseException as exc:
            out[f"{name} {reader}"] = f"{type(exc).__name__}: {exc}"
        finally:
            signal.alarm(0)
print(json.dumps(out))
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs and /dev/zero")
def test_links_to_devices_and_fifos_are_refused_before_reading(tmp_path):
    pytest.importorskip("pyarrow")
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    fifo_link = tmp_path / "pipe_link.parquet"
    fifo_link.symlink_to(fifo)
    cases = [
        ("zero", str(zero)),
        ("device", "/dev/zero"),
        ("fifo", str(fifo)),
        ("fifo_link", str(fifo_link)),
        ("directory", str(tmp_path)),
    ]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(out) == 20
    for key, result in out.items():
        assert result.startswith("DataValidationError: "), (key, result)
    zero_msg = out["zero read_csv"]
    assert f"{zero} (a link to /dev/zero) is a character device, not a regular file" in zero_msg
    assert "/dev/zero is a character device" in out["device read_csv_header"]
    assert f"{fifo} is a named pipe (FIFO)" in out["fifo read_series_csv"]
    assert f"(a link to {fifo}) is a named pipe (FIFO)" in out["fifo_link read_parquet"]
    assert f"{tmp_path} is a directory" in out["directory read_csv"]


def test_a_missing_file_or_a_non_path_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot open CSV file .*nope\.csv"):
        read_csv_header(tmp_path / "nope.csv")
    with pytest.raises(
        ConfigError, match=r"a CSV file path must be a str or os\.PathLike, got StringIO"
    ):
        read_csv(io.StringIO(HEADER))


def test_a_file_larger_than_max_bytes_is_refused_before_reading(tmp_path):
    path = write_bytes(tmp_path, (HEADER + rows(50)).encode())
    size = path.stat().st_size
    with pytest.raises(
        DataValidationError,
        match=rf"bars.csv: the file has {size} bytes .*more than max_bytes=1000 .*"
        r"pass a larger max_bytes= to read it",
    ):
        read_csv(path, max_bytes=1000)
    assert len(read_csv(path, max_bytes=size)) == 50
    with pytest.raises(ConfigError, match="max_bytes must be a positive integer"):
        read_csv(path, max_bytes=0)


def test_a_growing_stream_stops_at_max_bytes():
    stream = io.BytesIO((HEADER + rows(200)).encode())
    with pytest.raises(DataValidationError, match=r"s.csv: more than max_bytes=100 .* at line 1"):
        list(bounded_lines(stream, "s.csv", max_bytes=100, max_line_bytes=1000))


def test_a_long_line_stops_reading_and_names_its_line(tmp_path):
    text = HEADER + rows(3) + "2024-02-01," + "9" * 5000 + ",1,1,1,1\n" + rows(3, 10)
    path = write_bytes(tmp_path, text.encode())
    with pytest.raises(
        DataValidationError,
        match=r"bars.csv: line 5 is longer than max_line_bytes=4096 .*pass a larger max_line_bytes=",
    ):
        read_series_csv(path, target="close", max_line_bytes=4096)
    # the default bound (1 MiB) reads it: it is a row, only the number is absurd
    with pytest.raises(DataValidationError, match="line 5"):
        read_csv(path)


def test_a_file_of_zeros_stops_at_its_first_line(tmp_path):
    path = tmp_path / "sparse.csv"
    with open(path, "wb") as fh:
        fh.truncate(200 << 20)  # 200 MiB of NUL bytes, sparse on disk
    with pytest.raises(DataValidationError, match=r"sparse.csv: line 1 "):
        read_csv(path)
    with pytest.raises(DataValidationError, match=r"sparse.csv: line 1 "):
        read_csv_header(path)


def test_nul_bytes_and_undecodable_bytes_name_their_line(tmp_path):
    good = (HEADER + rows(4)).encode()
    lines = good.splitlines(keepends=True)
    nul = b"".join([*lines[:3], lines[3].replace(b"1.5", b"1\x005"), *lines[4:]])
    with pytest.raises(DataValidationError, match=r"bars.csv: line 4 holds a NUL byte"):
        read_csv(write_bytes(tmp_path, nul))
    latin = b"".join([*lines[:4], b"2024-01-09,1,2,0.5,1.5,caf\xe9\n"])
    with pytest.raises(
        DataValidationError, match=r"bars.csv: line 5 is not UTF-8 text \(byte 0xe9"
    ):
        read_csv(write_bytes(tmp_path, latin))


def test_line_numbers_across_blocks_and_line_endings(tmp_path):
    # more than one 4 MiB block: a bad cell far down is still named by its line
    n = 90_000
    body = rows(n)
    text = HEADER + body + "2030-01-01,1,2,0.5,oops,1\n"
    for ending in ("\n", "\r\n", "\r"):
        path = write_bytes(tmp_path, text.replace("\n", ending).encode(), f"e{len(ending)}.csv")
        with pytest.raises(DataValidationError, match=rf"line {n + 2} \(data row {n}"):
            read_csv(path)
    path = write_bytes(tmp_path, ("\ufeff" + HEADER + body).replace("\n", "\r\n").encode("utf-8"))
    bars = read_csv(path)
    assert len(bars) == n
    np.testing.assert_array_equal(bars.volume, np.arange(n, dtype=float))


def test_quoted_newlines_keep_the_line_numbers(tmp_path):
    text = (
        'timestamp,note,close\n2024-01-01,"two\nlines",1\n2024-01-02,plain,2\n2024-01-03,plain,x\n'
    )
    path = write_bytes(tmp_path, text.encode())
    with pytest.raises(DataValidationError, match=r"line 5 \(data row 2, timestamp 2024-01-03\)"):
        read_series_csv(path, target="close")
    assert read_csv_header(path) == ["timestamp", "note", "close"]


def test_parquet_that_is_not_parquet_names_the_file(tmp_path):
    pytest.importorskip("pyarrow")
    path = write_bytes(tmp_path, (HEADER + rows(3)).encode(), "bars.parquet")
    with pytest.raises(DataValidationError, match=r"bars.parquet: cannot read it as Parquet"):
        read_parquet(path)
    with pytest.raises(DataValidationError, match=r"more than max_bytes=10 "):
        read_parquet(path, max_bytes=10)
