"""The recipe: how a shard's output is put together from its literal bytes and references to earlier output.

This module is the part of a deduplicated bound's decoder that resolves references, and is
counted in it. A deduplicated payload is, per shard, `varint(len(recipe)) recipe codec-payload`,
the shards framed as every sharded payload is (`kbound.run.shards`). The codec payload decodes
to the shard's literal bytes; the recipe is a list of operations, each one LEB128 number
`2n + r`, then, for a reference (r = 1), the distance d back from the current output position:
  - r = 0: copy the next n literal bytes to the output;
  - r = 1: copy n bytes of earlier output, from d bytes back (d >= n: a reference never reaches
    bytes it is still writing).
Positions count from the start of the corpus, so a reference can name any earlier shard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kbound.backends.base import read_varint, write_varint


def ops(recipe: bytes) -> Iterator[tuple[int, int]]:
    """The operations of a recipe as (n, d): d = 0 for n literal bytes, else a reference d bytes back."""
    pos = 0
    while pos < len(recipe):
        code, pos = read_varint(recipe, pos)
        n, ref = code >> 1, code & 1
        if not ref:
            yield n, 0
            continue
        d, pos = read_varint(recipe, pos)
        if d < n or n == 0:
            raise ValueError(f"bad reference: {n} bytes from {d} back")
        yield n, d


def split(shard_payload: bytes) -> tuple[bytes, bytes]:
    """A shard's payload as (recipe, codec payload)."""
    size, pos = read_varint(shard_payload)
    if pos + size > len(shard_payload):
        raise ValueError("truncated recipe")
    return shard_payload[pos : pos + size], shard_payload[pos + size :]


def decode_shard(recipe: bytes, literals: bytes, out: bytearray) -> None:
    """Append a shard's output to `out` (everything decoded before it): literals and references, in order."""
    used = 0
    for n, d in ops(recipe):
        if d == 0:
            if used + n > len(literals):
                raise ValueError("the recipe asks for more literal bytes than the codec gave")
            out += literals[used : used + n]
            used += n
        else:
            start = len(out) - d
            if start < 0:
                raise ValueError("a reference reaches before the start of the corpus")
            out += out[start : start + n]
    if used != len(literals):
        raise ValueError("literal bytes left over after the recipe")


def decode(payload: bytes, decompress: Callable[[bytes], bytes]) -> bytes:
    """The whole corpus from a deduplicated payload; `decompress` is the codec's whole-buffer decoder."""
    count, pos = read_varint(payload)
    sizes = []
    for _ in range(count):
        size, pos = read_varint(payload, pos)
        sizes.append(size)
    out = bytearray()
    for size in sizes:
        recipe, coded = split(payload[pos : pos + size])
        decode_shard(recipe, decompress(coded), out)
        pos += size
    if pos != len(payload):
        raise ValueError("trailing bytes after the last shard")
    return bytes(out)


class RecipeWriter:
    """Builds a recipe as the encoder walks a shard: literal runs and references merged where they continue."""

    def __init__(self) -> None:
        self._out = bytearray()
        self._lit = 0
        self._ref: tuple[int, int, int] | None = None  # (position, target, length) of the reference being extended
        #: Every reference written, as (position, target, length): what a decoder must read back.
        self.written: list[tuple[int, int, int]] = []

    def literal(self, n: int) -> None:
        """The next n output bytes are literal."""
        self._close_ref()
        self._lit += n

    def reference(self, target: int, n: int, position: int) -> None:
        """The n output bytes at `position` (from the corpus start) repeat those at `target`."""
        if self._lit:
            self._out += write_varint(2 * self._lit)
            self._lit = 0
        ref = self._ref
        if ref is not None and ref[1] + ref[2] == target and ref[0] + ref[2] == position:
            self._ref = (ref[0], ref[1], ref[2] + n)
            return
        self._close_ref()
        self._ref = (position, target, n)

    def _close_ref(self) -> None:
        if self._ref is not None:
            position, target, n = self._ref
            self._out += write_varint(2 * n + 1) + write_varint(position - target)
            self.written.append(self._ref)
            self._ref = None

    def finish(self) -> bytes:
        """The recipe."""
        self._close_ref()
        if self._lit:
            self._out += write_varint(2 * self._lit)
            self._lit = 0
        return bytes(self._out)


def shard_payload(recipe: bytes, coded_size: int) -> int:
    """The size of a shard's payload: its recipe with its length, and the codec payload."""
    return len(write_varint(len(recipe))) + len(recipe) + coded_size
