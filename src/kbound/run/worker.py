"""One task in a worker: stream a selection of the corpus through a backend, then verify the payload.

The worker reads the sources itself (nothing is spooled for it), feeds the backend pieces of
exactly `FEED` bytes (so a payload never depends on how the input was read), and measures the
stream's identity on the way (`Meter`: sha256, bytes, UTF-8 characters). Where the backend's
card says `inline` (raw and the dictionary coders), the decoder consumes each piece of payload
as it is produced and nothing is written: scratch disk is nil whatever the corpus. Otherwise
(the symmetric models, whose decoder is as big as their encoder) the payload goes to an
anonymous temporary file, the encoder is released, and the payload is decoded as a stream.
Either way the decoded bytes' sha256 and length are compared with the input's: the input is
not read a second time unless they differ, to say where. Memory is the codec's own state plus
a few pieces, whatever the size.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from kbound.backends.base import Backend
from kbound.backends.decoder import measure
from kbound.backends.registry import verifies_inline
from kbound.backends.stream import FEED
from kbound.dedup.chunking import Chunking
from kbound.dedup.delta import by_gap
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
    #: `raw` backends coded beside this one from the same read (see `kbound.run.engine`); their rows
    #: come back under "riders", one dict of fields each.
    riders: tuple[Backend, ...] = ()


@dataclass(frozen=True)
class IndexRequest:
    """Pass 1 on a task's shard: how to chunk, which shard it is, into how many partitions, and its source
    (or, with `labelled`, each document's source by its `--source-field` name)."""

    chunking: Chunking
    shard: int
    partitions: int
    source: int = 0
    labelled: bool = False


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
    #: The windows its near-copy gaps asked for (`kbound.dedup.delta.Windows`, one per shard that holds some).
    windows: list[Any] = dataclasses.field(default_factory=list)


Progress = Callable[[int, int], None]


class Prefetch:
    """Iterate `items` on a helper thread, `depth` ahead: reading the sources (decompressing, parsing,
    hashing) overlaps coding, whose libraries release the GIL. An error in the reading is raised here, in
    order; leaving the `with` block early stops the helper."""

    _END = object()

    def __init__(self, items: Iterable[bytes], depth: int = 4) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, args=(iter(items),), name="kbound-read", daemon=True)

    def _fill(self, items: Iterator[bytes]) -> None:
        try:
            for item in items:
                if not self._put(item):
                    return
            self._put(self._END)
        except BaseException as e:  # handed to the consumer, which raises it
            self._put(_Raised(e))

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __enter__(self) -> Iterator[bytes]:
        self._thread.start()
        return self._items()

    def _items(self) -> Iterator[bytes]:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if isinstance(item, _Raised):
                raise item.error
            yield item

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True)
class _Raised:
    error: BaseException


