"""The backend registry: built-in codecs (the catalog), third-party ones from entry points, and presets.

A backend's module is imported only when that backend is asked for, so a missing optional
library only removes its row, and `parse_spec("zstd:3")` loads zstd alone. Scheduling facts
(memory, window, levels, speed) come from the catalog card of a built-in, or from the methods
a third-party class declares.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points

from kbound.backends.base import Backend
from kbound.backends.catalog import CATALOG, STREAM_BYTES, TEXT_COPIES
from kbound.errors import BackendError

ENTRY_POINT_GROUP = "kbound.backends"

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
        "cmx",
        "cmx2",
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
def entry(name: str) -> Entry | None:
    """The backend registered under `name` (imported now, and only it), or None when nothing is."""
    card = CATALOG.get(name)
    if card is not None:
        return _load(name, card.target, "built-in")
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
        return _load(ep.name, ep.value, f"entry point ({ep.value})")
    return None


def entries() -> dict[str, Entry]:
    """Every backend kbound knows, imported: built-ins first, then entry points (which cannot replace a built-in)."""
    table = {name: e for name in CATALOG if (e := entry(name)) is not None}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name not in table and (e := entry(ep.name)) is not None:
            table[ep.name] = e
    return table


def get_backend_class(name: str) -> type[Backend]:
    """The class registered under `name`; `BackendError` if unknown or its library is missing."""
    found = entry(name)
    if found is None:
        known = [*CATALOG, *sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in CATALOG)]
        raise BackendError(f"unknown backend {name!r} (known: {', '.join(known)})")
    if found.cls is None:
        raise BackendError(f"backend {name!r} is not available: {found.error}")
    return found.cls


def spec_name(spec: str) -> str:
    """The backend name a spec starts with, as the registry knows it: `XZ:9e,dict=64m` → `xz`."""
    return spec.strip().partition(":")[0].lower()


def parse_spec(spec: str) -> Backend:
    """Build a configured backend from a spec such as `zstd:19`, `xz:9e,dict=64m` or `ppmd:o=8,mem=1g`."""
    name = spec_name(spec)
    if not name:
        raise BackendError(f"empty backend spec {spec!r}")
    return get_backend_class(name).from_args(spec.strip().partition(":")[2])


def parse_specs(specs: Sequence[str] | str) -> list[Backend]:
    """Parse several specs; a backend given twice (in any spelling of its spec) is a `BackendError`."""
    if isinstance(specs, str):
        specs = [specs]
    out: list[Backend] = []
    seen: set[str] = set()
    for spec in specs:
        backend = parse_spec(spec)
        if backend.spec in seen:
            raise BackendError(f"backend {backend.spec} is given twice")
        seen.add(backend.spec)
        out.append(backend)
    return out


def effort_specs(effort: str) -> tuple[str, ...]:
    """The specs of an effort preset whose libraries are installed, `raw` first."""
    if effort not in EFFORTS:
        raise BackendError(f"unknown effort {effort!r} (choose from {', '.join(EFFORTS)})")
    usable = [s for s in EFFORTS[effort] if (e := entry(spec_name(s))) is not None and e.cls is not None]
    return ("raw", *usable)


def _builtin(backend: Backend) -> bool:
    # Only the built-in class gets its card (an entry point cannot take a built-in's name).
    return backend.name in CATALOG and type(backend).__module__.startswith("kbound.backends.")


def memory_bytes(backend: Backend, size: int) -> int:
    """What `backend` holds coding `size` bytes: its card's estimate, the class's `memory_bytes(size)`, or a
    default by kind (a few MiB for a streaming codec, the text several times over for a whole-buffer one)."""
    own = getattr(backend, "memory_bytes", None)
    if callable(own):
        return int(own(size))
    if _builtin(backend):
        return CATALOG[backend.name].memory(backend.config, size)
    return STREAM_BYTES + (0 if backend.streams else TEXT_COPIES * size)


def is_builtin_raw(backend: Backend) -> bool:
    """Whether `backend` is kbound's own `raw` (not a subclass or a plug-in that took the name)."""
    return type(backend) is get_backend_class("raw")


def verifies_inline(backend: Backend) -> bool:
    """Whether a worker decodes the backend's payload as it is produced (its card's `inline`; a class's
    `verifies_inline` attribute; else no: the payload goes to a temporary file, decoded after the encoder)."""
    own = getattr(backend, "verifies_inline", None)
    if own is not None:
        return bool(own)
    return _builtin(backend) and CATALOG[backend.name].inline


def window_bytes(backend: Backend) -> int | None:
    """Bytes of earlier input the backend can still use; None when it does not say (compare leaves it out)."""
    own = getattr(backend, "window_bytes", None)
    if callable(own):
        value = own()
        return None if value is None else int(value)
    return CATALOG[backend.name].window(backend.config) if _builtin(backend) else None


def seconds_per_mb(backend: Backend) -> float:
    """Single-core compress + decompress seconds per MB, for running the longest work first (default 1)."""
    own = getattr(backend, "expected_seconds_per_mb", None)
    if callable(own):
        return float(own())
    return CATALOG[backend.name].seconds_per_mb(backend.config) if _builtin(backend) else 1.0


def levels(name: str) -> tuple[str, ...]:
    """A backend's levels for `tradeoff`, fastest first (a third-party class may list its own `levels`)."""
    if name in CATALOG:
        return CATALOG[name].ladder
    found = entry(name)
    own = getattr(found.cls, "levels", None) if found is not None and found.cls is not None else None
    return tuple(own) if own else (name,)


def is_slow(name: str) -> bool:
    """A model-based codec (well under 1 MB/s): run by `tradeoff` only when asked for by name."""
    card = CATALOG.get(name)
    return card is not None and card.slow
