"""Each source's own bound and what it adds, where sources are named per document (`--source-field`).

There a shard holds documents of many sources, so no row's payload splits by source. This pass
reads each shard once more and routes every document to codec streams: one per source (its
documents alone, joined by the separator: the source's *own* stream) and one per prefix of the
sources in corpus order (the documents of sources 1..i: what source i *adds* is the prefix
through i less the prefix before it). Every stream is verified as it is produced: its decoder
takes each piece and the decoded bytes' sha256 is compared with the routed input's. Streams are
coded per shard, as the rows are; repeats across shards are not references here (the duplicate
columns count them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kbound.backends.registry import parse_spec
from kbound.run.executor import WORKER_BYTES
from kbound.run.worker import InlineCheck
from kbound.sources.stream import DOCUMENT, SEPARATOR, CorpusStream, Meter, Selection

#: The codec of the per-source streams: fast, so the pass costs about one more read of the corpus.
SOURCE_CODEC = "zstd:3"
#: Sources beyond this many get no own or prefix streams (each stream holds a coder and a decoder).
MAX_ROUTED = 32
#: What one verified stream may hold (zstd level 3: a 2 MiB window each way, and its tables).
STREAM_BYTES = 8 << 20


def routed_memory(sources: int) -> int:
    """What a shard's pass holds at most: a worker and two streams (own and prefix) per source."""
    return WORKER_BYTES + 2 * min(sources, MAX_ROUTED) * STREAM_BYTES


class _Stream:
    """One routed stream: the codec's output counted and, with `verify`, decoded as it comes."""

    def __init__(self, spec: str, verify: bool) -> None:
        backend = parse_spec(spec)
        self._coder = backend.compressor()
        self._check = InlineCheck(backend) if verify else None
        self._input = Meter(None, threaded=False, chars=False)
        self.size = 0
        self.documents = 0

    def feed(self, data: bytes) -> None:
        self._input.update(data)
        self._out(self._coder.process(data))

    def _out(self, data: bytes) -> None:
        self.size += len(data)
        if self._check is not None:
            self._check.write(data)

    def finish(self) -> int:
        self._out(self._coder.finish())
        stats = self._input.finish(0)
        if self._check is not None:
            self._check.check(stats.bytes, stats.sha256)
        return self.size


def code_by_source(selection: Selection, numbers: dict[str | None, int], sources: int, spec: str,
                   verify: bool) -> dict[str, Any]:
    """One shard's own and prefix payload bytes per source (0 where a stream got no document), and the
    identity of the shard as read (`stats`: the caller compares it with pass 1's).

    `numbers` maps each source name met in the shard to its index in corpus order; `sources` is
    the corpus's count (at most `MAX_ROUTED`).
    """
    own: list[_Stream | None] = [None] * sources
    prefix: list[_Stream | None] = [None] * sources
    stream = CorpusStream(selection)
    separator = selection.separator
    targets: list[_Stream] = []
    whole = Meter(None, chars=False)
    for data, kind in stream.marked():
        whole.update(data)
        if kind == SEPARATOR:
            continue  # each stream joins its own documents
        if kind == DOCUMENT:
            g = numbers[stream.label]
            # The first source's own stream is also the prefix through it: one stream, not two.
            targets = [_open(own, g, spec, verify)] + [_open(prefix, k, spec, verify)
                                                       for k in range(max(g, 1), sources)]
            for t in targets:
                if t.documents:
                    t.feed(separator)
                t.documents += 1
        for t in targets:
            t.feed(data)
    sizes = [0 if s is None else s.finish() for s in own]
    return {"own": sizes,
            "prefix": sizes[:1] + [0 if s is None else s.finish() for s in prefix[1:]],
            "stats": whole.finish(stream.documents)}


def _open(streams: list[_Stream | None], g: int, spec: str, verify: bool) -> _Stream:
    s = streams[g]
    if s is None:
        s = streams[g] = _Stream(spec, verify)
    return s


@dataclass(frozen=True)
class RoutedBounds:
    """Per source: its own payloads per shard, and the payloads of the prefix through it per shard."""

    spec: str
    own: tuple[tuple[int, ...], ...]
    prefix: tuple[tuple[int, ...], ...]
    verified: bool
    #: The codec's decoder, counted once in each own bound.
    decoder_bytes: int


def collect(results: Sequence[dict[str, Any]], sources: int, spec: str, verified: bool,
            decoder_bytes: int) -> RoutedBounds:
    """Shards' results in shard order as payloads per source, shards in order."""
    own = tuple(tuple(r["own"][g] for r in results) for g in range(sources))
    prefix = tuple(tuple(r["prefix"][g] for r in results) for g in range(sources))
    return RoutedBounds(spec, own, prefix, verified, decoder_bytes)
