"""Conditional bounds: C(B | A) ≈ C(A·B) − C(A), NCD(A, B), and the share of B that is new given A.

Each backend compresses A, B and A·B (A, the separator, B), every payload verified. The
difference of two upper bounds is an estimate, not a bound: it is meaningful only for a backend
that can see all of A while coding B, so backends whose window (`kbound.backends.registry.window_bytes`) is
smaller than A·B are left out with a warning. Decoders cancel in the differences, so payloads
are used throughout.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kbound.backends.base import Backend, show_value
from kbound.backends.registry import parse_specs, window_bytes
from kbound.bounds.results import CorpusSummary
from kbound.errors import KboundError
from kbound.run.batch import Job, RunOptions, identify, run_jobs
from kbound.run.engine import default_jobs
from kbound.run.outcome import FAILED, Interrupted, Outcome
from kbound.run.shards import one
from kbound.sources.corpus import Corpus
from kbound.sources.stream import Selection
from kbound.version import kbound_version

SCHEMA = "kbound-compare/1"

MEANING = (
    "C(B|A) ≈ C(A·B) − C(A) is a difference of two upper bounds: an estimate of the information B adds "
    "to A, not a bound. NCD(A, B) = (C(A·B) − min(C(A), C(B))) / max(C(A), C(B)): near 0 for the same "
    "text, near 1 for unrelated text."
)


def default_specs(joined_bytes: int) -> list[str]:
    """Backends sized to see all of A·B: zstd long mode, xz with a big enough dictionary, ppmd, brotli."""
    log = min(31, max(10, math.ceil(math.log2(max(joined_bytes, 1)))))
    dictionary = min(1536 << 20, max(1 << 20, 1 << math.ceil(math.log2(max(joined_bytes, 1)))))
    mem = min(2 << 30, max(16 << 20, 1 << math.ceil(math.log2(max(12 * joined_bytes, 1)))))
    return [f"zstd:19,long={log}", f"xz:9e,dict={show_value(dictionary)}", f"ppmd:6,mem={show_value(mem)}",
            "brotli:11,w=24"]


@dataclass(frozen=True)
class ConditionalRow:
    """One backend's payloads on A, B and A·B, or why it was left out or failed."""

    spec: str
    backend: str
    library_version: str
    window_bytes: int | None
    #: "ok", "skipped" (window too small or unknown: see `note`) or "failed".
    status: str
    note: str | None
    a_payload_bytes: int | None = None
    b_payload_bytes: int | None = None
    ab_payload_bytes: int | None = None
    #: True when all three payloads were decompressed and hash-checked.
    verified: bool = False
    #: True when A and B hold no text at all: then their payloads are bare containers (headers, an
    #: end mark) and A·B's separator is all there is to code, so the formula's ratio means nothing.
    both_empty: bool = False

    @property
    def conditional_bytes(self) -> int | None:
        """C(B | A) ≈ C(A·B) − C(A), in bytes."""
        if self.ab_payload_bytes is None or self.a_payload_bytes is None:
            return None
        return self.ab_payload_bytes - self.a_payload_bytes

    @property
    def ncd(self) -> float | None:
        """The normalised compression distance NCD(A, B)."""
        a, b, ab = self.a_payload_bytes, self.b_payload_bytes, self.ab_payload_bytes
        if a is None or b is None or ab is None or max(a, b) == 0:
            return None
        if self.both_empty:
            return 0.0  # two empty texts are the same text (brotli's 1-byte containers gave 4.0)
        return (ab - min(a, b)) / max(a, b)

    @property
    def new_fraction(self) -> float | None:
        """C(B | A) / C(B): the share of B's information that A does not already hold."""
        c, b = self.conditional_bytes, self.b_payload_bytes
        if c is None or not b:
            return None
        return 0.0 if self.both_empty else c / b  # an empty B adds nothing


@dataclass(frozen=True)
class ConditionalReport:
    """A comparison of B with A: one row per backend, the headline row, and the warnings."""

    a: CorpusSummary
    b: CorpusSummary
    joined_bytes: int
    rows: tuple[ConditionalRow, ...]
    #: The spec whose estimate C(B|A) = C(A·B) − C(A) is smallest among the rows that ran (the headline's).
    best: str | None
    warnings: tuple[str, ...]
    settings: dict[str, Any]
    kbound_version: str
    interrupted: bool = False
    schema: str = field(default=SCHEMA)
    #: The signal that stopped an interrupted run (2 for Ctrl-C, 15 for SIGTERM, 1 for SIGHUP), as `Report.signal`.
    signal: int | None = None


