"""How a worker process asks glibc to give freed memory back, so its peak is what it holds, not what it once held."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import platform

# mallopt(3) parameters, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Blocks this large or larger get pages of their own, handed back when freed.
MMAP_THRESHOLD = 4 << 20
#: Free memory at the top of a heap past this goes back to the system.
TRIM_THRESHOLD = 8 << 20


def return_freed_memory() -> bool:
    """Fix glibc's thresholds for this process (True where it took them; elsewhere nothing is done).

    glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), so later
    blocks of that size come from heaps that fragment and are rarely trimmed: a worker reading
    long documents of non-ASCII text held ~940 MiB where `MALLOC_TRIM_THRESHOLD_=65536` (which also
    fixes the thresholds) gave 80. Set explicitly, they stay put. Dask sets the variable for its
    own workers. A 64 KiB trim threshold made a worker on 300 MB ~40 % slower (every block past
    128 KiB mapped afresh); these thresholds ran as fast as glibc's own and kept as little.
    """
    if platform.libc_ver()[0] != "glibc":
        return False
    with contextlib.suppress(OSError, AttributeError, TypeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return False
