"""Reading the version string of a C library linked into a stdlib extension module."""

from __future__ import annotations

import ctypes
import functools


@functools.cache  # asked for each result row and cache key; the library does not change mid-run
def c_version(module_file: str | None, symbol: str) -> str:
    """Call `symbol()` (returning `const char *`) in the library behind an extension module.

    dlsym on the module's handle also searches the libraries it links, so `BZ2_bzlibVersion`
    is found through `_bz2`. Returns "unknown" where that cannot be done.
    """
    if not module_file:
        return "unknown"
    try:
        fn = getattr(ctypes.CDLL(module_file), symbol)
    except (OSError, AttributeError):
        return "unknown"
    fn.restype = ctypes.c_char_p
    fn.argtypes = []
    value = fn()
    return value.decode("ascii", "replace").split(",")[0] if value else "unknown"