def pieces_of(chunks: Iterable[bytes], size: int = FEED) -> Iterator[bytes]:
    """Re-cut a stream into pieces of exactly `size` bytes (the last may be shorter)."""
    buf = bytearray()
    for chunk in chunks:
        if not buf and len(chunk) >= size:
            # A long document is cut without first being copied whole into the buffer.
            whole = len(chunk) - len(chunk) % size
            for i in range(0, whole, size):
                yield chunk if whole == len(chunk) == size else chunk[i : i + size]
            chunk = chunk[whole:]
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
    cpu0 = _cpu_seconds()
    # Inline: the decoder takes each piece of payload as it comes, and nothing is written. Otherwise (a
    # symmetric model, a compressor that patches its header, the duplicate stage's walk, which needs the
    # recipe first) the payload goes to a TemporaryFile, which has no name on Linux: nothing is left
    # behind however the worker ends.
    inline = verify and task.dedup is None and verifies_inline(backend)
    echoes = [_Echo(r, verify) for r in task.riders]
    try:
        with contextlib.ExitStack() as stack:
            stream = CorpusStream(task.selection)
            meter = Meter(limit)
            disk_total = task.selection.disk_bytes()
            coder = backend.compressor()
            if inline and getattr(coder, "patch", None) is not None:
                inline = False
            payload: _Sink = InlineCheck(backend) if inline else _Spool(stack.enter_context(
                tempfile.TemporaryFile(prefix="kbound-payload-")))
            passes = 2 if verify and not inline else 1
            splitter = None
            t0 = time.perf_counter()
            if task.dedup is not None:
                d = task.dedup
                starts = d.starts
                gaps = by_gap(d.windows, starts) if d.windows else None
                splitter = Splitter(d.chunking, merged(d.dups, DUP), starts, int(starts[d.shard]),
                                    merged(d.targets, TARGET) if gaps else None, gaps)
                chunks: Iterable[bytes] = splitter.literals(_metered(stream.marked(), meter))
                literal_meter: Meter | None = Meter(None, chars=False)
            elif task.index is not None:
                ix = task.index
                indexer = Indexer(ix.chunking, ix.shard, ix.partitions, ix.source, ix.labelled)
                chunks = _indexed(_metered(stream.marked(), meter), indexer, stream)
                literal_meter = None
            else:
                chunks = _metered_bytes(stream, meter)
                literal_meter = None
            failed: Exception | None = None
            for piece in stack.enter_context(Prefetch(pieces_of(chunks))):
                for echo in echoes:
                    echo.feed(piece)
                if literal_meter is not None:
                    literal_meter.update(piece)
                if failed is None:
                    try:
                        payload.write(coder.process(piece))
                    except Exception as e:  # the riders still need the rest of the stream
                        if not echoes:
                            raise
                        failed = e
                tell(meter.bytes, _expected(meter.bytes, stream.disk_bytes, disk_total, task.size) * passes)
            stats = meter.finish(stream.documents)
            result["stats"] = stats
            for echo in echoes:
                echo.finish()
            if failed is not None:
                raise failed
            payload.write(coder.finish())
            if isinstance(payload, _Spool):
                _patch(coder, payload.file)
            del coder  # the encoder's state (xz's match finder, ppmd's model) goes before the decoder's comes
            if isinstance(payload, InlineCheck):
                payload.check(stats.bytes, stats.sha256)
            result["compress_seconds"] = (time.perf_counter() - t0 - payload.decode_seconds
                                          - sum(e.compress_seconds + e.decompress_seconds for e in echoes))
            recipe = splitter.recipe() if splitter is not None else None
            result["payload_bytes"] = payload.size if recipe is None else shard_payload(recipe, payload.size)
            if task.measure_decoder:
                result["decoder"] = measure(backend, cache_root, write_cache=write_cache)
            if isinstance(payload, InlineCheck):
                result["decompress_seconds"] = payload.decode_seconds
                result["verified"] = True
            elif verify:
                assert isinstance(payload, _Spool)
                t0 = time.perf_counter()
                if splitter is not None:
                    assert recipe is not None and literal_meter is not None and task.dedup is not None
                    targets = merged(task.dedup.targets, TARGET)
                    check_walk(recipe, decoded(backend, payload.file), targets, splitter.start, stats.bytes,
                               splitter.refs, literal_meter.finish(0).sha256)
                else:
                    _verify(backend, payload.file, stats.bytes, stats.sha256,
                            lambda n: tell(stats.bytes + n, 2 * stats.bytes))
                result["decompress_seconds"] = time.perf_counter() - t0
                result["verified"] = True
            ridden = sum(e.cpu_seconds for e in echoes)  # the riders' own coding, charged to their rows
            result["cpu_seconds"] = _cpu_seconds() - cpu0 - ridden
    except CorpusError as e:
        result["fatal"] = str(e)
    except RoundTripError as e:
        result["error"] = e.args[0] if task.dedup is not None else _where(backend, task.selection, str(e))
    except Exception as e:  # a library's own error: report it as this row's failure
        result["error"] = failure_text(e)
    if echoes and "fatal" not in result:
        result["riders"] = [e.fields(result.get("stats"), task.measure_decoder, cache_root, write_cache)
                            for e in echoes]
    if task.index is None:
        return result
    # The index needs the whole stream read (a host whose codec failed still read it for its riders).
    whole = "fatal" not in result and ("error" not in result or (echoes and "stats" in result))
    return {"fields": result, **(indexer.finish() if indexer is not None and whole else {})}


class _Sink(Protocol):
    """Where a task's payload goes as it is produced."""

    size: int
    decode_seconds: float

    def write(self, data: bytes) -> None: ...


class _Spool:
    """The payload in an anonymous temporary file, decoded once the encoder is gone."""

    def __init__(self, file: BinaryIO) -> None:
        self.file, self.size, self.decode_seconds = file, 0, 0.0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.size += len(data)


class InlineCheck:
    """Verification as the payload is produced: each piece goes straight to the decoder, whose output is hashed.

    The decoder can never be ahead of the encoder, so what it holds is its own state and what the
    encoder had buffered; nothing is written anywhere, and the input is not read again unless the
    hashes differ (then `_where` codes it once more to name the first wrong byte).
    """

    def __init__(self, backend: Backend) -> None:
        self._decoder = backend.decompressor()
        self._split = getattr(self._decoder, "pieces", None)
        self._meter = Meter(None, chars=False)
        self.size, self.decode_seconds = 0, 0.0

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        t0 = time.perf_counter()
        for out in self._split(data) if self._split is not None else (self._decoder.process(data),):
            if out:
                self._meter.update(out)
        self.decode_seconds += time.perf_counter() - t0

    def check(self, size: int, sha256: str) -> None:
        """Finish decoding and compare the decoded bytes' length and sha256 with the input's."""
        t0 = time.perf_counter()
        tail = self._decoder.finish()
        if tail:
            self._meter.update(tail)
        got = self._meter.finish(0)
        self.decode_seconds += time.perf_counter() - t0
        if got.bytes != size or got.sha256 != sha256:
            raise RoundTripError(f"round trip failed: decoder returned {got.bytes:,} of {size:,} bytes")


