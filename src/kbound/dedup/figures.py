"""Duplicate figures a data engineer can reconcile: overall and per source, from the reduced index's counts.

Definitions (the report states them): a chunk or document *repeats* when an identical one (the
same name: 16-byte BLAKE2b for chunks, XXH3-128 for documents) occurs earlier in corpus order;
its first occurrence does not repeat. The *repeated fraction* is the bytes of repeating chunks over the corpus's bytes:
what a reference replaces. A repeat is *within* its source when its first occurrence is in the
same source, else *against* the sources before it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from kbound.dedup.chunking import Chunking
from kbound.dedup.index import RECORD_BYTES, PartitionCounts


@dataclass(frozen=True)
class ShardInfo:
    """What pass 1 read of a shard: its bytes, its documents, and its source."""

    bytes: int
    documents: int
    source: int


@dataclass(frozen=True)
class SourceDuplicates:
    """One source's documents and bytes, and what of them repeats earlier content."""

    name: str
    documents: int
    bytes: int
    repeated_bytes_within: int
    repeated_bytes_against_earlier: int
    repeated_documents_within: int
    repeated_documents_against_earlier: int

    @property
    def repeated_bytes(self) -> int:
        """Bytes in chunks seen before, within the source or in one before it."""
        return self.repeated_bytes_within + self.repeated_bytes_against_earlier

    @property
    def repeated_documents(self) -> int:
        """Documents identical to an earlier one."""
        return self.repeated_documents_within + self.repeated_documents_against_earlier


@dataclass(frozen=True)
class RepeatedChunk:
    """One of the most repeated chunks: how often it occurs, its length, and its first bytes."""

    count: int
    length_bytes: int
    preview: str
    source: str


@dataclass(frozen=True)
class Duplicates:
    """The corpus's repeats, overall and per source, with the chunking that defines them."""

    chunking: str
    bytes: int
    documents: int
    chunks: int
    distinct_chunks: int
    repeated_bytes: int
    repeated_chunks: int
    repeated_documents: int
    repeated_document_bytes: int
    sources: tuple[SourceDuplicates, ...]
    top: tuple[RepeatedChunk, ...]
    #: Index records held per chunk occurrence while reducing, and the partitions used.
    index_bytes_per_chunk: int = 0
    partitions: int = 1

    @property
    def repeated_fraction(self) -> float:
        """Bytes of repeating chunks over the corpus's bytes."""
        return self.repeated_bytes / self.bytes if self.bytes else 0.0


def printable(text: str) -> str:
    """Text as one printable line: newlines and other control characters escaped as Python writes them."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def preview_text(data: bytes) -> str:
    """The first bytes of a chunk as one printable line (UTF-8, newlines and controls escaped)."""
    return printable(data.decode("utf-8", "replace"))[:80]


def duplicate_figures(counts: Sequence[PartitionCounts], shards: Sequence[ShardInfo], source_names: Sequence[str],
                      chunking: Chunking, previews: Mapping[str, bytes],
                      source_sizes: Sequence[tuple[int, int]] | None = None) -> Duplicates:
    """Add the partitions' counts up, per shard, then per source.

    Each source's documents and bytes are its shards' (`ShardInfo.source`), or `source_sizes[i]`
    (documents, bytes) where sources are named per document (`--source-field`).
    """
    n, g = len(shards), max(len(source_names), 1)
    zero = np.zeros((n, g), dtype=np.int64)
    dup_bytes = sum((c.dup_bytes for c in counts), zero)
    dup_chunks = sum((c.dup_chunks for c in counts), zero)
    dup_docs = sum((c.dup_docs for c in counts), zero)
    dup_doc_bytes = sum((c.dup_doc_bytes for c in counts), zero)
    square = np.zeros((g, g), dtype=np.int64)
    by_bytes = sum((c.source_dup_bytes for c in counts), square)  # [repeat's source, first occurrence's source]
    by_docs = sum((c.source_dup_docs for c in counts), square)
    rows = []
    for i, name in enumerate(source_names):
        if source_sizes is not None:
            documents, size = source_sizes[i]
        else:
            documents = sum(s.documents for s in shards if s.source == i)
            size = sum(s.bytes for s in shards if s.source == i)
        rows.append(SourceDuplicates(
            name=name,
            documents=documents,
            bytes=size,
            repeated_bytes_within=int(by_bytes[i, i]),
            repeated_bytes_against_earlier=int(by_bytes[i].sum() - by_bytes[i, i]),
            repeated_documents_within=int(by_docs[i, i]),
            repeated_documents_against_earlier=int(by_docs[i].sum() - by_docs[i, i]),
        ))
    top = sorted((t for c in counts for t in c.top), key=lambda t: (-t.count, -t.length, t.name))[:10]
    distinct = sum(c.distinct_chunks for c in counts)
    return Duplicates(
        chunking=chunking.describe(),
        bytes=sum(s.bytes for s in shards),
        documents=sum(s.documents for s in shards),
        chunks=distinct + int(dup_chunks.sum()),
        distinct_chunks=distinct,
        repeated_bytes=int(dup_bytes.sum()),
        repeated_chunks=int(dup_chunks.sum()),
        repeated_documents=int(dup_docs.sum()),
        repeated_document_bytes=int(dup_doc_bytes.sum()),
        sources=tuple(rows),
        top=tuple(RepeatedChunk(t.count, t.length, preview_text(previews.get(t.name, b"")),
                                source_names[t.source] if t.source < len(source_names) else "")
                  for t in top),
        index_bytes_per_chunk=RECORD_BYTES,
        partitions=len(counts),
    )
