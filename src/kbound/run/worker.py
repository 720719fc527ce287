"""One task in a worker: stream a selection of the corpus through a backend, then verify the payload.

The worker reads the sources itself (nothing is spooled for it), feeds the backend pieces of
exactly `FEED` bytes (so a payload never depends on how the input was read), and measures the
stream's identity on the way (`Meter`: sha256, bytes, UTF-8 characters). The payload goes to an
anonymous temporary file, the encoder is released, and verification decodes the payload as a
stream and compares the decoded bytes' sha256 and length with the input's: the input is not
read a second time unless they differ, to say where. Memory is the codec's own state plus a few
pieces, whatever the size.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from kbound.backends.base import Backend
from kbound.backends.decoder import measure
from kbound.backends.stream import FEED
from kbound.dedup.chunking import Chunking
from kbound.dedup.encode import Splitter, check_walk, merged
from kbound.dedup.index import DUP, TARGET, Indexer
from kbound.dedup.recipe import shard_payload
from kbound.errors import CorpusError, RoundTripError
from kbound.run.outcome import failure_text
from kbound.sources.stream import CorpusStream, Meter, Selection

#: Payload bytes read per step of verification: small, since each expands several-fold on the way out.
PAYLOAD_STEP = 1 << 18


@dataclass(frozen=True)
class Task:
    """One backend on one selection of the corpus (the whole corpus, a shard, a sample)."""

    backend: Backend
    selection: Selection
    #: Bytes the selection is expected to hold (exact for plain files, else estimated): memory, order, progress.
    size: int
    #: How messages name the task ("shard 3 of 16"), empty for a whole corpus.
    label: str = ""
    #: Measure the decoder here (False for shards and Dask tasks: the client measures it once).
    measure_decoder: bool = True
    #: Also index the shard's chunks while reading it (pass 1 of the duplicate stage).
    index: IndexRequest | None = None
    #: Code the shard with references to repeated chunks (the duplicate stage's rows).
    dedup: DedupInput | None = None


@dataclass(frozen=True)
class IndexRequest:
    """Pass 1 on a task's shard: how to chunk, which shard it is, into how many partitions."""

    chunking: Chunking
    shard: int
    partitions: int


@dataclass(frozen=True)
class DedupInput:
    """What a shard needs to be coded with references: its entries of every index partition, and where shards start.

    `dups` and `targets` are lists of per-partition arrays. A call carries them beside the task
    (`split_task`), so that the executor loads them where the task runs.
    """

    chunking: Chunking
    dups: list[Any]
    targets: list[Any]
    starts: Any
    shard: int


Progress = Callable[[int, int], None]


def pieces_of(chunks: Iterable[bytes], size: int = FEED) -> Iterator[bytes]:
    """Re-cut a stream into pieces of exactly `size` bytes (the last may be shorter)."""
    buf = bytearray()
    for chunk in chunks:
        if not buf and len(chunk) == size:
            yield chunk
            continue
        buf += chunk
        while len(buf) >= size:
            yield bytes(buf[:size])
            del buf[:size]
    if buf:
        yield bytes(buf)


def run_task(
    task: Task, *, verify: bool = True, cache_root: str | None = None, write_cache: bool = True,
    report: Progress | None = None, limit: int | None = None,
) -> dict[str, Any]:
    """Run one task; return the fields of an `Outcome` (without the backend), plus `fatal` for unreadable input.

    A library error or a wrong round trip is that backend's `error`; input that cannot be read
    (or passes `limit`, the --max-bytes) is `fatal`: the run must stop, since every backend would
    be measuring less than the corpus. A task with `index` returns {"fields": those fields, and
    the shard's index records by key}.
    """
    result: dict[str, Any] = {}
    tell = report or (lambda done, total: None)
    backend = task.backend
    indexer = None
    try:
        # TemporaryFile has no name on Linux: nothing is left behind however the worker ends.
        with tempfile.TemporaryFile(prefix="kbound-payload-") as payload:
            stream = CorpusStream(task.selection)
            meter = Meter(limit)
            disk_total = task.selection.disk_bytes()
            coder = backend.compressor()
            splitter = None
            t0 = time.perf_counter()
            if task.dedup is not None:
                d = task.dedup
                starts = d.starts
                splitter = Splitter(d.chunking, merged(d.dups, DUP), starts, int(starts[d.shard]))
                chunks: Iterable[bytes] = splitter.literals(_metered(stream.marked(), meter))
                literal_meter: Meter | None = Meter(None, chars=False)
            elif task.index is not None:
                indexer = Indexer(task.index.chunking, task.index.shard, task.index.partitions)
                chunks = _indexed(_metered(stream.marked(), meter), indexer)
                literal_meter = None
            else:
                chunks = _metered_bytes(stream, meter)
                literal_meter = None
            for piece in pieces_of(chunks):
                if literal_meter is not None:
                    literal_meter.update(piece)
                payload.write(coder.process(piece))
                tell(meter.bytes, _expected(meter.bytes, stream.disk_bytes, disk_total, task.size) * (1 + verify))
            stats = meter.finish(stream.documents)
            result["stats"] = stats
            payload.write(coder.finish())
            _patch(coder, payload)
            result["compress_seconds"] = time.perf_counter() - t0
            del coder  # the encoder's state (xz's match finder, ppmd's model) goes before the decoder's comes
            recipe = splitter.recipe() if splitter is not None else None
            result["payload_bytes"] = payload.tell() if recipe is None else shard_payload(recipe, payload.tell())
            if task.measure_decoder:
                result["decoder"] = measure(backend, cache_root, write_cache=write_cache)
            if verify:
                t0 = time.perf_counter()
                if splitter is not None:
                    assert recipe is not None and literal_meter is not None and task.dedup is not None
                    targets = merged(task.dedup.targets, TARGET)
                    check_walk(recipe, decoded(backend, payload), targets, splitter.start, stats.bytes,
                               splitter.refs, literal_meter.finish(0).sha256)
                else:
                    _verify(backend, payload, stats.bytes, stats.sha256,
                            lambda n: tell(stats.bytes + n, 2 * stats.bytes))
                result["decompress_seconds"] = time.perf_counter() - t0
                result["verified"] = True
    except CorpusError as e:
        result["fatal"] = str(e)
    except RoundTripError as e:
        result["error"] = e.args[0] if task.dedup is not None else _where(backend, task.selection, str(e))
    except Exception as e:  # a library's own error: report it as this row's failure
        result["error"] = failure_text(e)
    if task.index is None:
        return result
    return {"fields": result, **(indexer.finish() if indexer is not None and "fatal" not in result
                                 and "error" not in result else {})}


