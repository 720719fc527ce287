"""Coding one shard with its references, and checking the round trip, in bounded memory.

`Splitter` walks the shard's chunks (the same chunking as pass 1): a chunk the index lists as a
repeat becomes a reference in the recipe, after its name is checked against the index (the
input has not changed since it was indexed); every other chunk is literal and goes on to the
codec. `check_walk` is the verifier: it walks the recipe as the decoder does
(`kbound.dedup.recipe.ops`) over the literal bytes the codec decoded, and checks
  - every reference the recipe names is the one the encoder meant (position, target, length);
  - every first occurrence that a later chunk names, as the decoder places it, has decoded bytes
    whose BLAKE2b name is the one the index gave it, so each reference resolves to bytes equal to
    the chunk it replaced (whose name the splitter checked on the input);
  - the decoded literals are all used, and the output is as long as the input.
Together with the codec's round trip (the literals' sha256), that is the shard's round trip
checked end to end, without holding earlier output: a reference is checked against the bytes it
names through their names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

import numpy as np

from kbound.dedup.chunking import HASH_BYTES, Chunker, Chunking, chunk_name
from kbound.dedup.delta import cover
from kbound.dedup.index import DUP, TARGET
from kbound.dedup.recipe import RecipeWriter, ops
from kbound.errors import CorpusError, RoundTripError
from kbound.sources.stream import DOCUMENT


def _name(h0: int, h1: int) -> bytes:
    return int(h0).to_bytes(8, "little") + int(h1).to_bytes(8, "little")


def merged(parts: Iterable[np.ndarray], dtype: np.dtype) -> np.ndarray:
    """One shard's records from every partition, in chunk order."""
    arrays = [a for a in parts if len(a)]
    if not arrays:
        return np.empty(0, dtype=dtype)
    out = np.concatenate(arrays)
    return out[np.argsort(out["ordinal"], kind="stable")]


class Splitter:
    """Turns a shard's (bytes, kind) pieces into literal chunks for the codec and a recipe.

    `starts[t]` is shard t's first byte in the corpus; `start` this shard's.
    """

    def __init__(self, chunking: Chunking, dups: np.ndarray, starts: np.ndarray, start: int,
                 targets: np.ndarray | None = None, gaps: dict[int, list[tuple[int, int, bytes]]] | None = None
                 ) -> None:
        assert dups.dtype == DUP
        self.chunking, self.dups, self.starts, self.start = chunking, dups, starts, start
        self.writer = RecipeWriter()
        self.chunks = 0
        self.bytes = 0
        self._next = 0  # the next entry of `dups` to meet
        # Near copies (`kbound.dedup.delta`): the windows of each gap, and the chunks later shards name (literal).
        self._gaps = gaps or {}
        self._named = set(targets["ordinal"].tolist()) if targets is not None and self._gaps else set()
        self._gap: tuple[int, list[tuple[int, int, bytes]]] | None = None  # (end, windows) of the gap being read
        self._held = bytearray()  # its bytes since the last flush
        self._held_at = 0  # where they start in the shard
        self._held_from_start = False

    def literals(self, pieces: Iterable[tuple[bytes, int]]) -> Iterator[bytes]:
        """The literal chunks, in order (the recipe is complete once this is exhausted)."""
        chunker = Chunker(self.chunking)
        for data, kind in pieces:
            yield from self._walk(chunker.feed(data, kind == DOCUMENT))
        yield from self._walk(chunker.finish())
        yield from self._flush(at_end=True)
        if self._next < len(self.dups):  # a repeat the index listed was never met
            raise CorpusError("the input changed since it was indexed: fewer chunks than before")

    def _walk(self, chunks: list[memoryview]) -> Iterator[bytes]:
        dups, k = self.dups, self._next
        for c in chunks:
            if k < len(dups) and int(dups["ordinal"][k]) == self.chunks:
                yield from self._flush(at_end=True)
                d = dups[k]
                if chunk_name(c) != _name(d["h0"], d["h1"]):
                    raise CorpusError(f"the input changed since it was indexed (chunk at byte {self.bytes:,})")
                target = int(self.starts[int(d["target_shard"])]) + int(d["target_offset"])
                self.writer.reference(target, len(c), self.start + self.bytes)
                k += 1
            else:
                if self._gap is None and self.bytes in self._gaps:
                    self._gap, self._held_from_start = (self._gap_end(k), self._gaps[self.bytes]), True
                if self._gap is not None and self.chunks not in self._named:
                    if not self._held:
                        self._held_at = self.bytes
                    self._held += c
                else:
                    yield from self._flush(at_end=False)
                    self.writer.literal(len(c))
                    yield bytes(c)
            self.chunks += 1
            self.bytes += len(c)
            if self._gap is not None and self.bytes >= self._gap[0]:
                yield from self._flush(at_end=True)
        self._next = k

    def _gap_end(self, k: int) -> int:
        """Where the gap starting here ends: at the next reference, or the shard's end."""
        return int(self.dups["offset"][k]) if k < len(self.dups) else 1 << 62

    def _flush(self, at_end: bool) -> Iterator[bytes]:
        """Code the gap bytes held since the last flush: references into its windows, literal bytes between."""
        if self._gap is None:
            return
        data, at = bytes(self._held), self._held_at
        windows = self._gap[1]
        self._held = bytearray()
        if at_end:
            self._gap = None
        done = 0
        for off, n, target in cover(data, windows, self._held_from_start, at_end):
            position = self.start + at + off
            if target + n > position or off < done:
                continue  # a reference never reaches bytes it is still writing
            if off > done:
                self.writer.literal(off - done)
                yield data[done:off]
            self.writer.reference(target, n, position)
            done = off + n
        if done < len(data):
            self.writer.literal(len(data) - done)
            yield data[done:]
        self._held_from_start = False

    def recipe(self) -> bytes:
        """The recipe, once the literals have all been taken."""
        return self.writer.finish()

    @property
    def refs(self) -> list[tuple[int, int, int]]:
        """(position, target, length) of each reference as written: what the verifier expects to read back."""
        return self.writer.written


