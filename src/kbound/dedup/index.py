"""The corpus-wide index of chunks: built per shard in one pass, reduced per partition of the hash space.

Pass 1 (`Indexer`, in the worker that reads a shard) names every chunk and every document and
splits the records by partition (the name's first 8 bytes modulo the partition count). The
reduction (`reduce_partition`) takes one partition from every shard, sorts it by (name,
shard, offset), and so finds each name's first occurrence in corpus order: that one is a
literal, every later one a reference to it. It returns, per shard, the chunks it must code as
references (`DUPS`) and its first occurrences that later shards name (`TARGETS`), plus small
counts. No process ever holds more than one partition of the index, so memory is bounded by
the partition count, chosen from the corpus size (`partitions_for`).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xxhash

from kbound.dedup.chunking import Chunker, Chunking, chunk_name
from kbound.errors import CorpusError
from kbound.sources.stream import DOCUMENT, SEPARATOR

#: One record per chunk occurrence: its name, where it is, how long, and its document's source (the source's
#: index in the corpus, or with `--source-field` its index among the names its shard met, `Indexer.labels`).
CHUNK = np.dtype([("h0", "<u8"), ("h1", "<u8"), ("shard", "<u4"), ("ordinal", "<u4"), ("offset", "<u8"),
                  ("length", "<u4"), ("source", "<u2")])
#: One record per document: its name (XXH3-128 of its bytes, separator excluded), shard, length and source.
DOC = np.dtype([("h0", "<u8"), ("h1", "<u8"), ("shard", "<u4"), ("length", "<u8"), ("source", "<u2")])
#: A chunk the shard codes as a reference: which one, and the first occurrence it repeats.
DUP = np.dtype([("ordinal", "<u4"), ("offset", "<u8"), ("target_shard", "<u4"), ("target_offset", "<u8"),
                ("length", "<u4"), ("h0", "<u8"), ("h1", "<u8")])
#: A first occurrence that later chunks name: the verifier checks its decoded bytes against the name.
TARGET = np.dtype([("ordinal", "<u4"), ("offset", "<u8"), ("length", "<u4"), ("h0", "<u8"), ("h1", "<u8")])
#: Index bytes held per chunk occurrence while reducing (a `CHUNK` record).
RECORD_BYTES = CHUNK.itemsize
#: What one reduction may hold: the partition count keeps each partition's records under this.
PARTITION_BYTES = 256 << 20
#: Repeated chunks each partition reports (the most repeated first).
TOP = 20
#: Distinct `--source-field` values a corpus may hold: sources are for the few origins of a training set
#: (web, books, code), and the counts are sources x sources; a field with more is not a source.
MAX_SOURCES = 1000

#: Keys of a shard's pass-1 result and of a partition's reduction.
META = "meta"


def chunks_key(p: int) -> str:
    """The key of partition p's chunk records in a shard's pass-1 result."""
    return f"chunks{p}"


def docs_key(p: int) -> str:
    """The key of partition p's document records in a shard's pass-1 result."""
    return f"docs{p}"


def dups_key(s: int) -> str:
    """The key of shard s's references in a partition's reduction."""
    return f"dups{s}"


def targets_key(s: int) -> str:
    """The key of shard s's referenced first occurrences in a partition's reduction."""
    return f"targets{s}"


def partitions_for(text_bytes: int, chunking: Chunking) -> int:
    """How many partitions keep one partition's records under `PARTITION_BYTES` (at the average chunk size)."""
    records = text_bytes // chunking.avg_bytes + 1
    return max(1, -(-records * RECORD_BYTES // PARTITION_BYTES))


def _names(digests: bytes) -> np.ndarray:
    return np.frombuffer(digests, dtype="<u8").reshape(-1, 2)


class Indexer:
    """Pass 1 for one shard: fed the stream as (bytes, kind) pieces, it names chunks and documents.

    Kinds as `kbound.sources.stream.CorpusStream.marked` gives them. Every record carries `source`;
    with `labelled` (`--source-field`) each document's source is the name fed with it, numbered in
    the order this shard meets them (`labels`), and the records carry that number.
    """

    def __init__(self, chunking: Chunking, shard: int, partitions: int, source: int = 0,
                 labelled: bool = False) -> None:
        self.shard, self.partitions, self.source, self.labelled = shard, partitions, source, labelled
        self.labels: dict[str | None, int] = {}
        self._pos = 0
        self._starts = array("q")
        self._sources = array("H")
        self._chunker = Chunker(chunking)
        # 20 bytes a chunk while reading (names packed, lengths as machine integers), not Python objects.
        self._names = bytearray()
        self._lengths = array("q")
        self._doc_names = bytearray()
        self._doc_lengths = array("q")
        self._doc: Any = None
        self._doc_length = 0

    def feed(self, data: bytes, kind: int, label: str | None = None) -> None:
        """Take the next piece of the shard's stream (`label`: the source name of a document it begins)."""
        if kind == DOCUMENT:
            self._end_document()
            # Not cryptographic: a document's name only counts repeated documents (a collision, at odds of about
            # n^2 / 2^129, could miscount one), never a reference; BLAKE2b here took a third of pass 1.
            self._doc, self._doc_length = xxhash.xxh3_128(), 0
            self._starts.append(self._pos)
            self._sources.append(self._number(label) if self.labelled else self.source)
        self._pos += len(data)
        if kind != SEPARATOR and self._doc is not None:
            self._doc.update(data)
            self._doc_length += len(data)
        self._take(self._chunker.feed(data, kind == DOCUMENT))

    def _number(self, label: str | None) -> int:
        n = self.labels.setdefault(label, len(self.labels))
        if n >= MAX_SOURCES:
            raise CorpusError(f"--source-field has more than {MAX_SOURCES:,} distinct values in one shard: "
                              "is it a source (web, books, code), or a field of each document?")
        return n

    def _take(self, chunks: list[memoryview]) -> None:
        for c in chunks:
            self._names += chunk_name(c)
            self._lengths.append(len(c))

    def _end_document(self) -> None:
        if self._doc is not None:
            self._doc_names += self._doc.digest()
            self._doc_lengths.append(self._doc_length)
            self._doc = None

    def finish(self) -> dict[str, Any]:
        """The shard's records split by partition, and its counts (`META`)."""
        self._take(self._chunker.finish())
        self._end_document()
        n = len(self._lengths)
        chunks = np.empty(n, dtype=CHUNK)
        names = _names(bytes(self._names)) if n else np.zeros((0, 2), dtype="<u8")
        lengths = np.frombuffer(self._lengths, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
        chunks["h0"], chunks["h1"] = names[:, 0], names[:, 1]
        chunks["shard"], chunks["ordinal"] = self.shard, np.arange(n)
        chunks["offset"] = np.concatenate(([0], np.cumsum(lengths)[:-1])) if n else lengths
        chunks["length"] = lengths
        starts = np.frombuffer(self._starts, dtype=np.int64) if len(self._starts) else np.zeros(0, dtype=np.int64)
        sources = np.frombuffer(self._sources, dtype=np.uint16) if len(self._sources) else np.zeros(0, np.uint16)
        if self.labelled and len(starts):
            # A chunk belongs to the document it starts in (chunks are cut at every document start).
            at = np.maximum(np.searchsorted(starts, chunks["offset"], side="right") - 1, 0)
            chunks["source"] = sources[at]
        else:
            chunks["source"] = self.source
        d = len(self._doc_lengths)
        docs = np.empty(d, dtype=DOC)
        if d:
            dn = _names(bytes(self._doc_names))
            docs["h0"], docs["h1"] = dn[:, 0], dn[:, 1]
        docs["shard"], docs["length"] = self.shard, np.frombuffer(self._doc_lengths, dtype=np.int64) if d else 0
        docs["source"] = sources[:d] if d else 0
        meta: dict[str, Any] = {"chunks": n, "documents": d, "bytes": int(lengths.sum())}
        if self.labelled:
            # Each name's documents, and its bytes: from each of its documents' starts to the next start.
            spans = np.diff(np.append(starts, self._pos))
            k = len(self.labels)
            meta["labels"] = list(self.labels)
            meta["label_documents"] = np.bincount(sources, minlength=k).tolist() if d else [0] * k
            meta["label_bytes"] = (np.bincount(sources, weights=spans, minlength=k).astype(np.int64).tolist()
                                   if d else [0] * k)
        out: dict[str, Any] = {META: meta}
        cpart = chunks["h0"] % np.uint64(self.partitions)
        dpart = docs["h0"] % np.uint64(self.partitions)
        for p in range(self.partitions):
            out[chunks_key(p)] = chunks[cpart == p]
            out[docs_key(p)] = docs[dpart == p]
        return out


@dataclass(frozen=True)
class Repeated:
    """A chunk that occurs more than once: how often, how long, and where it first occurs."""

    count: int
    length: int
    name: str
    shard: int
    offset: int
    #: The source of its first occurrence.
    source: int = 0


@dataclass
class PartitionCounts:
    """What one partition's reduction counted, per shard and source of the first occurrence: [shard, source].

    Shards by sources, not by shards: the client holds these, and a terabyte has thousands of shards.
    """

    #: Repeated chunks in shard s whose first occurrence is in source g: bytes and count [s, g].
    dup_bytes: np.ndarray
    dup_chunks: np.ndarray
    #: Documents in shard s that repeat a document first seen in source g: count and bytes [s, g].
    dup_docs: np.ndarray
    dup_doc_bytes: np.ndarray
    #: Repeated chunk bytes and repeated documents of source r whose first occurrence is in source g: [r, g].
    source_dup_bytes: np.ndarray
    source_dup_docs: np.ndarray
    distinct_chunks: int
    top: list[Repeated] = field(default_factory=list)
    #: Per shard, the sha256 of its references and named first occurrences in this partition: with the
    #: shard's own bytes, what its coding with references depends on (the result cache's key).
    digests: list[str] = field(default_factory=list)


def _firsts(h0: np.ndarray, h1: np.ndarray, *order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort by name then `order`; return the permutation, whether each is a first occurrence, and its group's first."""
    perm = np.lexsort((*reversed(order), h1, h0))
    a0, a1 = h0[perm], h1[perm]
    first = np.ones(len(perm), dtype=bool)
    if len(perm) > 1:
        first[1:] = (a0[1:] != a0[:-1]) | (a1[1:] != a1[:-1])
    group_first = np.maximum.accumulate(np.where(first, np.arange(len(perm)), 0))
    return perm, first, group_first


def _global_sources(records: np.ndarray, source_maps: Sequence[np.ndarray] | None) -> np.ndarray:
    """Each record's source in the corpus: its `source` as it is, or through its shard's map (`--source-field`)."""
    local = records["source"].astype(np.int64)
    if source_maps is None:
        return local
    sizes = [len(m) for m in source_maps]
    base = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64) if sizes else np.zeros(0, np.int64)
    flat = np.concatenate([np.asarray(m, dtype=np.int64) for m in source_maps]) if sizes else np.zeros(0, np.int64)
    out: np.ndarray = flat[base[records["shard"].astype(np.int64)] + local]
    return out


def reduce_partition(shards: int, chunk_parts: Sequence[np.ndarray], doc_parts: Sequence[np.ndarray],
                     groups: int = 1, source_maps: Sequence[np.ndarray] | None = None) -> dict[str, Any]:
    """One partition of the index: each shard's references and referenced first occurrences, and counts.

    `groups` is the number of sources; a record's source is its `source` field, or with `source_maps`
    (`--source-field`) `source_maps[shard][source]`.
    """
    chunks = np.concatenate(chunk_parts) if chunk_parts else np.empty(0, dtype=CHUNK)
    perm, first, group_first = _firsts(chunks["h0"], chunks["h1"], chunks["shard"], chunks["offset"])
    c = chunks[perm]
    csrc = _global_sources(c, source_maps)
    src = c[group_first]  # each occurrence's first occurrence
    later = ~first
    dups = np.empty(int(later.sum()), dtype=DUP)
    dups["ordinal"], dups["offset"], dups["length"] = c["ordinal"][later], c["offset"][later], c["length"][later]
    dups["target_shard"], dups["target_offset"] = src["shard"][later], src["offset"][later]
    dups["h0"], dups["h1"] = c["h0"][later], c["h1"][later]
    dup_shard = c["shard"][later]
    referenced = np.zeros(len(c), dtype=bool)
    referenced[group_first[later]] = True
    t = c[referenced]
    targets = np.empty(len(t), dtype=TARGET)
    for name in ("ordinal", "offset", "length", "h0", "h1"):
        targets[name] = t[name]
    out: dict[str, Any] = {}
    for s in range(shards):
        mine = dups[dup_shard == s]
        out[dups_key(s)] = mine[np.argsort(mine["ordinal"], kind="stable")]
        theirs = targets[t["shard"] == s]
        out[targets_key(s)] = theirs[np.argsort(theirs["ordinal"], kind="stable")]
    lengths = dups["length"].astype(np.int64)
    first_source = csrc[group_first][later]
    dup_bytes = np.zeros((shards, groups), dtype=np.int64)
    dup_chunks = np.zeros((shards, groups), dtype=np.int64)
    at = (dup_shard.astype(np.int64), first_source)
    np.add.at(dup_bytes, at, lengths)
    np.add.at(dup_chunks, at, 1)
    source_dup_bytes = np.zeros((groups, groups), dtype=np.int64)
    np.add.at(source_dup_bytes, (csrc[later], first_source), lengths)
    docs = np.concatenate(doc_parts) if doc_parts else np.empty(0, dtype=DOC)
    # Documents are in corpus order within a shard, which the stable sort keeps.
    dperm, dfirst, dgroup = _firsts(docs["h0"], docs["h1"], docs["shard"])
    d = docs[dperm]
    dsource = _global_sources(d, source_maps)
    dlater = ~dfirst
    dup_docs = np.zeros((shards, groups), dtype=np.int64)
    dup_doc_bytes = np.zeros((shards, groups), dtype=np.int64)
    where = (d["shard"][dlater].astype(np.int64), dsource[dgroup][dlater])
    np.add.at(dup_docs, where, 1)
    np.add.at(dup_doc_bytes, where, d["length"][dlater].astype(np.int64))
    source_dup_docs = np.zeros((groups, groups), dtype=np.int64)
    np.add.at(source_dup_docs, (dsource[dlater], dsource[dgroup][dlater]), 1)
    digests = [hashlib.sha256(out[dups_key(s)].tobytes() + out[targets_key(s)].tobytes()).hexdigest()
               for s in range(shards)]
    out[META] = PartitionCounts(dup_bytes, dup_chunks, dup_docs, dup_doc_bytes, source_dup_bytes, source_dup_docs,
                                int(first.sum()), _top(c, first, csrc), digests)
    return out


def _top(c: np.ndarray, first: np.ndarray, sources: np.ndarray) -> list[Repeated]:
    """The most repeated chunks of a sorted partition (ties: the longer first, then by name)."""
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(c)))
    many = np.flatnonzero(counts > 1)
    if not len(many):
        return []
    key = np.lexsort((-c["length"][starts[many]].astype(np.int64), -counts[many]))[:TOP]
    out = []
    for k in many[key]:
        r = c[starts[k]]
        name = (int(r["h0"]).to_bytes(8, "little") + int(r["h1"]).to_bytes(8, "little")).hex()
        out.append(Repeated(int(counts[k]), int(r["length"]), name, int(r["shard"]), int(r["offset"]),
                            int(sources[starts[k]])))
    return out
