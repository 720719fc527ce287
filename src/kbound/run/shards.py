"""Sharded runs: cut the corpus into independent shards that follow the data, and add their payloads up.

A shard is a run of whole source files of about `shard_bytes` of text, or, for a file larger
than that, a part of it: the lines (documents, for JSON lines) that start in a byte range of
the file, or a run of a Parquet file's row groups. Shards never need an index or a copy: a
worker reads its shard from the files. Concatenated, the shards' streams are the corpus
(each shard but the last ends with the separator when the next starts a new document).

A sharded bound is the sum of the shard payloads, plus the frame that says where each ends
(the shard count, then each payload's length, as LEB128), plus the decoder once. What sharding
costs is measured on a sample: the first shard as one piece against the same bytes in two.
A sharded run's identity is the sha256 of its shard manifest (each shard's size and sha256,
in order), since no single process reads the whole stream.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from kbound.backends.base import Backend, write_varint
from kbound.backends.registry import memory_bytes
from kbound.run.outcome import Outcome
from kbound.sources.corpus import Corpus
from kbound.sources.inputs import Source
from kbound.sources.sizes import parquet_groups, text_bytes
from kbound.sources.stream import Piece, Selection, StreamStats

#: The smallest --shard-size: a text file is cut at a newline up to 1 MiB past the cut point, so a
#: smaller shard would not be "about SIZE"; and each shard is a task per backend (a worker start).
MIN_SHARD_BYTES = 1 << 20



@dataclass(frozen=True)
class ShardLayout:
    """How a backend covers the corpus: its shards (one: the corpus in one piece) and their expected sizes."""

    shards: tuple[Selection, ...]
    sizes: tuple[int, ...]
    #: The first shard in two parts, whose payloads against the first shard's price sharding.
    cost_parts: tuple[Selection, ...] = ()
    shard_bytes: int | None = None
    #: With `by_group`: the group (source) of each shard, which never spans two.
    shard_groups: tuple[int, ...] = ()

    @property
    def sharded(self) -> bool:
        """True when the corpus is cut into more than one shard."""
        return len(self.shards) > 1


def whole(corpus: Corpus, size: int) -> ShardLayout:
    """The corpus as one piece."""
    return one(corpus.selection(), size)


def one(selection: Selection, size: int) -> ShardLayout:
    """A selection (a sample, a prefix, two corpora joined) as one piece."""
    return ShardLayout((selection,), (size,))


def plan_shards(corpus: Corpus, shard_bytes: int, sizes: Sequence[int] | None = None, *,
                by_group: bool = False) -> ShardLayout:
    """Cut `corpus` into shards of about `shard_bytes` of text (see the module's docstring).

    With `by_group`, a shard never holds files of two sources (`Corpus.groups`), so that what
    each source costs can be read off its shards.
    """
    if shard_bytes < 1:
        raise ValueError("the shard size must be at least one byte")
    sources = corpus.sources
    sizes = list(sizes) if sizes is not None else text_bytes(sources)
    source_group = corpus.group_index()[1] if by_group else tuple(0 for _ in sources)
    groups: list[tuple[list[Piece], int]] = []
    current: list[Piece] = []
    filled = 0
    previous = source_group[0] if source_group else 0
    for source, size, group in zip(sources, sizes, source_group, strict=True):
        if group != previous and current:
            groups.append((current, filled))
            current, filled = [], 0
        previous = group
        if size > shard_bytes:
            if current:
                groups.append((current, filled))
                current, filled = [], 0
            groups.extend(([piece], part) for piece, part in _split(source, size, shard_bytes))
            continue
        if current and filled + size > shard_bytes:
            groups.append((current, filled))
            current, filled = [], 0
        current.append(Piece(source))
        filled += size
        if filled >= shard_bytes:
            groups.append((current, filled))
            current, filled = [], 0
    if current or not groups:
        groups.append((current, filled))
    shards = []
    for k, (pieces, _) in enumerate(groups):
        nxt = groups[k + 1][0][0] if k + 1 < len(groups) and groups[k + 1][0] else None
        # A text file's later parts continue its one document: no separator before them.
        continues = nxt is not None and nxt.start > 0 and nxt.source.fmt == "text"
        shards.append(Selection(tuple(pieces), corpus.separator, end_separator=nxt is not None and not continues))
    out_sizes = tuple(size for _, size in groups)
    group_of = {s.url: g for s, g in zip(sources, source_group, strict=True)}
    shard_groups = tuple(group_of[pieces[0].source.url] if pieces else 0 for pieces, _ in groups)
    parts: tuple[Selection, ...] = ()
    if len(shards) > 1:
        half = max(1, out_sizes[0] // 2)
        first = shards[0]
        parts = (Selection(first.pieces, first.separator, first.end_separator, window=(0, half)),
                 Selection(first.pieces, first.separator, first.end_separator, window=(half, None)))
    return ShardLayout(tuple(shards), out_sizes, parts, shard_bytes, shard_groups if by_group else ())


def _split(source: Source, size: int, shard_bytes: int) -> list[tuple[Piece, int]]:
    """A source larger than a shard, in about size / shard_bytes parts (by row groups for Parquet)."""
    k = max(2, round(size / shard_bytes))
    if source.fmt == "parquet":
        groups = parquet_groups(source)
        out: list[tuple[Piece, int]] = []
        start, acc, total = 0, 0, sum(groups) or 1
        for g, n in enumerate(groups):
            acc += n
            if acc * k >= total * (len(out) + 1) and g + 1 < len(groups):
                out.append((Piece(source, start, g + 1), acc - sum(groups[:start])))
                start = g + 1
        out.append((Piece(source, start, None), sum(groups[start:])))
        return out
    # Text and JSON lines: ranges of the (decompressed) file; a range takes the lines that start in it.
    length = source.size_on_disk or size
    if source.compression is not None:
        length = size  # the decompressed length is unknown: cut by the text estimate (the last part takes the rest)
    step = max(1, -(-length // k))
    cuts = list(range(0, length, step))
    return [(Piece(source, a, b if i + 1 < len(cuts) else None), size // len(cuts))
            for i, (a, b) in enumerate(zip(cuts, [*cuts[1:], length], strict=True))]


def largest_fitting(backend: Backend, budget: int) -> int | None:
    """The largest input `backend` can take within `budget` bytes of memory (None: any, it streams)."""
    if backend.streams:
        return None
    lo, hi = 1 << 16, 1 << 46
    if memory_bytes(backend, lo) > budget:
        return lo
    while hi - lo > 1 << 16:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if memory_bytes(backend, mid) <= budget else (lo, mid)
    return lo


def framing_bytes(payloads: Sequence[int]) -> int:
    """The bytes of the frame around concatenated shard payloads: the count, then each payload's length."""
    return len(write_varint(len(payloads))) + sum(len(write_varint(n)) for n in payloads)


def manifest_stats(parts: Sequence[StreamStats]) -> StreamStats:
    """The identity of shards read apart: their summed size, characters and documents, and the manifest's sha256."""
    manifest = "".join(f"{s.bytes} {s.sha256}\n" for s in parts).encode()
    bad = next((s.chars_reason for s in parts if s.chars is None), None)
    return StreamStats(
        bytes=sum(s.bytes for s in parts),
        sha256=hashlib.sha256(manifest).hexdigest(),
        chars=None if bad else sum(s.chars or 0 for s in parts),
        chars_reason=f"a shard is {bad}" if bad else None,
        documents=sum(s.documents for s in parts),
    )


def combine(backend: Backend, plan: ShardLayout, shards: Sequence[Outcome | None], parts: Sequence[Outcome | None],
            decoder: object) -> tuple[Outcome, float | None]:
    """One outcome from a backend's shard outcomes (a missing or failed shard fails it), and the sharding cost."""
    k = len(plan.shards)
    if k == 1:
        only = shards[0]
        if only is None:
            return Outcome(backend, error="not run"), None
        if only.error is None and only.decoder is None:
            only = dataclasses.replace(only, decoder=decoder)  # type: ignore[arg-type]
        return only, None
    for i, o in enumerate(shards):
        if o is None or o.error or o.payload_bytes is None or o.stats is None:
            why = "not run" if o is None else (o.error or "no payload")
            return Outcome(backend, error=f"shard {i + 1} of {k}: {why}", shards=k), None
    done = [o for o in shards if o is not None]
    sizes = [o.payload_bytes or 0 for o in done]
    decompress = [o.decompress_seconds for o in done]
    cpu = [o.cpu_seconds for o in done]
    combined = Outcome(
        backend,
        payload_bytes=sum(sizes) + framing_bytes(sizes),
        decoder=decoder,  # type: ignore[arg-type]
        compress_seconds=sum(o.compress_seconds or 0.0 for o in done),
        decompress_seconds=None if None in decompress else sum(d or 0.0 for d in decompress),
        cpu_seconds=None if None in cpu else sum(c or 0.0 for c in cpu),
        verified=all(o.verified for o in done),
        peak_rss_bytes=max((o.peak_rss_bytes or 0 for o in done), default=0) or None,
        cached=all(o.cached for o in done),
        stats=manifest_stats([o.stats for o in done if o.stats is not None]),
        shards=k,
        shard_payloads=tuple(sizes),
    )
    cost = None
    if len(parts) == 2 and all(p is not None and p.payload_bytes and not p.error for p in parts) and sizes[0]:
        halves = [p.payload_bytes or 0 for p in parts if p is not None]
        cost = (sum(halves) + framing_bytes(halves)) / sizes[0] - 1
    return combined, cost
