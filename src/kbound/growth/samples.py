"""Nested samples of a corpus at geometric sizes: prefixes, or random document subsets with a fixed seed."""

from __future__ import annotations

import random
from dataclasses import dataclass

from kbound.errors import CorpusError

SAMPLINGS = ("prefix", "documents")


@dataclass(frozen=True)
class Sample:
    """One sample: its bytes and how many documents it holds."""

    data: bytes
    documents: int


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


def prefix_samples(data: bytes, sizes: list[int]) -> list[Sample]:
    """The first n bytes for each n (a prefix may end inside a UTF-8 character: the bound is on bytes)."""
    return [Sample(data[:n], 1) for n in sizes]


def document_samples(data: bytes, separator: bytes, sizes: list[int], seed: int) -> list[Sample]:
    """Nested random subsets of the documents: the first k of one seeded shuffle, kept in corpus order.

    Each sample is the smallest such subset of at least n bytes, so sizes are approximate; the
    largest sample is the whole corpus. Needs at least two documents (separated by `separator`).
    """
    docs = data.split(separator)
    if len(docs) < 2:
        raise CorpusError("--sample documents needs a corpus of several documents (files, or --field JSON lines)")
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    out: list[Sample] = []
    taken: list[int] = []
    size = -len(separator)
    it = iter(order)
    for target in sizes:
        while size < target and len(taken) < len(docs):
            i = next(it)
            taken.append(i)
            size += len(docs[i]) + len(separator)
        chosen = sorted(taken)
        sample = separator.join(docs[i] for i in chosen)
        if not out or len(sample) != len(out[-1].data):
            out.append(Sample(sample, len(chosen)))
    return out
