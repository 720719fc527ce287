"""Parsing and printing sizes: bytes with SI (kB, MB, GB, TB) and binary (KiB, MiB, GiB) suffixes."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([kmgtp])(ib|b)?|(b))?\s*$", re.IGNORECASE)
_PREFIXES = "kmgtp"


def parse_size(text: str) -> int:
    """Parse `4GiB`, `500GB`, `2tb`, `256m`, `1g` or a plain byte count into bytes.

    A bare letter (`256m`, as in `xz --memlimit` and `ppmd:mem=1g`) is binary; `kB/MB/GB/TB`
    are decimal and `KiB/MiB/GiB/TiB` binary, so `1GB` and `1GiB` mean what they say. A
    fraction is allowed with a prefix (`1.5GB`, rounded to the byte), not of a byte (`0.5b`).
    Raises ValueError with the offending text.
    """
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"not a size: {text!r} (try 100MB, 4GiB, 256m)")
    number, prefix, suffix = m.group(1), (m.group(2) or "").lower(), (m.group(3) or "").lower()
    if not prefix:
        if "." in number:
            raise ValueError(f"not a whole number of bytes: {text!r}")
        return int(number)
    power = _PREFIXES.index(prefix) + 1
    scale = 1000**power if suffix == "b" else 1024**power
    value = round(float(number) * int(scale))
    if value == 0 and float(number) > 0:
        raise ValueError(f"less than one byte: {text!r}")
    return value


def human_bytes(n: int | float) -> str:
    """Print a byte count in decimal units for prose: `39.95 MB`."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(value) < 1000 or unit == "PB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmbt]?)\s*$", re.IGNORECASE)
_COUNT_SCALE = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}


def parse_count(text: str) -> int:
    """Parse a parameter count as model cards write it: `7B`, `1.5M`, `125m`, `1.8T`, `500K`, `1000`.

    K, M, B, T are thousand, million, billion, trillion (decimal; `B` is billion here, not bytes).
    Raises ValueError with the offending text.
    """
    m = _COUNT.match(text)
    if not m:
        raise ValueError(f"not a count: {text!r} (try 7B, 1.5M, 500K)")
    return round(float(m.group(1)) * _COUNT_SCALE[m.group(2).lower()])
