"""Per-source accounting: each source's documents, repeats, and what it adds to the sources before it.

With `--by-source` every shard holds one source's files, and references only ever point back
in corpus order, so the shards of sources 1..i, with the decoder, decode to sources 1..i on their
own: a verified bound on that prefix. What source i *adds* is therefore exactly its shards'
payload bytes (with their lengths in the frame) in the best row: the bound of the prefix
through i less the bound of the prefix before it. The decoder is counted once, with the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kbound.dedup.figures import Duplicates
from kbound.run.outcome import Outcome
from kbound.run.shards import Plan


@dataclass(frozen=True)
class SourceBound:
    """One source: its size and repeats, and the payload bytes it adds in the best row."""

    name: str
    documents: int
    bytes: int
    repeated_bytes_within: int
    repeated_bytes_against_earlier: int
    repeated_documents: int
    #: Payload bytes of this source's shards in the best row (the decoder is not in it).
    adds_bytes: int | None
    adds_bits_per_byte: float | None


def source_bounds(outcomes: Sequence[Outcome], best_spec: str | None, plan: Plan, duplicates: Duplicates | None,
                  names: Sequence[str]) -> tuple[SourceBound, ...]:
    """The per-source rows, from the best row's shard payloads and the duplicate figures."""
    from kbound.bounds.results import DEDUP_SUFFIX

    best = next((o for o in outcomes if o.backend.spec + (DEDUP_SUFFIX if o.dedup else "") == best_spec), None)
    groups = plan.shard_groups or tuple(0 for _ in plan.shards)
    payloads: Any = None
    if best is not None and best.payload_bytes is not None:
        payloads = best.shard_payloads or (best.payload_bytes,)
    rows = []
    for i, name in enumerate(names):
        d = duplicates.sources[i] if duplicates is not None and i < len(duplicates.sources) else None
        adds = None if payloads is None else sum(p for p, g in zip(payloads, groups, strict=True) if g == i)
        size = d.bytes if d is not None else sum(n for n, g in zip(plan.sizes, groups, strict=True) if g == i)
        rows.append(SourceBound(
            name=name,
            documents=d.documents if d is not None else 0,
            bytes=size,
            repeated_bytes_within=d.repeated_bytes_within if d is not None else 0,
            repeated_bytes_against_earlier=d.repeated_bytes_against_earlier if d is not None else 0,
            repeated_documents=d.repeated_documents if d is not None else 0,
            adds_bytes=adds,
            adds_bits_per_byte=None if adds is None or not size else 8 * adds / size,
        ))
    return tuple(rows)
