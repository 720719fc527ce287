"""How far back each backend can see while coding: what `kbound compare` needs to trust C(A·B) − C(A).

These rules live here, not in the backends' modules, on purpose: a backend's decoder size counts
its whole module (and `backends/base.py` for raw and ppmd), so code the decoder never runs would
loosen every bound. A third-party backend declares its window with a `window_bytes()` method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kbound.backends.base import Backend

#: xz's dictionary for presets 0-9 (xz(1), "Presets"); `e` does not change it.
XZ_PRESET_DICT = tuple(k << 10 for k in (256, 1024, 2048, 4096, 4096, 8192, 8192, 16384, 32768, 65536))


def _zstd(config: dict[str, Any]) -> int:
    import zstandard  # only when a zstd backend is asked about

    log = config["wlog"] or config["long"]
    return 1 << (log or zstandard.ZstdCompressionParameters.from_level(config["level"]).window_log)


def _ppmd(config: dict[str, Any]) -> int:
    # PPMd has no window: it restarts its model when memory fills. Order 6 on English filled
    # 1 MiB within 152 kB here (~7 bytes of model a byte), so count mem / (2·order) bytes as seen.
    return int(config["mem"] // (2 * config["o"]))


RULES: dict[str, Callable[[dict[str, Any]], int]] = {
    "raw": lambda c: 0,  # it models nothing, so it sees nothing
    "zlib": lambda c: 32768 - 262,  # zlib's MAX_DIST: the 32 KiB window less MIN_LOOKAHEAD
    "bz2": lambda c: int(c["level"]) * 100_000 - 19,  # one BWT block; blocks are coded apart
    "xz": lambda c: int(c["dict"] or XZ_PRESET_DICT[int(c["preset"][0])]),
    "zstd": _zstd,
    "brotli": lambda c: (1 << int(c["w"])) - 16,  # the format reserves 16 bytes of the window
    "ppmd": _ppmd,
}


def window_bytes(backend: Backend) -> int | None:
    """Bytes of earlier input the backend can still use; None when it does not say (compare leaves it out)."""
    declared = getattr(backend, "window_bytes", None)
    if callable(declared):
        value = declared()
        return None if value is None else int(value)
    rule = RULES.get(backend.name)
    return None if rule is None else rule(backend.config)
