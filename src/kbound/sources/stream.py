"""The corpus stream: documents joined by the separator, in input order, and what a task reads of it.

A `Selection` names a part of the stream small enough to pickle: pieces of sources, the
separator, and optionally a byte window (a prefix, a half shard) or a seeded document sample.
`CorpusStream` reads a selection from the sources themselves, chunk by chunk; `Meter`
computes its identity (sha256, bytes, UTF-8 characters) as it passes, so nothing is read twice
to know what was measured.
"""

from __future__ import annotations

import bisect
import codecs
import hashlib
import json
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from kbound.errors import CorpusError
from kbound.sources.documents import Pieces
from kbound.sources.inputs import Source

#: Joins documents. ASCII Record Separator: one byte, valid UTF-8, almost never in text,
#: so the documents can be split apart again and the bound covers the collection.
DEFAULT_SEPARATOR = b"\x1e"
#: Bytes whose characters `Meter` counts at a time (the str that decoding makes is at most 4x this).
COUNT_STEP = 1 << 16
#: Kinds of the pieces `CorpusStream.marked` yields.
DOCUMENT, MORE, SEPARATOR = 0, 1, 2


@dataclass(frozen=True)
class Piece:
    """A source, or a range of it: bytes of a text file, lines starting in a byte range of a JSON-lines file,
    row groups of a Parquet file; `stop` None reads to the end."""

    source: Source
    start: int = 0
    stop: int | None = None


