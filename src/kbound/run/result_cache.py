"""The result cache: a verified result, keyed by corpus sha256 + backend spec + library and kbound versions.

Re-running CI on an unchanged corpus is then nearly free. Each entry carries a checksum of its
own content and the key it was stored under; an entry that fails either check is recomputed
and overwritten, never trusted. Only verified results are stored.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

from kbound.backends.base import Backend
from kbound.backends.decoder import Decoder
from kbound.cache import cache_dir, read_json, write_json_atomic
from kbound.run.engine import Outcome

_FORMAT = "kbound-result/1"


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


@functools.cache
def _source_digest(cls: type[Backend]) -> str:
    h = hashlib.sha256()
    # decoder.py decides how decoder sizes are measured, so it belongs to every entry's identity too.
    for module in sorted({cls.__module__, *cls.decoder_python, "kbound.backends.decoder"}):
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            h.update(Path(spec.origin).read_bytes())
    return h.hexdigest()


class ResultCache:
    """Look up and store verified outcomes under `<cache dir>/results/`."""

    def __init__(self, root: str | None = None, *, enabled: bool = True, kbound_version: str = "") -> None:
        self.enabled = enabled
        self.root = cache_dir(root) / "results"
        self.kbound_version = kbound_version

    def key(self, corpus_sha256: str, backend: Backend) -> str:
        """The entry's name: everything that could change the result goes into it.

        Besides the versions, the backend's own Python source (its module, the decoder sources it
        names, and the module that measures decoders) is hashed in, so a changed kbound checkout
        without a version bump cannot recall results its current code would not produce.
        """
        return _digest([
            _FORMAT, self.kbound_version, corpus_sha256, backend.spec, backend.library_version(),
            _source_digest(type(backend)),
        ])

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, corpus_sha256: str, backend: Backend) -> Outcome | None:
        """The cached verified outcome, or None when absent, disabled, or corrupt."""
        if not self.enabled:
            return None
        key = self.key(corpus_sha256, backend)
        entry = read_json(self._path(key))
        if not isinstance(entry, dict):
            return None
        body = entry.get("body")
        if not isinstance(body, dict):
            return None
        try:
            if entry.get("checksum") != _digest(body) or body["key"] != key or body["spec"] != backend.spec:
                return None
            decoder = Decoder(int(body["decoder_bytes"]), tuple(body["decoder_files"]), str(body["decoder_method"]))
            return Outcome(
                backend,
                payload_bytes=int(body["payload_bytes"]),
                decoder=decoder,
                compress_seconds=float(body["compress_seconds"]),
                decompress_seconds=float(body["decompress_seconds"]),
                verified=True,
                cached=True,
            )
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, corpus_sha256: str, outcome: Outcome) -> None:
        """Store a verified outcome; anything else, or an unwritable cache, is silently skipped."""
        if not (self.enabled and outcome.verified and outcome.error is None and outcome.decoder):
            return
        key = self.key(corpus_sha256, outcome.backend)
        body = {
            "key": key,
            "spec": outcome.backend.spec,
            "corpus_sha256": corpus_sha256,
            "library_version": outcome.backend.library_version(),
            "payload_bytes": outcome.payload_bytes,
            "decoder_bytes": outcome.decoder.decoder_bytes,
            "decoder_files": list(outcome.decoder.files),
            "decoder_method": outcome.decoder.method,
            "compress_seconds": outcome.compress_seconds,
            "decompress_seconds": outcome.decompress_seconds,
        }
        with contextlib.suppress(OSError):
            write_json_atomic(self._path(key), {"body": body, "checksum": _digest(body)})
