"""Per-source accounting: each source's documents, repeats, what it adds to the sources before it, and its own bound.

With `--by-source` every shard holds one source's files, and references only ever point back
in corpus order, so the shards of sources 1..i, with the decoder, decode to sources 1..i on their
own: a verified bound on that prefix. What source i *adds* is therefore exactly its shards'
payload bytes with their share of the frame (each shard's length; the shard count goes with the
first source) in the best row: the bound of the prefix through i less the bound of the prefix
before it. The decoder is counted once, with the first. A source's *own* bound is a program for
it alone: its shards in a row whose shards do not reach outside it (every plain row; a row with
references for the first source), framed as a payload of their own, with that row's decoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kbound.backends.base import write_varint
from kbound.dedup.figures import Duplicates, SourceDuplicates
from kbound.run.outcome import Outcome
from kbound.run.routed import RoutedBounds
from kbound.run.shards import ShardLayout, framing_bytes


@dataclass(frozen=True)
class SourceBound:
    """One source: its size and repeats, the payload bytes it adds in the best row, and its own bound."""

    name: str
    documents: int
    bytes: int
    repeated_bytes_within: int
    repeated_bytes_against_earlier: int
    repeated_documents: int
    #: Payload bytes of this source's shards in the best row, with their share of the frame (no decoder).
    adds_bytes: int | None
    adds_bits_per_byte: float | None
    #: The smallest program for this source alone among the rows: payload, frame and decoder.
    own_bytes: int | None = None
    own_bits_per_byte: float | None = None
    own_spec: str | None = None
    #: The row (or, with `--source-field`, the routed codec) that `adds_bytes` is measured in.
    adds_spec: str | None = None


def _framed(parts: Sequence[int]) -> int:
    """Shard payloads framed as one payload of their own (no frame around a single one)."""
    return sum(parts) + (framing_bytes(parts) if len(parts) > 1 else 0)


def _counted(d: SourceDuplicates, i: int, routed: RoutedBounds | None) -> SourceBound:
    """A source named per document: its counts, and from the routed streams what it adds and its own bound."""
    adds = own = None
    if routed is not None and i < len(routed.own):
        def stream(parts: Sequence[int]) -> int:  # framed over the shards it has documents in
            return _framed([p for p in parts if p])

        adds = stream(routed.prefix[i]) - (stream(routed.prefix[i - 1]) if i else 0)
        own = stream(routed.own[i]) + routed.decoder_bytes

    def per_byte(n: int | None) -> float | None:
        return None if n is None or not d.bytes else 8 * n / d.bytes

    return SourceBound(d.name, d.documents, d.bytes, d.repeated_bytes_within, d.repeated_bytes_against_earlier,
                       d.repeated_documents, adds, per_byte(adds), own, per_byte(own),
                       None if routed is None else routed.spec, None if routed is None else routed.spec)


def _spec(o: Outcome) -> str:
    from kbound.bounds.results import DEDUP_SUFFIX

    return o.backend.spec + (DEDUP_SUFFIX if o.dedup else "")


def _payloads(o: Outcome) -> tuple[int, ...] | None:
    if o.error is not None or o.payload_bytes is None:
        return None
    return o.shard_payloads or (o.payload_bytes,)


def source_bounds(outcomes: Sequence[Outcome], best_spec: str | None, plan: ShardLayout, duplicates: Duplicates | None,
                  names: Sequence[str], per_document: bool = False,
                  routed: RoutedBounds | None = None) -> tuple[SourceBound, ...]:
    """The per-source rows, from each row's shard payloads and the duplicate figures.

    With `per_document` (`--source-field`) a shard holds documents of many sources, so no row's payload
    splits by source: what a source adds and its own bound come from `routed` (`kbound.run.routed`),
    when that pass ran; else the rows give each source's size and repeats, and no bound.
    """
    if per_document:
        if duplicates is None:
            return ()
        return tuple(_counted(d, i, routed) for i, d in enumerate(duplicates.sources))
    groups = plan.shard_groups or tuple(0 for _ in plan.shards)
    best = next((o for o in outcomes if _spec(o) == best_spec), None)
    best_payloads = None if best is None else _payloads(best)
    rows = []
    for i, name in enumerate(names):
        mine = [s for s, g in enumerate(groups) if g == i]
        d = duplicates.sources[i] if duplicates is not None and i < len(duplicates.sources) else None
        size = d.bytes if d is not None else sum(plan.sizes[s] for s in mine)
        adds = None
        if best_payloads is not None and len(best_payloads) == len(groups):
            adds = sum(best_payloads[s] + len(write_varint(best_payloads[s])) for s in mine)
            if len(groups) > 1 and mine and mine[0] == 0:
                adds += len(write_varint(len(groups)))  # the shard count, with the first source
            if len(groups) == 1:
                adds = best_payloads[0]
        own: tuple[int, str] | None = None
        for o in outcomes:
            p = _payloads(o)
            if p is None or len(p) != len(groups) or o.decoder is None or (o.dedup and i > 0):
                continue
            total = _framed([p[s] for s in mine]) + o.decoder.decoder_bytes
            if own is None or total < own[0]:
                own = (total, _spec(o))
        rows.append(SourceBound(
            name=name,
            documents=d.documents if d is not None else 0,
            bytes=size,
            repeated_bytes_within=d.repeated_bytes_within if d is not None else 0,
            repeated_bytes_against_earlier=d.repeated_bytes_against_earlier if d is not None else 0,
            repeated_documents=d.repeated_documents if d is not None else 0,
            adds_bytes=adds,
            adds_bits_per_byte=None if adds is None or not size else 8 * adds / size,
            own_bytes=None if own is None else own[0],
            own_bits_per_byte=None if own is None or not size else 8 * own[0] / size,
            own_spec=None if own is None else own[1],
            adds_spec=None if adds is None else best_spec,
        ))
    return tuple(rows)
