"""Nested samples of a corpus at geometric sizes, read while streaming: prefixes, or seeded document subsets.

A prefix sample is the corpus's first n bytes (a window on the stream: reading stops there).
A document sample is the smallest set of documents, taken in the order of a seeded hash of
their positions (a shuffle that needs no table), that holds at least n bytes; it is kept in
corpus order. Samples are nested, and each is read in one pass. Finding where each sample ends
takes one pass that keeps 16 bytes per document (a hash and a length); past `EXACT_DOCUMENTS`
documents a sample keeps each document whose hash falls below n / (corpus bytes) of the range
instead, which needs nothing, and its size is then about n.
"""

from __future__ import annotations

import bisect

from kbound.errors import CorpusError
from kbound.sources.stream import Sampling, Selection, StreamStats, document_hash, document_lengths

SAMPLINGS = ("prefix", "documents")
#: Up to this many documents, sample sizes are exact (the pass that finds them holds 16 bytes a document).
EXACT_DOCUMENTS = 2_000_000
_TOP = (1 << 64) - 1


def geometric_sizes(total_bytes: int, points: int, min_bytes: int) -> list[int]:
    """`points` sizes from `min_bytes` to `total_bytes`, evenly spaced in log n, rounded, without repeats."""
    if points < 1:
        raise ValueError("points must be at least 1")
    if total_bytes <= 0:
        return []
    low = min(max(1, min_bytes), total_bytes)
    if points == 1 or low == total_bytes:
        return [total_bytes]
    ratio = total_bytes / low
    sizes = sorted({round(low * ratio ** (i / (points - 1))) for i in range(points)})
    sizes[-1] = total_bytes
    return sizes


def thresholds(lengths: list[int], seed: int, sizes: list[int]) -> list[int]:
    """For each size, the hash threshold of the smallest hash-ordered document set of at least that many bytes."""
    ordered = sorted((document_hash(seed, i), n) for i, n in enumerate(lengths))
    running, cumulative = 0, []
    for k, (_, n) in enumerate(ordered):
        running += n + (1 if k else 0)  # one separator byte between documents
        cumulative.append(running)
    out = []
    for size in sizes:
        k = min(bisect.bisect_left(cumulative, size), len(ordered) - 1)
        out.append(ordered[k][0])
    return out


def sample_selections(whole: Selection, stats: StreamStats, sizes: list[int], sampling: str,
                      seed: int) -> list[Selection]:
    """One selection per size, smallest first; the largest is the whole corpus."""
    if sampling == "documents" and stats.documents < 2:
        raise CorpusError("--sample documents needs a corpus of several documents (files, or --field JSON lines)")
    cuts: list[int] | None = None
    if sampling == "documents":
        if stats.documents <= EXACT_DOCUMENTS:
            cuts = thresholds(list(document_lengths(whole)), seed, sizes)
        else:
            cuts = [min(_TOP, int(n / max(stats.bytes, 1) * 2.0**64)) for n in sizes]
    out = []
    for i, n in enumerate(sizes):
        if n >= stats.bytes:
            out.append(whole)
        elif cuts is None:
            out.append(Selection(whole.pieces, whole.separator, window=(0, n)))
        else:
            out.append(Selection(whole.pieces, whole.separator, sample=Sampling(seed, cuts[i])))
    return out
