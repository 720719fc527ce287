"""A corpus that stays on disk: one plain file, hashed and counted in one streaming pass, never held in memory.

`open_corpus` returns one for a single plain (uncompressed, non-JSONL) file and a loaded `Corpus`
otherwise, so the engine's memory does not grow with a large single-file corpus.
"""

from __future__ import annotations

import codecs
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kbound.errors import CorpusError
from kbound.run.engine import open_binary
from kbound.sources.corpus import (
    _CHUNK,
    DEFAULT_MAX_BYTES,
    DEFAULT_SEPARATOR,
    Corpus,
    compression_of,
    load_corpus,
    too_large,
)


@dataclass(frozen=True)
class CorpusFile:
    """A one-document corpus read from `path` on demand; the same summary fields as `Corpus`."""

    path: str
    n_bytes: int
    sha256: str
    chars: int | None
    chars_reason: str | None
    sources: tuple[str, ...]
    documents: int = 1
    separator: bytes = DEFAULT_SEPARATOR
    decompressed: tuple[str, ...] = ()

    @property
    def data(self) -> bytes:
        """The whole corpus, read from disk (for callers that need it in memory; the engine does not)."""
        with open(self.path, "rb") as f:
            return f.read()

    @classmethod
    def scan(cls, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> CorpusFile:
        """Hash a file and count its UTF-8 characters in one pass of `_CHUNK`-sized reads."""
        digest, decoder = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")()
        size, chars, reason = 0, 0, None
        try:
            with open_binary(name) as f:
                for chunk in iter(lambda: f.read(_CHUNK), b""):
                    digest.update(chunk)
                    if reason is None:
                        pending = len(decoder.getstate()[0])
                        try:
                            chars += len(decoder.decode(chunk))
                        except UnicodeDecodeError as e:
                            reason = f"not valid UTF-8 (byte {size - pending + e.start}: {e.reason})"
                    size += len(chunk)
                    if size > max_bytes:
                        raise too_large(name, max_bytes)
                if reason is None:
                    try:
                        decoder.decode(b"", final=True)
                    except UnicodeDecodeError as e:
                        reason = f"not valid UTF-8 (byte {size - len(e.object) + e.start}: {e.reason})"
        except OSError as e:
            raise CorpusError(f"{name}: cannot read ({e.strerror or e})") from None
        return cls(
            path=name if "://" in name else os.path.abspath(name), n_bytes=size, sha256=digest.hexdigest(),
            chars=None if reason else chars, chars_reason=reason, sources=(name,),
        )


def open_corpus(inputs: Sequence[str], **load_options: Any) -> Corpus | CorpusFile:
    """A `CorpusFile` for one plain file (or fsspec URL) given alone, else `load_corpus(inputs, **load_options)`."""
    limit = int(load_options.get("max_bytes") or DEFAULT_MAX_BYTES)
    if len(inputs) == 1 and "://" in inputs[0]:
        return CorpusFile.scan(inputs[0], limit)
    if len(inputs) == 1 and inputs[0] != "-" and os.path.isfile(inputs[0]) and not load_options.get("field"):
        with open(inputs[0], "rb") as f:
            plain = compression_of(f.read(6)) is None
        if plain:
            return CorpusFile.scan(inputs[0], limit)
    return load_corpus(inputs, **load_options)
