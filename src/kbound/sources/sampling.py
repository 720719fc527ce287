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


def strata_lengths(whole: Selection, strata: list[int]) -> list[list[int]]:
    """Each stratum's document lengths in corpus order; `strata` gives each piece's stratum (pieces in order,
    a stratum's pieces contiguous, as sources are). One pass over the corpus."""
    out: list[list[int]] = []
    last = None
    for piece, stratum in zip(whole.pieces, strata, strict=True):
        if stratum != last:
            out.append([])
            last = stratum
        out[-1].extend(document_lengths(Selection((piece,), whole.separator)))
    return out


def stratified_selections(whole: Selection, lengths: list[list[int]], total_bytes: int, sizes: list[int],
                          seed: int) -> list[Selection]:
    """Nested seeded document samples of about each size, every stratum sampled at the same fraction of its bytes.

    `lengths` holds each stratum's document lengths (`strata_lengths`). Within a stratum documents
    are taken in the order of `document_hash(seed, i)` until the stratum's share (size / corpus
    bytes of its own bytes) is reached; every stratum gives at least one document, so a small
    source is never left out. A size at or above the corpus is the whole corpus. One stratum is
    `sample_selections`' document sample (the same selections, so the same cached results).
    """
    documents = sum(len(x) for x in lengths)
    if documents < 2:
        raise CorpusError("a document sample needs a corpus of several documents (files, or --field JSON lines)")
    if len(lengths) == 1:
        one = thresholds(lengths[0], seed, sizes)
        return [whole if n >= total_bytes else Selection(whole.pieces, whole.separator, sample=Sampling(seed, cut))
                for n, cut in zip(sizes, one, strict=True)]
    firsts, start = [], 0
    for stratum in lengths:
        firsts.append(start)
        start += len(stratum)
    out = []
    for size in sizes:
        if size >= total_bytes:
            out.append(whole)
            continue
        fraction = size / max(total_bytes, 1)
        cuts = []
        for first, stratum in zip(firsts, lengths, strict=True):
            ordered = sorted((document_hash(seed, first + i), n) for i, n in enumerate(stratum))
            want, running, cut = fraction * sum(stratum), 0, ordered[0][0]
            for h, n in ordered:
                cut = h
                running += n + 1
                if running >= want:
                    break
            cuts.append((first, cut))
        out.append(Selection(whole.pieces, whole.separator, sample=Sampling(seed, 0, tuple(cuts))))
    return out