class _Literals:
    """The decoded literal stream, read n bytes at a time in the pieces it came in."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        self._it = iter(pieces)
        self._buf = b""
        self.digest = hashlib.sha256()
        self.bytes = 0

    def take(self, n: int) -> Iterator[bytes]:
        while n:
            if not self._buf:
                nxt = next(self._it, None)
                if nxt is None:
                    raise RoundTripError("round trip failed: the recipe asks for more literal bytes than were decoded")
                self._buf = nxt
                continue
            piece, self._buf = self._buf[:n], self._buf[n:]
            n -= len(piece)
            self.digest.update(piece)
            self.bytes += len(piece)
            yield piece

    def rest(self) -> int:
        left = len(self._buf)
        for piece in self._it:
            left += len(piece)
        return left


def check_walk(recipe: bytes, decoded: Iterable[bytes], targets: np.ndarray, start: int, size: int,
               refs: list[tuple[int, int, int]], literal_sha256: str) -> None:
    """Verify a shard as the decoder would rebuild it (see the module's docstring); `RoundTripError` if not."""
    assert targets.dtype == TARGET
    literals = _Literals(decoded)
    pos, r, t = 0, 0, 0
    hasher, until = None, -1
    for n, d in ops(recipe):
        if d:
            if r >= len(refs) or refs[r] != (start + pos, start + pos - d, n):
                raise RoundTripError(f"round trip failed: a reference at byte {start + pos:,} is not the one coded")
            if hasher is not None or (t < len(targets) and int(targets["offset"][t]) < pos + n
                                      and int(targets["offset"][t]) >= pos):
                raise RoundTripError(f"round trip failed: a named chunk at byte {start + pos:,} is not literal")
            r += 1
            pos += n
            continue
        for piece in literals.take(n):
            while piece:
                if hasher is None and t < len(targets) and int(targets["offset"][t]) < pos + len(piece):
                    skip = int(targets["offset"][t]) - pos
                    if skip < 0:
                        raise RoundTripError(f"round trip failed: a named chunk at byte {start + pos:,} is not literal")
                    pos, piece = pos + skip, piece[skip:]
                    hasher, until = hashlib.blake2b(digest_size=HASH_BYTES), pos + int(targets["length"][t])
                if hasher is None:
                    pos += len(piece)
                    break
                part = piece[: until - pos]
                hasher.update(part)
                pos, piece = pos + len(part), piece[len(part):]
                if pos == until:
                    if hasher.digest() != _name(targets["h0"][t], targets["h1"][t]):
                        raise RoundTripError(f"round trip failed: the chunk at byte {start + until - len(part):,} "
                                             "decodes to other bytes than the ones later chunks name")
                    hasher, t = None, t + 1
    if hasher is not None or t < len(targets) or r < len(refs):
        raise RoundTripError("round trip failed: the recipe ended before every named chunk and reference")
    if pos != size:
        raise RoundTripError(f"round trip failed: the recipe rebuilds {pos:,} of {size:,} bytes")
    if literals.rest():
        raise RoundTripError("round trip failed: decoded literal bytes left over after the recipe")
    if literals.digest.hexdigest() != literal_sha256:
        raise RoundTripError("round trip failed: the decoded literals differ from the ones coded")