def visibility(backend: Backend, joined_bytes: int, a_bytes: int) -> str | None:
    """Why `backend` cannot see A while coding B (a warning), or None when it can."""
    window = window_bytes(backend)
    if window is None:
        return f"{backend.spec}: its window is not declared (a window_bytes() method); left out"
    if window < a_bytes:
        return (f"{backend.spec}: window {window:,} bytes < |A| = {a_bytes:,} bytes; the estimate would be "
                "meaningless, left out")
    if window < joined_bytes:
        return (f"{backend.spec}: window {window:,} bytes < |A·B| = {joined_bytes:,} bytes; the end of B could "
                "not see A, left out")
    return None


def _row(backend: Backend, outcomes: Sequence[Outcome], verify: bool) -> ConditionalRow:
    failed = [o for o in outcomes if o.status(verify) == FAILED]
    if failed:
        return ConditionalRow(backend.spec, backend.name, backend.library_version(), window_bytes(backend),
                              FAILED, failed[0].why_failed(verify))
    a, b, ab = (o.payload_bytes for o in outcomes)
    empty = all(o.stats is not None and o.stats.bytes == 0 for o in outcomes[:2])
    return ConditionalRow(
        backend.spec, backend.name, backend.library_version(), window_bytes(backend), "ok", None, a, b, ab,
        all(o.verified for o in outcomes), empty,
    )


def conditional(
    a: Corpus,
    b: Corpus,
    backends: Sequence[str] | None = None,
    *,
    verify: bool = True,
    jobs: int | None = None,
    cache_dir: str | None = None,
    use_cache: bool = True,
    on_start: Callable[[Backend], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> ConditionalReport:
    """Estimate C(B | A), NCD(A, B) and the new share of B with every backend that can see A while coding B.

    A·B is A's bytes, A's separator, then B's. Without `backends`, `default_specs` sizes zstd's
    long window, xz's dictionary and ppmd's memory to A·B.
    """
    options = RunOptions(verify=verify, jobs=jobs, cache_dir=cache_dir, use_cache=use_cache, limit=a.max_bytes,
                         kbound_version=kbound_version())
    # A·B: A's documents, then B's, joined by A's separator (so A, the separator, then B).
    sel_a, sel_b = a.selection(), b.selection()
    joined = Selection(sel_a.pieces + sel_b.pieces, a.separator)
    stats_a, stats_b = identify(sel_a, options), identify(sel_b, options)
    joined_bytes = stats_a.bytes + len(a.separator) + stats_b.bytes
    specs = list(backends) if backends else default_specs(joined_bytes)
    chosen = parse_specs(specs)
    warnings = {bk.spec: w for bk in chosen if (w := visibility(bk, joined_bytes, stats_a.bytes)) is not None}
    runnable = [bk for bk in chosen if bk.spec not in warnings]
    results: list[list[Outcome]] = []
    interrupted, signum = False, None
    if runnable:
        try:
            for selection, size in ((sel_a, stats_a.bytes), (sel_b, stats_b.bytes), (joined, joined_bytes)):
                batch = run_jobs([Job(bk, one(selection, size)) for bk in runnable], options, on_start=on_start,
                                 on_done=on_done)
                results.append(batch.outcomes)
        except Interrupted as stop:
            interrupted, signum = True, stop.signum
    rows = []
    for i_run, bk in enumerate(runnable):
        if len(results) == 3:
            rows.append(_row(bk, [results[k][i_run] for k in range(3)], verify))
        else:
            rows.append(ConditionalRow(bk.spec, bk.name, bk.library_version(), window_bytes(bk), FAILED,
                                       "interrupted"))
    for bk in chosen:
        if bk.spec in warnings:
            rows.append(ConditionalRow(bk.spec, bk.name, bk.library_version(), window_bytes(bk), "skipped",
                                       warnings[bk.spec]))
    order = {bk.spec: i for i, bk in enumerate(chosen)}
    rows.sort(key=lambda r: order[r.spec])
    ok = [r for r in rows if r.status == "ok" and r.ab_payload_bytes is not None]
    if not ok and not interrupted and not runnable:
        raise KboundError("no backend can see A while coding B: " + "; ".join(warnings.values()))
    best = min(ok, key=lambda r: (r.conditional_bytes or 0, r.spec)).spec if ok else None
    return ConditionalReport(
        a=CorpusSummary.of(a, stats_a), b=CorpusSummary.of(b, stats_b), joined_bytes=joined_bytes, rows=tuple(rows),
        best=best,
        warnings=tuple(warnings.values()),
        settings={"backends": [bk.spec for bk in chosen], "verify": verify, "jobs": jobs or default_jobs(),
                  "joined": "A, A's separator, B"},
        kbound_version=kbound_version(), interrupted=interrupted, signal=signum,
    )
