"""Upper-bound estimates: per-backend results, the best bound, and the frozen `Report` they make.

Units live in field names: `*_bytes` are bytes, `bits_per_byte` is bits per byte of corpus,
`bits_per_char` is bits per UTF-8 character, `*_seconds` are wall seconds in the worker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kbound.bounds.sources import SourceBound
from kbound.bounds.tokens import TokenCount
from kbound.dedup.figures import Duplicates
from kbound.run.outcome import FAILED, VERIFIED, Outcome
from kbound.sources.corpus import Corpus
from kbound.sources.stream import StreamStats

if TYPE_CHECKING:  # types only: the baseline module reads Reports, and models is a later stage (architecture.md)
    from kbound.bounds.baseline import BaselineComparison
    from kbound.models.attach import ModelResult

SCHEMA = "kbound/1"
#: Ends the spec of a row whose repeated chunks were coded as references.
DEDUP_SUFFIX = "+dedup"


#: What `CorpusSummary.sha256` is the hash of.
STREAM_IDENTITY = "sha256 of the corpus stream"
MANIFEST_IDENTITY = "sha256 of the shard manifest (each shard's size and sha256, in order)"


@dataclass(frozen=True)
class CorpusSummary:
    """What was measured: size, characters, documents and identity of the corpus."""

    bytes: int
    chars: int | None
    #: Why `chars` (and so bits per character) is missing, else None.
    chars_note: str | None
    documents: int
    separator: str
    #: The corpus's identity: see `identity` for what it hashes. None when nothing was read.
    sha256: str | None
    sources: tuple[str, ...]
    decompressed: tuple[str, ...] = ()
    identity: str = STREAM_IDENTITY

    @classmethod
    def of(cls, corpus: Corpus, stats: StreamStats | None, *, sharded: bool = False,
           expected_bytes: int = 0) -> CorpusSummary:
        """Summarise a corpus from what reading it measured (the bytes themselves stay out of the report).

        Without `stats` (a run stopped before anything was read) the size is the expected one.
        """
        return cls(
            bytes=expected_bytes if stats is None else stats.bytes,
            chars=None if stats is None else stats.chars,
            chars_note="not read" if stats is None else stats.chars_reason,
            documents=0 if stats is None else stats.documents,
            separator=corpus.separator.decode("utf-8", "backslashreplace"),
            sha256=None if stats is None else stats.sha256,
            sources=corpus.names,
            decompressed=corpus.decompressed,
            identity=MANIFEST_IDENTITY if sharded else STREAM_IDENTITY,
        )


@dataclass(frozen=True)
class BackendResult:
    """One backend's bound on the corpus: payload + decoder = total, verified or not, or why it failed."""

    spec: str
    backend: str
    library: str
    library_version: str
    config: dict[str, Any]
    #: "verified", "unverified" (run with --no-verify) or "failed" (no bound: see `error`).
    status: str
    payload_bytes: int | None
    decoder_bytes: int | None
    total_bytes: int | None
    bits_per_byte: float | None
    bits_per_char: float | None
    payload_bits_per_byte: float | None
    compress_seconds: float | None
    decompress_seconds: float | None
    decoder_method: str | None
    error: str | None
    #: The row came from the result cache (its timings are those of the run that computed it).
    cached: bool = False
    #: Peak resident memory of the worker that ran it (see `Outcome.peak_rss_bytes`).
    peak_rss_bytes: int | None = None
    #: CPU seconds (user + system) of the workers that ran it, every shard summed (see `Outcome.cpu_seconds`).
    cpu_seconds: float | None = None
    #: How many independent shards the payload is made of (1: the corpus in one piece).
    shards: int = 1
    #: Repeated chunks coded once, as references (the duplicate stage's row; `spec` ends in "+dedup").
    dedup: bool = False

    @property
    def verified(self) -> bool:
        """True when the payload was decompressed and its sha256 matched the corpus."""
        return self.status == VERIFIED

    @property
    def has_bound(self) -> bool:
        """True when this row gives a bound (verified, or unverified because verification was skipped)."""
        return self.status != FAILED


