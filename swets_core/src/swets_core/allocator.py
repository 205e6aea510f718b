"""Opt-in tuning of the C allocator for training loops: keep freed memory for reuse.

numpy allocates array storage with the C library's ``malloc``. With glibc's defaults, a large block
(above a threshold that adapts between 128 KiB and 32 MiB) is mapped fresh from the kernel and
unmapped when freed, and free memory at the top of the heap is returned to the kernel. A training
step allocates and frees the same large temporaries every step, so each step pays for the kernel to
map, zero and fault in those pages again: a fifth to a half of a step's time for the convolutional
and attention models of ``benchmarks/cases_models.py``.

:func:`reuse_freed_memory` sets glibc's ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` (through
``mallopt``) so that blocks up to ``max_block_mib`` come from the heap and freed memory stays in the
process for the next step. It changes where memory comes from, never a computed value. The cost:
the resident set no longer shrinks after a peak (the peak itself is unchanged, up to fragmentation),
so call it in processes that train or serve, not in short scripts that must hand memory back.

It affects the whole process (every library that allocates through ``malloc``), takes effect for
allocations made after the call, and does nothing (returns False) where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

from swets_core.errors import ConfigError

__all__ = ["allocator_settings", "reuse_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_applied: dict[str, int] = {}


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux":
        return None
    libc_name, _ = platform.libc_ver()
    if libc_name != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") else None


def reuse_freed_memory(max_block_mib: float = 256.0) -> bool:
    """Keep freed memory in the process for reuse (glibc's ``mallopt``); True when applied.

    Args:
        max_block_mib: blocks up to this size (MiB) come from the heap instead of fresh mappings;
            freed memory is returned to the kernel only when more than twice this size is free at
            the top of the heap. Larger blocks keep glibc's default behaviour.

    Returns:
        True when both settings were accepted, False on other platforms or C libraries (nothing is
        changed then).

    Raises:
        ConfigError: ``max_block_mib`` is not a positive number.
    """
    if not isinstance(max_block_mib, (int, float)) or isinstance(max_block_mib, bool):
        raise ConfigError(
            f"reuse_freed_memory: max_block_mib must be a positive number, got {max_block_mib!r}"
        )
    if not max_block_mib > 0:
        raise ConfigError(f"reuse_freed_memory: max_block_mib must be > 0, got {max_block_mib}")
    libc = _glibc()
    if libc is None:
        return False
    block = int(max_block_mib * 1024 * 1024)
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    libc.mallopt.restype = ctypes.c_int
    ok_mmap = libc.mallopt(_M_MMAP_THRESHOLD, min(block, 2**31 - 1))
    ok_trim = libc.mallopt(_M_TRIM_THRESHOLD, min(2 * block, 2**31 - 1))
    if ok_mmap and ok_trim:
        _applied["mmap_threshold"] = block
        _applied["trim_threshold"] = 2 * block
        return True
    return False


def allocator_settings() -> dict[str, int]:
    """The settings applied by :func:`reuse_freed_memory` in this process (empty when none):
    ``{"mmap_threshold": bytes, "trim_threshold": bytes}``."""
    return dict(_applied)