def document_hash(seed: int, index: int) -> int:
    """A fixed, well-mixed 64-bit hash of (seed, document index): splitmix64, with no table of the documents."""
    z = (seed * 0x9E3779B97F4A7C15 + (index + 1) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


@dataclass(frozen=True)
class Sampling:
    """A seeded random subset of the documents: document i is in when `document_hash(seed, i) <= threshold`.

    Samples with the same seed are nested: a larger threshold keeps every document a smaller one kept.
    A stratified sample has a threshold per stratum instead: `strata` lists (first document index,
    threshold) in order, and a document takes the threshold of the stratum it falls in.
    """

    seed: int
    threshold: int
    strata: tuple[tuple[int, int], ...] = ()

    def keeps(self, index: int) -> bool:
        """Whether document `index` (counted from the start of the selection) is in the sample."""
        threshold = self.threshold
        if self.strata:
            k = bisect.bisect_right(self.strata, index, key=lambda s: s[0]) - 1
            threshold = self.strata[max(k, 0)][1]
        return document_hash(self.seed, index) <= threshold


@dataclass(frozen=True)
class Selection:
    """What one task reads: pieces joined by `separator`, then optionally a window and a sample of that stream."""

    pieces: tuple[Piece, ...]
    separator: bytes = DEFAULT_SEPARATOR
    #: More of the corpus follows and starts a new document: the selection ends with the separator,
    #: so that the shards of a corpus, concatenated, are the corpus.
    end_separator: bool = False
    #: (first byte, length or None): a prefix, or a part of a shard.
    window: tuple[int, int | None] | None = None
    sample: Sampling | None = None

    def fingerprint(self) -> str | None:
        """What identifies this selection's bytes without reading them (sources' stamps and every setting).

        None when a source has no stamp (a spooled stream): its bytes cannot be recalled by name.
        """
        if any(not p.source.stamp for p in self.pieces):
            return None
        doc = {
            "v": 1,
            "pieces": [[p.source.url, p.source.fmt, p.source.field, p.source.compression, p.source.stamp, p.start,
                        p.stop] for p in self.pieces],
            "separator": self.separator.hex(),
            "end_separator": self.end_separator,
            "window": self.window,
            "sample": None if self.sample is None else [self.sample.seed, self.sample.threshold,
                                                         *([list(map(list, self.sample.strata))]
                                                           if self.sample.strata else [])],
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()

    def disk_bytes(self) -> int:
        """The on-disk size of the sources this selection reads (whole files; a guide for progress)."""
        seen: dict[str, int] = {}
        for p in self.pieces:
            seen[p.source.url] = p.source.size_on_disk or 0
        return sum(seen.values())


class CorpusStream:
    """Iterate a selection's bytes; afterwards `documents` is how many documents started in it."""

    def __init__(self, selection: Selection) -> None:
        self.selection = selection
        self.documents = 0
        #: With `--source-field`, the source name of the document `marked` began last (None: absent).
        self.label: str | None = None
        self._read: list[Pieces] = []

    @property
    def disk_bytes(self) -> int:
        """Bytes read from the sources on disk so far (for progress: known in advance, unlike text bytes)."""
        return sum(p.disk_bytes for p in self._read)

    def __iter__(self) -> Iterator[bytes]:
        chunks = self._joined()
        window = self.selection.window
        return chunks if window is None else _window(chunks, window[0], window[1])

    def _joined(self) -> Iterator[bytes]:
        for data, _ in self._marked(granular=self.selection.sample is not None):
            yield data

    def marked(self) -> Iterator[tuple[bytes, int]]:
        """The stream as (bytes, kind): `DOCUMENT` starts a document, `MORE` continues one, `SEPARATOR` joins two.

        Joined, the bytes are the stream (no window: the duplicate stage reads whole shards).
        """
        if self.selection.window is not None:
            raise ValueError("a windowed selection has no document marks")
        return self._marked(granular=True)

    def _marked(self, granular: bool) -> Iterator[tuple[bytes, int]]:
        sel = self.selection
        sep, sample = sel.separator, sel.sample
        first, index, keep = True, 0, True
        for piece in sel.pieces:
            pieces = Pieces(piece.source, piece.start, piece.stop, sep, granular=granular)
            self._read.append(pieces)
            for item in pieces.items():
                if sample is not None:
                    if item.starts:
                        keep = sample.keeps(index)
                        index += 1
                    if not keep:
                        continue
                if item.starts and not first:
                    yield sep, SEPARATOR
                first = False
                self.documents += item.docs
                if item.starts:
                    self.label = item.label
                if item.data or item.starts:
                    yield item.data, DOCUMENT if item.starts else MORE
        if sel.end_separator and not first:
            yield sep, SEPARATOR


def document_lengths(selection: Selection) -> Iterator[int]:
    """The length in bytes of each document of a selection's pieces, in order (no window, no sample)."""
    current: int | None = None
    for piece in selection.pieces:
        for item in Pieces(piece.source, piece.start, piece.stop, selection.separator, granular=True).items():
            if item.starts:
                if current is not None:
                    yield current
                current = 0
            current = (current or 0) + len(item.data)
    if current is not None:
        yield current


def _window(chunks: Iterator[bytes], start: int, length: int | None) -> Iterator[bytes]:
    skip, left = start, length
    for chunk in chunks:
        if skip:
            if len(chunk) <= skip:
                skip -= len(chunk)
                continue
            chunk, skip = chunk[skip:], 0
        if left is not None:
            if len(chunk) >= left:
                if left:
                    yield chunk[:left]
                return
            left -= len(chunk)
        yield chunk


@dataclass(frozen=True)
class StreamStats:
    """What was read: its size, sha256, UTF-8 characters (None with the reason when not valid UTF-8), documents."""

    bytes: int
    sha256: str
    chars: int | None
    chars_reason: str | None
    documents: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields (for the result cache)."""
        return {"bytes": self.bytes, "sha256": self.sha256, "chars": self.chars, "chars_reason": self.chars_reason,
                "documents": self.documents}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> StreamStats:
        """Inverse of `to_dict`; ValueError/TypeError/KeyError on a malformed entry."""
        chars = d["chars"]
        reason = d["chars_reason"]
        return cls(int(d["bytes"]), str(d["sha256"]), None if chars is None else int(chars),  # type: ignore[call-overload]
                   None if reason is None else str(reason), int(d["documents"]))  # type: ignore[call-overload]


class Meter:
    """Hashes and counts bytes as they pass, on a helper thread (hashlib and the codecs release the GIL).

    `limit` is `--max-bytes`: passing it raises `CorpusError` at once, naming the limit.
    """

    def __init__(self, limit: int | None = None, *, threaded: bool = True, chars: bool = True) -> None:
        self.limit = limit
        self._count_chars = chars
        self.bytes = 0
        self._digest = hashlib.sha256()
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._chars, self._counted = 0, 0
        self._reason: str | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="kbound-meter") if threaded else None
        self._pending: deque[Future[None]] = deque()

    def update(self, chunk: bytes) -> None:
        """Account for the next chunk of the stream."""
        self.bytes += len(chunk)
        if self.limit is not None and self.bytes > self.limit:
            raise CorpusError(f"the input is larger than --max-bytes {self.limit:,} bytes; raise the limit to read it")
        if self._pool is None:
            self._absorb(chunk)
            return
        self._pending.append(self._pool.submit(self._absorb, chunk))
        while len(self._pending) > 4:
            self._pending.popleft().result()

    def _absorb(self, chunk: bytes) -> None:
        self._digest.update(chunk)
        if self._reason is None and self._count_chars:
            if not self._decoder.getstate()[0] and chunk.isascii():
                self._chars += len(chunk)
            else:
                self._count_steps(chunk)
        self._counted += len(chunk)

    def _count_steps(self, chunk: bytes) -> None:
        for at in range(0, len(chunk), COUNT_STEP):
            self._count(chunk[at : at + COUNT_STEP], self._counted + at)
            if self._reason is not None:
                return

    def _count(self, part: bytes, offset: int) -> None:
        # A step at a time: decoding a whole chunk made a str of up to 4 bytes a character (a 1 MiB
        # chunk, 4 MiB; a long document, hundreds of MiB), and glibc kept much of what this thread
        # freed. Strings of at most 4 * COUNT_STEP are reused instead.
        if not self._decoder.getstate()[0] and part.isascii():
            self._chars += len(part)
            return
        pending = len(self._decoder.getstate()[0])
        try:
            self._chars += len(self._decoder.decode(part))
        except UnicodeDecodeError as e:
            self._reason = f"not valid UTF-8 (byte {offset - pending + e.start:,}: {e.reason})"

    def finish(self, documents: int) -> StreamStats:
        """Wait for the helper thread and return the identity of everything that passed."""
        while self._pending:
            self._pending.popleft().result()
        if self._pool is not None:
            self._pool.shutdown()
        if self._reason is None:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError as e:
                self._reason = f"not valid UTF-8 (byte {self._counted - len(e.object) + e.start:,}: {e.reason})"
        chars = None if self._reason or not self._count_chars else self._chars
        return StreamStats(self.bytes, self._digest.hexdigest(), chars, self._reason, documents)


def read_selection(selection: Selection, limit: int | None = None) -> tuple[bytes, StreamStats]:
    """A selection's bytes in memory with their identity (for small corpora and tests; workers stream)."""
    stream, meter = CorpusStream(selection), Meter(limit, threaded=False)
    parts = []
    for chunk in stream:
        meter.update(chunk)
        parts.append(chunk)
    return b"".join(parts), meter.finish(stream.documents)


def scan(selection: Selection, limit: int | None = None) -> StreamStats:
    """Read a selection once, holding nothing, for its identity: size, sha256, characters, documents."""
    stream, meter = CorpusStream(selection), Meter(limit)
    for chunk in stream:
        meter.update(chunk)
    return meter.finish(stream.documents)


def check_limit(limit: int | None, size: int, what: str) -> None:
    """Refuse before reading when a known size is already past --max-bytes."""
    if limit is not None and size > limit:
        raise CorpusError(
            f"{what} is {size:,} bytes, more than --max-bytes {limit:,} bytes; raise the limit to read it"
        )
