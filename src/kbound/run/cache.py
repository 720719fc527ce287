"""Remembered work: verified results by content, and what a selection's bytes were, by name.

`ResultCache` keys a verified outcome by the sha256 of the bytes it compressed, the backend's
spec, its library's version, kbound's version and the backend's own source, so it is recalled
only when recomputing it would give the same bound. `SelectionMemo` remembers the identity
(sha256, size, characters, documents) of a selection by its fingerprint: the sources' paths,
sizes, modification and change times and inodes (an object store's ETag) and every setting that shapes
the stream. Together they let a run that was stopped (or re-run on unchanged data) skip every
task already done without reading its data again. Each entry carries a checksum of its own
content and the key it was stored under; an entry that fails either check is recomputed and
overwritten, never trusted. Only verified results are stored.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import warnings
from pathlib import Path
from typing import Any

from kbound.backends.base import Backend
from kbound.backends.decoder import Decoder, decode_modules
from kbound.cache_dir import cache_dir, read_json, write_json_atomic
from kbound.dedup import recipe
from kbound.run.outcome import Outcome
from kbound.sources.stream import StreamStats

_FORMAT = "kbound-result/2"
_MEMO_FORMAT = "kbound-selection/1"


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def identity_modules(cls: type[Backend]) -> tuple[str, ...]:
    """The Python modules whose source is part of a stored row's identity.

    The kbound code its decoder counts (with the recipe a +dedup row adds) decides the decoder's
    size, and decoder.py how it is measured: a stored row's decoder_bytes holds only while they
    are unchanged; the worker decides what a row is.
    """
    counted = decode_modules(cls.__module__, recipe.__name__)
    return tuple(sorted({*counted, *cls.decoder_python, "kbound.backends.decoder", "kbound.run.worker"}))


@functools.cache
def _source_digest(cls: type[Backend]) -> str:
    h = hashlib.sha256()
    for module in identity_modules(cls):
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            h.update(Path(spec.origin).read_bytes())
    return h.hexdigest()


class CacheWarning(UserWarning):
    """The result cache cannot be written, so a later run recomputes; the CLI prints one line, once.

    Here rather than in kbound.errors, which every decoder counts (base.py raises its BackendError).
    """


#: Cache directories found unwritable in this process (each is reported once).
_UNWRITABLE: set[Path] = set()


class _Store:
    """JSON entries under one directory of the cache, each with its key and a checksum of its body."""

    def __init__(self, root: Path, enabled: bool) -> None:
        self.root, self.enabled = root, enabled

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        if not self.enabled:
            return None
        entry = read_json(self._path(key))
        body = entry.get("body") if isinstance(entry, dict) else None
        if not isinstance(body, dict) or entry.get("checksum") != _digest(body) or body.get("key") != key:
            return None
        return body

    def save(self, key: str, body: dict[str, Any]) -> None:
        if not self.enabled:
            return
        body = {**body, "key": key}
        try:
            write_json_atomic(self._path(key), {"body": body, "checksum": _digest(body)})
        except OSError as e:  # an unwritable cache costs time, not correctness: said once a cache directory
            if self.root.parent not in _UNWRITABLE:
                _UNWRITABLE.add(self.root.parent)
                warnings.warn(f"the cache directory {self.root.parent} cannot be written ({e.strerror or e}): "
                              "results are not kept for the next run", CacheWarning, stacklevel=2)


class ResultCache:
    """Look up and store verified outcomes under `<cache dir>/results/`."""

    def __init__(self, root: str | None = None, *, enabled: bool = True, kbound_version: str = "") -> None:
        self.enabled = enabled
        self._store = _Store(cache_dir(root) / "results", enabled)
        self.kbound_version = kbound_version

    def key(self, sha256: str, backend: Backend, variant: str = "") -> str:
        """The entry's name: everything that could change the result goes into it.

        Besides the versions, the backend's own Python source (its module, the decoder sources it
        names, the module that measures decoders and the worker) is hashed in, so a changed kbound
        checkout without a version bump cannot recall results its current code would not produce.
        """
        identity = backend.identity()  # left out when empty, so the keys of other backends stay as they were
        return _digest([
            _FORMAT, self.kbound_version, sha256, backend.spec, backend.library_version(),
            _source_digest(type(backend)), *([identity] if identity else []), *([variant] if variant else []),
        ])

    def get(self, stats: StreamStats, backend: Backend, variant: str = "") -> Outcome | None:
        """The cached verified outcome for these bytes, or None when absent, disabled, or corrupt.

        `variant` names how the bytes were coded beyond the backend (a shard's references).
        """
        body = self._store.load(self.key(stats.sha256, backend, variant))
        if body is None:
            return None
        try:
            if body["spec"] != backend.spec or int(body["bytes"]) != stats.bytes:
                return None
            decoder = None
            if body.get("decoder_bytes") is not None:
                decoder = Decoder(int(body["decoder_bytes"]), tuple(body["decoder_files"]), str(body["decoder_method"]))
            return Outcome(
                backend,
                payload_bytes=int(body["payload_bytes"]),
                decoder=decoder,
                compress_seconds=float(body["compress_seconds"]),
                decompress_seconds=float(body["decompress_seconds"]),
                cpu_seconds=None if body.get("cpu_seconds") is None else float(body["cpu_seconds"]),
                verified=True,
                cached=True,
                stats=stats,
                dedup=bool(variant),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, outcome: Outcome, variant: str = "") -> None:
        """Store a verified outcome; anything else, or an unwritable cache, is silently skipped."""
        stats = outcome.stats
        if not (self.enabled and outcome.verified and outcome.error is None and stats is not None):
            return
        if outcome.dedup and not variant:
            return  # a row with references is recalled only by the references it used
        d = outcome.decoder
        self._store.save(self.key(stats.sha256, outcome.backend, variant), {
            "spec": outcome.backend.spec,
            "sha256": stats.sha256,
            "bytes": stats.bytes,
            "library_version": outcome.backend.library_version(),
            "payload_bytes": outcome.payload_bytes,
            "decoder_bytes": None if d is None else d.decoder_bytes,
            "decoder_files": None if d is None else list(d.files),
            "decoder_method": None if d is None else d.method,
            "compress_seconds": outcome.compress_seconds,
            "decompress_seconds": outcome.decompress_seconds,
            "cpu_seconds": outcome.cpu_seconds,
        })


class SelectionMemo:
    """What a selection's bytes were (`StreamStats`), by its fingerprint, under `<cache dir>/selections/`."""

    def __init__(self, root: str | None = None, *, enabled: bool = True) -> None:
        self._store = _Store(cache_dir(root) / "selections", enabled)

    def get(self, fingerprint: str | None) -> StreamStats | None:
        """The remembered identity, or None (no fingerprint, nothing remembered, or a damaged entry)."""
        if fingerprint is None:
            return None
        body = self._store.load(_digest([_MEMO_FORMAT, fingerprint]))
        if body is None:
            return None
        try:
            return StreamStats.from_dict(body["stats"])
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, fingerprint: str | None, stats: StreamStats) -> None:
        """Remember a selection's identity (nothing without a fingerprint)."""
        if fingerprint is not None:
            self._store.save(_digest([_MEMO_FORMAT, fingerprint]), {"stats": stats.to_dict()})
