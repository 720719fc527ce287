"""The space–time trade-off: each backend across its levels, bound size against (de)compression time.

A point is on the Pareto frontier for a time when no other point is both as small and as fast,
and strictly better in one: the frontier runs from a big fast description to a small slow one.
Timings are single-run wall times in the worker (the fastest of `repeat` runs), one backend at a
time by default, so they are comparable with each other on this machine only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kbound.backends.base import Backend
from kbound.backends.registry import entries, is_slow, levels, parse_specs
from kbound.bounds.results import CorpusSummary
from kbound.errors import KboundError
from kbound.run.batch import Job, RunOptions, run_jobs
from kbound.run.outcome import FAILED, VERIFIED, Interrupted, Outcome
from kbound.run.shards import whole
from kbound.sources.corpus import Corpus
from kbound.sources.sizes import text_bytes
from kbound.version import kbound_version

SCHEMA = "kbound-tradeoff/1"

@dataclass(frozen=True)
class TradeoffPoint:
    """One backend at one level: the bound it gives and what it cost, and whether it is on a frontier."""

    spec: str
    backend: str
    #: "verified" or "failed" (a trade-off always decompresses: that is one of the costs measured).
    status: str
    payload_bytes: int | None
    decoder_bytes: int | None
    total_bytes: int | None
    compress_seconds: float | None
    decompress_seconds: float | None
    error: str | None
    on_decompress_frontier: bool = False
    on_compress_frontier: bool = False


@dataclass(frozen=True)
class TradeoffReport:
    """Every (backend, level) point on one corpus, with both Pareto frontiers marked."""

    corpus: CorpusSummary
    points: tuple[TradeoffPoint, ...]
    settings: dict[str, Any]
    kbound_version: str
    interrupted: bool = False
    schema: str = field(default=SCHEMA)
    #: The signal that stopped an interrupted run (2 for Ctrl-C, 15 for SIGTERM, 1 for SIGHUP), as `Report.signal`.
    signal: int | None = None


def expand_choices(choices: Sequence[str] | None) -> list[str]:
    """Backend names become their levels (`zstd` → zstd:-5 … zstd:22,long=27), specs stay as given.

    By default: the levels of every installed backend but the model-based ones, well under 1 MB/s
    (`is_slow`, from the catalog's `slow`), which run only when named.
    """
    if not choices:
        return [s for name, e in entries().items() if e.cls is not None and not is_slow(name) for s in levels(name)]
    out: list[str] = []
    for choice in choices:
        name = choice.strip().lower()
        out.extend([choice] if ":" in name else levels(name))
    return out


def pareto(points: Sequence[tuple[int, float]]) -> list[bool]:
    """For (size, seconds) pairs: True where no other pair is ≤ in both and < in one."""
    return [
        not any(s2 <= s and t2 <= t and (s2 < s or t2 < t) for s2, t2 in points)
        for s, t in points
    ]


def _point(o: Outcome, best_times: dict[str, tuple[float | None, float | None]]) -> TradeoffPoint:
    # A trade-off always decompresses: that is one of the costs it measures.
    failed = o.status(verify=True) == FAILED
    comp, decomp = best_times.get(o.backend.spec, (o.compress_seconds, o.decompress_seconds))
    payload = None if failed else o.payload_bytes
    decoder = None if o.decoder is None else o.decoder.decoder_bytes
    return TradeoffPoint(
        spec=o.backend.spec, backend=o.backend.name, status=FAILED if failed else VERIFIED,
        payload_bytes=payload, decoder_bytes=decoder,
        total_bytes=None if payload is None or decoder is None else payload + decoder,
        compress_seconds=comp, decompress_seconds=decomp,
        error=o.why_failed(verify=True),
    )


def _min(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def tradeoff(
    corpus: Corpus,
    backends: Sequence[str] | None = None,
    *,
    repeat: int = 1,
    jobs: int = 1,
    cache_dir: str | None = None,
    use_cache: bool = True,
    on_start: Callable[[Backend], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> TradeoffReport:
    """Run every chosen level on `corpus`, verified, `repeat` times keeping the fastest times; mark the frontiers."""
    if repeat < 1:
        raise KboundError("--repeat must be at least 1")
    chosen = parse_specs(expand_choices(backends))
    # Timings are what a trade-off measures: never recalled from the cache.
    options = RunOptions(verify=True, jobs=jobs, cache_dir=cache_dir, use_cache=use_cache, recall=False,
                         limit=corpus.max_bytes, kbound_version=kbound_version())
    plan = whole(corpus, sum(text_bytes(corpus.sources)))
    outcomes: list[Outcome] = []
    best_times: dict[str, tuple[float | None, float | None]] = {}
    interrupted, signum = False, None
    for _ in range(repeat):
        try:
            outcomes = run_jobs([Job(b, plan) for b in chosen], options, on_start=on_start, on_done=on_done).outcomes
        except Interrupted as stop:
            outcomes, interrupted, signum = outcomes or stop.finished, True, stop.signum
            break
        for o in outcomes:
            old = best_times.get(o.backend.spec, (None, None))
            best_times[o.backend.spec] = (_min(old[0], o.compress_seconds), _min(old[1], o.decompress_seconds))
    points = [_point(o, best_times) for o in outcomes]
    good = [i for i, p in enumerate(points) if p.status == VERIFIED]
    for key, flag in (("decompress_seconds", "on_decompress_frontier"), ("compress_seconds", "on_compress_frontier")):
        pairs = [(points[i].total_bytes or 0, getattr(points[i], key) or 0.0) for i in good]
        for i, on in zip(good, pareto(pairs), strict=True):
            points[i] = TradeoffPoint(**{**points[i].__dict__, flag: on})
    return TradeoffReport(
        corpus=CorpusSummary.of(corpus, next((o.stats for o in outcomes if o.stats is not None), None)),
        points=tuple(points),
        settings={"backends": [b.spec for b in chosen], "repeat": repeat, "jobs": jobs,
                  "timing": "wall seconds in the worker process, fastest of --repeat runs"},
        kbound_version=kbound_version(),
        interrupted=interrupted,
        signal=signum,
    )
