"""One task in a worker: stream a byte range of the corpus through a backend, then verify the payload.

Memory stays at the codec's own state plus a few chunks, whatever the size: the corpus is read in
`CHUNK`s, the payload goes to an anonymous temporary file, and verification decompresses it as a
stream, hashing it and comparing it with the corpus as it comes out.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from kbound.backends.base import Backend
from kbound.errors import RoundTripError


@dataclass(frozen=True)
class Task:
    """One backend on one byte range of the corpus file (the whole file, or one shard)."""

    backend: Backend
    offset: int
    size: int
    sha256: str


#: Bytes read from the corpus (or the payload) per step; the unit of progress and of the worker's own memory.
CHUNK = 1 << 20


def _pieces(f: BinaryIO, length: int, step: int = CHUNK) -> Iterator[bytes]:
    while length > 0:
        chunk = f.read(min(step, length))
        if not chunk:
            raise OSError("the corpus file got shorter while it was being read")
        length -= len(chunk)
        yield chunk


def _verify(
    backend: Backend, payload: BinaryIO, corpus: BinaryIO, size: int, sha256: str, report: Callable[[int], None]
) -> None:
    """Decompress the payload as a stream, hash it, and compare it with the corpus as it comes out."""
    decoder, digest = backend.decompressor(), hashlib.sha256()
    got = 0
    first_wrong: int | None = None
    length = payload.seek(0, os.SEEK_END)
    payload.seek(0)

    def outputs() -> Iterator[bytes]:
        # Smaller steps here: a payload chunk expands several-fold on the way out.
        for chunk in _pieces(payload, length, CHUNK // 4):
            yield decoder.process(chunk)
        yield decoder.finish()

    for out in outputs():
        digest.update(out)
        if first_wrong is None:
            want = corpus.read(len(out))
            if out != want:
                n = min(len(out), len(want))
                first_wrong = got + next((i for i in range(n) if out[i] != want[i]), n)
        got += len(out)
        report(size + min(got, size))
    if digest.hexdigest() != sha256 or got != size:
        if first_wrong is not None and first_wrong < min(got, size):
            where = f"first wrong byte at {first_wrong:,}"
        else:
            where = "the bytes it returned are right" if got < size else "then extra bytes"
        raise RoundTripError(f"round trip failed: decoder returned {got:,} of {size:,} bytes; {where}")


def run_task(
    task: Task, path: str, *, verify: bool = True, cache_root: str | None = None,
    report: Callable[[int], None] | None = None, opener: Callable[[str], BinaryIO] | None = None,
) -> dict[str, Any]:
    """Compress one task's byte range of `path` as a stream into an anonymous temporary file, then verify it.

    Memory stays at the codec's own state plus a few 1 MiB chunks, whatever the size. Returns the
    fields of an `Outcome` (without the backend); a library error or a wrong round trip is `error`.
    """
    result: dict[str, Any] = {}
    backend, size = task.backend, task.size
    tell = report or (lambda done: None)
    try:
        # TemporaryFile has no name on Linux: nothing is left behind however the worker ends.
        with (opener or open_binary)(path) as corpus, tempfile.TemporaryFile(prefix="kbound-payload-") as payload:
            corpus.seek(task.offset)
            t0 = time.perf_counter()
            coder, done = backend.compressor(size), 0
            for chunk in _pieces(corpus, size):
                payload.write(coder.process(chunk))
                done += len(chunk)
                tell(done)
            payload.write(coder.finish())
            result["compress_seconds"] = time.perf_counter() - t0
            del coder  # the encoder's state (xz's match finder, ppmd's model) goes before the decoder's comes
            result["payload_bytes"] = payload.tell()
            result["decoder"] = backend.decoder(cache_root)
            if verify:
                t0 = time.perf_counter()
                corpus.seek(task.offset)
                _verify(backend, payload, corpus, size, task.sha256, tell)
                result["decompress_seconds"] = time.perf_counter() - t0
                result["verified"] = True
    except RoundTripError as e:
        result["error"] = str(e)
    except Exception as e:  # a library's own error: report it as this row's failure
        result["error"] = f"{type(e).__name__}: {e}".rstrip(": ")
    return result


def open_binary(path: str) -> BinaryIO:
    """Open a corpus for reading: a local path, or an fsspec URL (`s3://…`, `file://…`) if fsspec is installed."""
    if "://" in path:
        try:
            import fsspec
        except ImportError:
            raise OSError(f"{path}: reading URLs needs fsspec (pip install 'kbound[dask]')") from None
        return fsspec.open(path, "rb").open()  # type: ignore[no-any-return]
    return open(path, "rb")
