"""Content-defined chunks of the corpus stream: FastCDC's gear hash with normalized chunking, and their hashes.

A chunk boundary is forced at every document start (just after each separator), so a document
that repeats an earlier one is cut into the same chunks, separator included, and a repeated
run of documents is one run of repeated chunks. Inside a document, cut points follow the
content (Xia et al., "FastCDC", USENIX ATC 2016): a 64-bit gear hash over roughly the last
64 bytes, a cut where its top bits are zero, with a harder mask before the average size and an
easier one after it (normalization level 2), never before `min_bytes` nor past `max_bytes`.
Changing a few words in a document changes only the chunks around them: the cut points
resynchronise within about one chunk.

Each chunk is named by the first 16 bytes of its BLAKE2b digest (hashlib's, a cryptographic
hash, so two different chunks with one name would be a collision found against BLAKE2b).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from kbound.backends.jit import njit

#: Bytes of a chunk's name (the truncated BLAKE2b digest).
HASH_BYTES = 16
_M64 = (1 << 64) - 1


@dataclass(frozen=True)
class Chunking:
    """The chunking parameters: every duplicate figure depends on them, so reports state them."""

    min_bytes: int = 256
    avg_bytes: int = 1024
    max_bytes: int = 8192

    def __post_init__(self) -> None:
        if not (64 <= self.min_bytes < self.avg_bytes < self.max_bytes <= 1 << 24):
            raise ValueError("chunk sizes must satisfy 64 <= min < avg < max <= 16 MiB")
        if self.avg_bytes & (self.avg_bytes - 1):
            raise ValueError("the average chunk size must be a power of two")

    @property
    def masks(self) -> tuple[int, int]:
        """The harder (before the average) and easier (after it) masks on the hash's top bits."""
        bits = self.avg_bytes.bit_length() - 1
        hard, easy = bits + 2, max(1, bits - 2)
        return (((1 << hard) - 1) << (64 - hard)), (((1 << easy) - 1) << (64 - easy))

    def describe(self) -> str:
        """The parameters in words, as reports give them."""
        return (f"FastCDC gear hash, normalized level 2, min {self.min_bytes:,} B, average {self.avg_bytes:,} B, "
                f"max {self.max_bytes:,} B, a cut at every document start; chunks named by 16-byte BLAKE2b, "
                "documents by XXH3-128")


def _gear() -> np.ndarray:
    """256 fixed pseudo-random 64-bit values (splitmix64 from seed 0): the gear table every run shares."""
    out, z = [], 0
    for _ in range(256):
        z = (z + 0x9E3779B97F4A7C15) & _M64
        x = z
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
        out.append(x ^ (x >> 31))
    return np.array(out, dtype=np.uint64)


GEAR = _gear()


@njit(cache=True)
def _cut_range(buf: np.ndarray, start: int, n: int, gear: np.ndarray, lo: int, avg: int, hi: int, hard: np.uint64,
               easy: np.uint64, final: bool, out: np.ndarray, k: int) -> int:
    """Append to `out` (from index k) the lengths of the chunks of buf[start:n]; return the new count.

    A tail that may still grow is left out unless `final` (the end of a document or of the stream).
    """
    while start < n:
        left = n - start
        if left <= lo:
            if final:
                out[k] = left
                k += 1
            break
        end = start + hi if left > hi else n
        normal = start + avg if start + avg < end else end
        h = np.uint64(0)
        i = start + lo
        cut = -1
        while i < normal:
            h = (h << np.uint64(1)) + gear[buf[i]]
            i += 1
            if h & hard == 0:
                cut = i
                break
        if cut < 0:
            while i < end:
                h = (h << np.uint64(1)) + gear[buf[i]]
                i += 1
                if h & easy == 0:
                    cut = i
                    break
        if cut < 0:
            if end - start == hi or final:
                cut = end
            else:
                break  # no cut yet, and the chunk could still grow: wait for more bytes
        out[k] = cut - start
        k += 1
        start = cut
    return k


@njit(cache=True)
def _cuts(buf: np.ndarray, bounds: np.ndarray, gear: np.ndarray, lo: int, avg: int, hi: int, hard: np.uint64,
          easy: np.uint64, final: bool) -> np.ndarray:
    """Chunk lengths of buf, cut at every forced boundary in `bounds` (ascending, first 0, last len(buf)).

    Every segment but the last ends a document; the last is final only with `final`.
    """
    out = np.empty(buf.shape[0] // lo + bounds.shape[0] + 2, dtype=np.int64)
    k = 0
    last = bounds.shape[0] - 2
    for j in range(last + 1):
        k = _cut_range(buf, bounds[j], bounds[j + 1], gear, lo, avg, hi, hard, easy, final or j < last, out, k)
    return out[:k]


class Chunker:
    """Cuts a stream, fed as (bytes, starts a document) pieces, into content-defined chunks.

    Pieces are gathered until about `BATCH` bytes wait, then cut in one kernel call (documents
    are often a few hundred bytes: a call each would cost more than the cutting). `feed` returns
    the chunks completed so far, `finish` the rest. Memory is a batch plus one chunk.
    """

    BATCH = 1 << 20

    def __init__(self, chunking: Chunking) -> None:
        self.chunking = chunking
        self._hard, self._easy = (np.uint64(m) for m in chunking.masks)
        self._parts: list[bytes] = []
        self._size = 0
        self._bounds: list[int] = [0]

    def feed(self, data: bytes, starts_document: bool) -> list[memoryview]:
        """Take the next piece; a document start ends the chunk before it.

        The chunks are views of the chunker's buffers (no copy): take `bytes()` of one to keep it.
        """
        if starts_document and self._size:
            self._bounds.append(self._size)
        if data:
            self._parts.append(data)
            self._size += len(data)
        return self._cut(False) if self._size >= self.BATCH else []

    def finish(self) -> list[memoryview]:
        """The chunks left at the end of the stream."""
        return self._cut(True) if self._size else []

    def _cut(self, final: bool) -> list[memoryview]:
        c = self.chunking
        buf = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
        bounds = np.array([*self._bounds, len(buf)], dtype=np.int64)
        lengths = _cuts(np.frombuffer(buf, dtype=np.uint8), bounds, GEAR, c.min_bytes, c.avg_bytes, c.max_bytes,
                        self._hard, self._easy, final)
        out, pos = [], 0
        view = memoryview(buf)
        for n in lengths.tolist():
            out.append(view[pos : pos + n])
            pos += n
        tail = buf[pos:]
        self._parts, self._size, self._bounds = ([tail] if tail else []), len(tail), [0]
        return out


def chunk_name(chunk: bytes | memoryview) -> bytes:
    """A chunk's 16-byte name."""
    return hashlib.blake2b(chunk, digest_size=HASH_BYTES).digest()


def chunks_of(pieces: Iterable[tuple[bytes, bool]], chunking: Chunking) -> Iterator[bytes]:
    """Every chunk of a stream given as (bytes, starts a document) pieces, in order."""
    chunker = Chunker(chunking)
    for data, starts in pieces:
        yield from map(bytes, chunker.feed(data, starts))
    yield from map(bytes, chunker.finish())