def split_task(task: Task) -> tuple[Task, list[Any], list[Any]]:
    """A task without its per-partition arrays, and the arrays: what a call passes (handles load as arguments)."""
    if task.dedup is None:
        return task, [], []
    d = task.dedup
    return dataclasses.replace(task, dedup=dataclasses.replace(d, dups=[], targets=[])), d.dups, d.targets


def joined_task(task: Task, dups: list[Any], targets: list[Any]) -> Task:
    """The inverse of `split_task`, in the worker."""
    if task.dedup is None:
        return task
    return dataclasses.replace(task, dedup=dataclasses.replace(task.dedup, dups=dups, targets=targets))


def _metered_bytes(stream: Iterable[bytes], meter: Meter) -> Iterator[bytes]:
    for chunk in stream:
        meter.update(chunk)
        yield chunk


class _Batched:
    """Hands a `Meter` about a `FEED` of bytes at a time: a document's pieces are too small to send one by one."""

    def __init__(self, meter: Meter) -> None:
        self.meter, self._size = meter, 0
        self._parts: list[bytes] = []

    def add(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)
        if self._size >= FEED:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            self.meter.update(b"".join(self._parts))
            self._parts, self._size = [], 0


def _metered(pieces: Iterable[tuple[bytes, int]], meter: Meter) -> Iterator[tuple[bytes, int]]:
    batch = _Batched(meter)
    for data, kind in pieces:
        batch.add(data)
        yield data, kind
    batch.flush()


def _indexed(pieces: Iterable[tuple[bytes, int]], indexer: Indexer) -> Iterator[bytes]:
    for data, kind in pieces:
        indexer.feed(data, kind)
        yield data


def _expected(done: int, disk_done: int, disk_total: int, size: int) -> int:
    """The stream's expected size: its bytes so far scaled by how much of the files on disk they took."""
    if disk_done > 0 and disk_total > 0:
        return max(done, round(done * disk_total / disk_done))
    return max(done, size)


def decoded(backend: Backend, payload: BinaryIO) -> Iterator[bytes]:
    """Decode a payload file as a stream, in bounded pieces where the backend's decoder offers them."""
    decoder = backend.decompressor()
    split = getattr(decoder, "pieces", None)
    payload.seek(0)
    for step in iter(lambda: payload.read(PAYLOAD_STEP), b""):
        if split is not None:
            yield from split(step)
        else:
            yield decoder.process(step)
    yield decoder.finish()


def _verify(backend: Backend, payload: BinaryIO, size: int, sha256: str, tell: Callable[[int], None]) -> None:
    """Decode the payload, hash what comes out, and compare it with the input's length and sha256."""
    meter = Meter(None, chars=False)
    for out in decoded(backend, payload):
        if out:
            meter.update(out)
            tell(min(meter.bytes, size))
    got = meter.finish(0)
    if got.bytes != size or got.sha256 != sha256:
        raise RoundTripError(f"round trip failed: decoder returned {got.bytes:,} of {size:,} bytes")


def _where(backend: Backend, selection: Selection, message: str) -> str:
    """Say where a failed round trip first went wrong, by coding the input again beside a fresh decoding."""
    try:
        with tempfile.TemporaryFile(prefix="kbound-payload-") as payload:
            _encode(backend, CorpusStream(selection), payload)
            return f"{message}; {first_difference(CorpusStream(selection), decoded(backend, payload))}"
    except Exception:  # the diagnosis is a courtesy: the failure stands either way
        return message


def _encode(backend: Backend, chunks: Iterable[bytes], payload: BinaryIO) -> None:
    coder = backend.compressor()
    for piece in pieces_of(chunks):
        payload.write(coder.process(piece))
    payload.write(coder.finish())
    _patch(coder, payload)


def _patch(coder: Any, payload: BinaryIO) -> None:
    """Apply a compressor's late header bytes (a length known only at the end), if it has any."""
    patch = getattr(coder, "patch", None)
    if patch is not None:
        offset, value = patch()
        payload.seek(offset)
        payload.write(value)
        payload.seek(0, os.SEEK_END)


def first_difference(want: Iterable[bytes], got: Iterable[bytes]) -> str:
    """Where two byte streams first differ, in words."""
    a, b = iter(want), iter(got)
    x, y, pos = b"", b"", 0
    while True:
        while not x and (nx := next(a, None)) is not None:
            x = nx
        while not y and (ny := next(b, None)) is not None:
            y = ny
        if not x or not y:
            if not x and not y:
                return "the bytes are the same (the failure did not repeat)"
            return "the bytes it returned are right" if x else "then extra bytes"
        n = min(len(x), len(y))
        if x[:n] != y[:n]:
            i = next(i for i in range(n) if x[i] != y[i])
            return f"first wrong byte at {pos + i:,}"
        pos, x, y = pos + n, x[n:], y[n:]