@dataclass(frozen=True)
class Best:
    """The tightest bound: the smallest total plus ceil(log2 k) bits to say which of k backends made it."""

    spec: str
    total_bits: int
    selector_bits: int
    candidates: int
    verified: bool
    bits_per_byte: float | None
    bits_per_char: float | None

    @property
    def total_bytes(self) -> int:
        """The bound rounded up to whole bytes."""
        return -(-self.total_bits // 8)


@dataclass(frozen=True)
class Report:
    """Everything one run measured, with the settings it ran under; renderers only read it."""

    corpus: CorpusSummary
    results: tuple[BackendResult, ...]
    best: Best | None
    settings: dict[str, Any]
    kbound_version: str
    schema: str = SCHEMA
    #: One per `--model`.
    models: tuple[ModelResult, ...] = field(default=())
    #: The corpus counted by a tokenizer, when one was given.
    tokens: TokenCount | None = None
    #: Set when the run was compared with an earlier report (`--baseline`).
    baseline: BaselineComparison | None = None
    interrupted: bool = False
    #: For a sharded run: the shard count, the largest shard, and the cost of sharding measured on a sample.
    sharding: dict[str, Any] | None = None
    #: The signal that stopped an interrupted run (2 for Ctrl-C, 15 for SIGTERM, 1 for SIGHUP).
    signal: int | None = None
    #: What the duplicate stage found (None when it did not run).
    duplicates: Duplicates | None = None
    #: Why the duplicate stage, asked for, gave nothing (the plain rows stand).
    dedup_error: str | None = None
    #: Per-source accounting (`--by-source`): each source's repeats and what it adds to those before it.
    sources: tuple[SourceBound, ...] = ()
    #: A `kbound.growth.plan.RunPlan` when `--plan` chose the backends from a sample.
    plan: Any = None


def _rate(bits: float, units: int | None) -> float | None:
    return bits / units if units else None


def result_of(outcome: Outcome, corpus: CorpusSummary, verify: bool) -> BackendResult:
    """Turn a worker's outcome into a result row with its rates."""
    backend = outcome.backend
    status = outcome.status(verify)
    failed = status == FAILED
    payload = None if failed else outcome.payload_bytes
    decoder = None if failed or outcome.decoder is None else outcome.decoder.decoder_bytes
    total = None if payload is None or decoder is None else payload + decoder
    return BackendResult(
        spec=backend.spec + (DEDUP_SUFFIX if outcome.dedup else ""),
        backend=backend.name,
        library=backend.library,
        library_version=backend.library_version(),
        config=backend.get_config(),
        status=status,
        payload_bytes=payload,
        decoder_bytes=decoder,
        total_bytes=total,
        bits_per_byte=None if total is None else _rate(8 * total, corpus.bytes),
        bits_per_char=None if total is None else _rate(8 * total, corpus.chars),
        payload_bits_per_byte=None if payload is None else _rate(8 * payload, corpus.bytes),
        compress_seconds=outcome.compress_seconds,
        decompress_seconds=outcome.decompress_seconds,
        decoder_method=None if outcome.decoder is None else outcome.decoder.method,
        error=outcome.why_failed(verify),
        cached=outcome.cached,
        peak_rss_bytes=outcome.peak_rss_bytes,
        cpu_seconds=outcome.cpu_seconds,
        shards=outcome.shards,
        dedup=outcome.dedup,
    )


def best_of(results: tuple[BackendResult, ...], corpus: CorpusSummary) -> Best | None:
    """The smallest total among rows with a bound, charged ceil(log2 k) bits for the choice among k."""
    candidates = [r for r in results if r.has_bound and r.total_bytes is not None]
    if not candidates:
        return None
    winner = min(candidates, key=lambda r: (r.total_bytes, r.spec))
    selector = math.ceil(math.log2(len(candidates))) if len(candidates) > 1 else 0
    assert winner.total_bytes is not None
    bits = 8 * winner.total_bytes + selector
    return Best(
        spec=winner.spec,
        total_bits=bits,
        selector_bits=selector,
        candidates=len(candidates),
        verified=winner.verified,
        bits_per_byte=_rate(bits, corpus.bytes),
        bits_per_char=_rate(bits, corpus.chars),
    )