class _Echo:
    """A `raw` row coded beside another backend from the same read of the corpus.

    raw's decoder gives back each piece whole as soon as its coded form is fed in, so verification
    compares that with the piece itself: no hash, no file, and the first wrong byte is known at once.
    """

    def __init__(self, backend: Backend, verify: bool) -> None:
        if backend.name != "raw":
            raise ValueError(f"only raw rides on another task, not {backend.spec}")
        self.backend, self.verify = backend, verify
        self._coder, self._decoder = backend.compressor(), backend.decompressor()
        self.size, self.pos = 0, 0
        self.error: str | None = None
        self.compress_seconds = self.decompress_seconds = 0.0
        self.cpu_seconds = 0.0

    def feed(self, piece: bytes) -> None:
        if self.error is not None:
            return
        c0, t0 = time.thread_time(), time.perf_counter()
        try:
            out = self._coder.process(piece)
            self.size += len(out)
            t1 = time.perf_counter()
            self.compress_seconds += t1 - t0
            if self.verify:
                back = self._decoder.process(out)
                if back != piece:
                    raise RoundTripError(f"round trip failed: decoder returned {len(back):,} bytes for a piece of "
                                         f"{len(piece):,}; {first_difference([piece], [back], self.pos)}")
                self.decompress_seconds += time.perf_counter() - t1
        except Exception as e:
            self.error = e.args[0] if isinstance(e, RoundTripError) else failure_text(e)
        self.pos += len(piece)
        self.cpu_seconds += time.thread_time() - c0

    def finish(self) -> None:
        if self.error is not None:
            return
        try:
            out = self._coder.finish()
            self.size += len(out)
            if self.verify and self._decoder.process(out) + self._decoder.finish():
                raise RoundTripError("round trip failed: the decoder returned bytes after the end")
        except Exception as e:
            self.error = e.args[0] if isinstance(e, RoundTripError) else failure_text(e)

    def fields(self, stats: Any, measure_decoder: bool, cache_root: str | None, write_cache: bool) -> dict[str, Any]:
        """The rider's row, as `run_task` returns a task's (its CPU: its own coding and decoding only)."""
        if self.error is not None or stats is None:
            return {"error": self.error or "not run: the task it rode on stopped"}
        fields: dict[str, Any] = {"stats": stats, "payload_bytes": self.size, "compress_seconds": self.compress_seconds,
                                  "cpu_seconds": self.cpu_seconds}
        if measure_decoder:
            fields["decoder"] = measure(self.backend, cache_root, write_cache=write_cache)
        if self.verify:
            fields["decompress_seconds"], fields["verified"] = self.decompress_seconds, True
        return fields


def _cpu_seconds() -> float:
    """User and system CPU seconds of this process so far (every thread: the meters' and the libraries' too)."""
    t = os.times()
    return t.user + t.system


def split_task(task: Task) -> tuple[Task, list[list[Any]]]:
    """A task without its arrays and windows, and those: what a call passes (handles load as arguments)."""
    if task.dedup is None:
        return task, []
    d = task.dedup
    return dataclasses.replace(task, dedup=dataclasses.replace(d, dups=[], targets=[], windows=[])), \
        [d.dups, d.targets, d.windows]


def joined_task(task: Task, arrays: list[list[Any]]) -> Task:
    """The inverse of `split_task`, in the worker."""
    if task.dedup is None:
        return task
    dups, targets, windows = arrays
    return dataclasses.replace(task, dedup=dataclasses.replace(task.dedup, dups=dups, targets=targets,
                                                               windows=windows))


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


def _indexed(pieces: Iterable[tuple[bytes, int]], indexer: Indexer, stream: CorpusStream) -> Iterator[bytes]:
    for data, kind in pieces:
        indexer.feed(data, kind, stream.label)  # the stream's label is the document it yielded last
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
        if verifies_inline(backend):
            return f"{message}; {first_difference(CorpusStream(selection), _recoded(backend, selection))}"
        with tempfile.TemporaryFile(prefix="kbound-payload-") as payload:
            _encode(backend, CorpusStream(selection), payload)
            return f"{message}; {first_difference(CorpusStream(selection), decoded(backend, payload))}"
    except Exception:  # the diagnosis is a courtesy: the failure stands either way
        return message


def _recoded(backend: Backend, selection: Selection) -> Iterator[bytes]:
    """The selection coded and decoded again, piece by piece, with nothing written (for `_where`)."""
    coder, decoder = backend.compressor(), backend.decompressor()
    for piece in pieces_of(CorpusStream(selection)):
        yield decoder.process(coder.process(piece))
    yield decoder.process(coder.finish())
    yield decoder.finish()


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


def first_difference(want: Iterable[bytes], got: Iterable[bytes], start: int = 0) -> str:
    """Where two byte streams first differ (counting from `start`), in words."""
    a, b = iter(want), iter(got)
    x, y, pos = b"", b"", start
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
