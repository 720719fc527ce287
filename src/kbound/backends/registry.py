"""The backend registry: built-in codecs, third-party ones from the `kbound.backends` entry points, presets."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points

from kbound.backends.base import Backend
from kbound.errors import BackendError

ENTRY_POINT_GROUP = "kbound.backends"

#: name -> "module:Class". Imported lazily so a missing optional library only removes its row.
BUILTIN: dict[str, str] = {
    "raw": "kbound.backends.raw:Raw",
    "zlib": "kbound.backends.zlib_:Zlib",
    "bz2": "kbound.backends.bz2_:Bz2",
    "xz": "kbound.backends.xz:Xz",
    "zstd": "kbound.backends.zstd:Zstd",
    "brotli": "kbound.backends.brotli_:Brotli",
    "ppmd": "kbound.backends.ppmd:Ppmd",
    "order": "kbound.backends.order:Order",
    "cm": "kbound.backends.cm:Cm",
    "zpaq": "kbound.backends.zpaq_:Zpaq",
}

#: The backend sets behind --effort. `raw` is always added as the floor.
EFFORTS: dict[str, tuple[str, ...]] = {
    # Tuned with bench/ on gcide.txt (bench/RESULTS.md): two ppmd variants, so one failing still leaves a
    # model-based bound below every reference CLI; xz:9 is as small as xz:9e on text at 60 % of the time.
    "fast": ("zlib:6", "bz2:9", "zstd:3", "brotli:5,w=22", "ppmd:4,mem=16m"),
    "default": (
        "zlib:9", "bz2:9", "xz:9", "zstd:12,long=27", "brotli:7,w=24", "ppmd:6,mem=256m", "ppmd:8,mem=512m,v=I",
    ),
    "max": (
        "zlib:9",
        "bz2:9",
        "xz:9e,dict=256m",  # the encoder needs about 11x its dictionary: 1536m would take ~17 GB
        "zstd:22,long=31",
        "brotli:11,w=24",
        "ppmd:8,mem=1g",
        "cm",
        "zpaq:5",
    ),
}
DEFAULT_EFFORT = "default"


@dataclass(frozen=True)
class Entry:
    """One registered backend name: its class when importable, else why not."""

    name: str
    origin: str
    cls: type[Backend] | None
    error: str | None


def _load(name: str, target: str, origin: str) -> Entry:
    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except ImportError as e:
        return Entry(name, origin, None, f"library not installed ({e})")
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        return Entry(name, origin, None, f"{target} is not a kbound Backend")
    return Entry(name, origin, cls, None)


@cache
def entries() -> dict[str, Entry]:
    """Every backend kbound knows: built-ins first, then entry points (which cannot replace a built-in)."""
    table = {name: _load(name, target, "built-in") for name, target in BUILTIN.items()}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name not in table:
            table[ep.name] = _load(ep.name, ep.value, f"entry point ({ep.value})")
    return table


def get_backend_class(name: str) -> type[Backend]:
    """The class registered under `name`; `BackendError` if unknown or its library is missing."""
    entry = entries().get(name)
    if entry is None:
        raise BackendError(f"unknown backend {name!r} (known: {', '.join(entries())})")
    if entry.cls is None:
        raise BackendError(f"backend {name!r} is not available: {entry.error}")
    return entry.cls


def parse_spec(spec: str) -> Backend:
    """Build a configured backend from a spec such as `zstd:19`, `xz:9e,dict=64m` or `ppmd:o=8,mem=1g`."""
    name, _, args = spec.strip().partition(":")
    if not name:
        raise BackendError(f"empty backend spec {spec!r}")
    return get_backend_class(name.lower()).from_args(args)


def effort_specs(effort: str) -> tuple[str, ...]:
    """The specs of an effort preset whose libraries are installed, `raw` first."""
    if effort not in EFFORTS:
        raise BackendError(f"unknown effort {effort!r} (choose from {', '.join(EFFORTS)})")
    table = entries()
    usable = [s for s in EFFORTS[effort] if (e := table.get(s.partition(":")[0])) is not None and e.cls is not None]
    return ("raw", *usable)
