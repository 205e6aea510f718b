"""swets_core.allocator: the opt-in allocator tuning changes where memory comes from, not values."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from swets_core.allocator import allocator_settings, reuse_freed_memory
from swets_core.errors import ConfigError


@pytest.mark.parametrize("bad", [0, -1.0, "64", True, None])
def test_rejects_non_positive_or_non_numeric_sizes(bad) -> None:
    with pytest.raises(ConfigError, match="reuse_freed_memory: max_block_mib"):
        reuse_freed_memory(bad)


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_applies_on_glibc_and_keeps_large_blocks_without_new_page_faults() -> None:
    # in a fresh process, so the test's own process keeps glibc's defaults
    code = """
import resource, numpy as np
from swets_core.allocator import reuse_freed_memory, allocator_settings

def faults(n_floats):
    a = np.ones(n_floats, np.float32); del a  # first use of the block
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        a = np.ones(n_floats, np.float32); del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

n = 48 * 2**18  # 48 MiB: above glibc's largest adaptive mmap threshold (32 MiB)
default = faults(n)
assert reuse_freed_memory(64) is True
assert allocator_settings() == {"mmap_threshold": 64 * 2**20, "trim_threshold": 128 * 2**20}
tuned = faults(n)
print(default, tuned)
assert tuned * 10 < default, (default, tuned)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_settings_are_empty_until_applied() -> None:
    code = "from swets_core.allocator import allocator_settings; print(allocator_settings())"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.stdout.strip() == "{}"
    assert isinstance(allocator_settings(), dict)
