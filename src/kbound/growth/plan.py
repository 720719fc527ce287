"""`--plan SIZE`: run the candidates on a seeded sample of whole documents, predict, and keep only what could win.

The sample is nested document samples of SIZE/64, SIZE/16, SIZE/4 and SIZE (`plan_sizes`),
stratified by source when the corpus has several (each source sampled at the same fraction of its
bytes, at least one document each), seeded by `--plan-seed`. A corpus of one document is sampled
by its prefixes instead. Each candidate's bound and cost at the corpus's size come from
`kbound.growth.forecast`, and `forecast.RULE` keeps those whose bound could still be the
smallest. The planned run then runs only them, over the whole corpus, verified: the sample only
chooses, it never enters the bound.

The samples are staged (`screen`): once three sample sizes are measured, the rule is applied to
what they predict before each larger sample, and a candidate it drops there does not run on the
larger ones (its verdict is final); when one candidate is left, sampling stops. The rule's spread
is stretched by how far the corpus lies beyond the largest sample measured, so it is wider on the
smaller samples, and what it drops there is far behind. The largest sample, most of a sample's
cost, is then paid only by the candidates still close to the best.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kbound.backends.base import Backend
from kbound.backends.registry import memory_bytes, window_bytes
from kbound.growth.forecast import (
    RULE,
    Forecast,
    Overhead,
    SamplePoint,
    forecast,
    keep,
    makespan,
    refit,
    run_core_seconds,
)
from kbound.run.batch import Job, RunOptions, identify, run_jobs
from kbound.run.engine import WORKER_BYTES, can_host_raw
from kbound.run.outcome import FAILED, Outcome
from kbound.run.shards import one
from kbound.sources.corpus import Corpus
from kbound.sources.sampling import EXACT_DOCUMENTS, sample_selections, strata_lengths, stratified_selections
from kbound.sources.stream import Selection

#: The nested samples are SIZE divided by each of these: four sizes, factors of 4 apart.
PLAN_DIVISORS = (64, 16, 4, 1)
#: The rule screens candidates before a sample once this many sample sizes are measured (the pair's spread
#: needs three).
SCREEN_AFTER = 3
DEFAULT_PLAN_SEED = 0

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]


def process_cpu_seconds() -> float | None:
    """User and system CPU seconds of this process and its finished children (local workers); None off POSIX."""
    if resource is None:
        return None
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def plan_sizes(total_bytes: int, size: int) -> list[int]:
    """The sample sizes for SIZE on a corpus of `total_bytes`: SIZE/64, SIZE/16, SIZE/4, SIZE, none above the
    corpus."""
    return sorted({max(1, min(total_bytes, math.ceil(size / d))) for d in PLAN_DIVISORS})


def screen(forecasts: Sequence[Forecast], sample_bytes: int) -> tuple[list[Forecast], list[Forecast]]:
    """The rule on the samples up to `sample_bytes`, before a larger one: (the candidates that go on, those
    dropped, marked `screened_bytes` with the reason). Below `SCREEN_AFTER` sizes measured every one goes on."""
    if not forecasts or min(len(f.points) for f in forecasts) < SCREEN_AFTER:
        return list(forecasts), []
    verdict = {f.spec: f for f in keep(forecasts)}
    on = [f for f in forecasts if verdict[f.spec].kept]
    off = [replace(verdict[f.spec], screened_bytes=sample_bytes,
                   reason=f"dropped on the samples up to {sample_bytes:,} bytes (no larger one run): "
                          f"{verdict[f.spec].reason}")
           for f in forecasts if not verdict[f.spec].kept]
    return on, off


def staged(forecasts: Sequence[Forecast]) -> list[Forecast]:
    """What a `--plan` run would have measured and decided, from forecasts of every candidate on every sample
    (as `kbound plan` runs them): each screened candidate with the points it would have run (`screen`), the
    rest kept or dropped by the rule on the points they would have run, in the candidates' order."""
    sizes = sorted({p.sample_bytes for f in forecasts for p in f.points})
    on = list(forecasts)
    out: dict[str, Forecast] = {}
    for k in range(SCREEN_AFTER, len(sizes)):
        now = [refit(f, [p for p in f.points if p.sample_bytes <= sizes[k - 1]]) for f in on]
        go, off = screen(now, sizes[k - 1])
        out.update((f.spec, f) for f in off)
        names = {f.spec for f in go}
        on = [f for f in on if f.spec in names]
        if len(on) <= 1:
            on = [refit(f, [p for p in f.points if p.sample_bytes <= sizes[k - 1]]) for f in on]
            break
    out.update((f.spec, f) for f in keep(on))
    return [out[f.spec] for f in forecasts]


@dataclass(frozen=True)
class Sample:
    """What the candidates measured on the nested samples, and what the samples cost."""

    corpus_bytes: int
    corpus_documents: int
    seed: int
    #: The bytes and documents each sample read, smallest first.
    sample_bytes: tuple[int, ...]
    sample_documents: tuple[int, ...]
    #: The sources sampled as strata; empty when the corpus is one source.
    strata: tuple[str, ...]
    #: "documents" (seeded whole documents), or "prefix" for a corpus of one document.
    sampling: str
    forecasts: tuple[Forecast, ...]
    #: Compress and verify seconds of the sample tasks that ran (recalled ones cost nothing).
    core_seconds: float
    wall_seconds: float
    #: What the process tree spent besides the tasks, measured while sampling (zero on Dask or off POSIX).
    overhead: Overhead = field(default_factory=Overhead)


def _point(o: Outcome, size: int, verify: bool) -> SamplePoint:
    status = o.status(verify)
    return SamplePoint(size, None if status == FAILED else o.payload_bytes, core_seconds(o), o.why_failed(verify))


def core_seconds(o: Outcome) -> float | None:
    """What a task cost: its worker's CPU seconds where measured, else its compress and verify seconds."""
    if o.cpu_seconds is not None:
        return o.cpu_seconds
    return None if o.compress_seconds is None else o.compress_seconds + (o.decompress_seconds or 0.0)


def _cpu_since(before: float | None) -> float:
    now = process_cpu_seconds()
    return 0.0 if before is None or now is None else max(0.0, now - before)


def run_sample(corpus: Corpus, candidates: Sequence[Backend], size: int, seed: int, options: RunOptions, *,
               start_core_seconds: float = 0.0, on_start: Callable[[Backend], None] | None = None,
               on_done: Callable[[Outcome], None] | None = None, staged: bool = False) -> Sample:
    """Run every candidate on the nested samples (smallest first) and forecast each at the corpus's size.

    `staged`: before each sample once three sizes are measured, `screen` the candidates, the dropped running
    no larger sample (their forecasts come back marked `screened_bytes`), and stop when one is left.
    `start_core_seconds`: what this process spent before (its start and imports, the corpus listed),
    which a run over the corpus pays too; a library caller's process is not a run's, hence 0 by default.
    """
    t0 = time.perf_counter()
    whole = corpus.selection()
    local = options.scheduler is None  # on Dask the tasks' CPU is elsewhere: the tree here says nothing of it
    cpu0 = process_cpu_seconds()
    stats = identify(whole, options)
    scan = _cpu_since(cpu0) if local else 0.0
    sizes = plan_sizes(stats.bytes, size)
    names, index = corpus.group_index()
    strata: tuple[str, ...] = names if len(names) > 1 else ()
    if stats.documents > EXACT_DOCUMENTS:  # too many to list: a hash cut, each source at its share on average
        selections = sample_selections(whole, stats, sizes, "documents", seed)
        sampling, strata = "documents", ()
    elif stats.documents >= 2:
        selections = stratified_selections(whole, strata_lengths(whole, list(index)), stats.bytes, sizes, seed)
        sampling = "documents"
    else:
        selections = [whole if n >= stats.bytes else Selection(whole.pieces, whole.separator, window=(0, n))
                      for n in sizes]
        sampling, strata = "prefix", ()
    points: dict[str, list[SamplePoint]] = {b.spec: [] for b in candidates}
    decoders: dict[str, int] = {}
    peaks: dict[str, int] = {}
    read_bytes: list[int] = []
    read_docs: list[int] = []
    spent = beside = 0.0
    ran = 0

    def predicted(b: Backend) -> Forecast:
        return replace(forecast(b.spec, points[b.spec], stats.bytes, decoders.get(b.spec),
                                WORKER_BYTES + memory_bytes(b, stats.bytes), peaks.get(b.spec), window_bytes(b)),
                       hosts_raw=can_host_raw(b))

    active = list(candidates)
    dropped: dict[str, Forecast] = {}
    for selection, n in zip(selections, sizes, strict=True):
        if staged and read_bytes:
            _, off = screen([predicted(b) for b in active], read_bytes[-1])
            dropped.update((f.spec, f) for f in off)
            active = [b for b in active if b.spec not in dropped]
            if len(active) <= 1:
                break
        cpu0 = process_cpu_seconds()
        batch = run_jobs([Job(b, one(selection, n)) for b in active], options, on_start=on_start,
                         on_done=on_done)
        tree = _cpu_since(cpu0)
        fresh = [o for o in batch.outcomes if not o.cached]
        if local and fresh:
            beside += max(0.0, tree - sum(core_seconds(o) or 0.0 for o in fresh))
            ran += len(fresh)
        read = next((o.stats for o in batch.outcomes if o.stats is not None), None)
        if read is None or (read_bytes and read.bytes == read_bytes[-1]):
            continue  # the same documents as the sample before: no new point
        read_bytes.append(read.bytes)
        read_docs.append(read.documents)
        for o in batch.outcomes:
            points[o.backend.spec].append(_point(o, read.bytes, options.verify))
            if o.decoder is not None:
                decoders[o.backend.spec] = o.decoder.decoder_bytes
            if o.peak_rss_bytes:
                peaks[o.backend.spec] = max(peaks.get(o.backend.spec, 0), o.peak_rss_bytes)
            if not o.cached:
                spent += core_seconds(o) or 0.0
    forecasts = tuple(dropped.get(b.spec) or predicted(b) for b in candidates)
    overhead = Overhead(start_core_seconds, beside / ran if ran else 0.0, scan, ran)
    return Sample(stats.bytes, stats.documents, seed, tuple(read_bytes), tuple(read_docs), strata, sampling,
                  forecasts, spent, time.perf_counter() - t0, overhead)


@dataclass(frozen=True)
class RunPlan:
    """The plan of one run: the sample, every candidate's forecast kept or dropped, predicted and measured cost."""

    size_bytes: int
    sample: Sample
    forecasts: tuple[Forecast, ...]
    workers: int
    rule: str = RULE
    #: Filled in after the run over the corpus: the CPU seconds of this process and its local workers during
    #: it (the `raw` row, the duplicate stage and its rows, which the plan does not predict, included); on
    #: Dask, whose workers are elsewhere, the rows' compress and verify seconds instead (recalled rows: 0).
    measured_core_seconds: float | None = None
    #: How `measured_core_seconds` was measured: "process tree" or "rows".
    measured_by: str | None = None
    #: Wall seconds of the run over the whole corpus (the sample's are `sample.wall_seconds`).
    measured_wall_seconds: float | None = None
    #: This process and its local workers, the sample included (None on Dask).
    measured_process_cpu_seconds: float | None = None
    #: Every kept row's result was recalled from the cache.
    recalled: bool = False

    @property
    def kept(self) -> tuple[str, ...]:
        """The specs the run keeps, in the candidates' order."""
        return tuple(f.spec for f in self.forecasts if f.kept)

    def predicted_core_seconds(self, kept_only: bool = True) -> tuple[float, float, float]:
        """(centre, low, high) core-seconds of the run over the corpus with the kept candidates (after the
        sample, in the same process), or, not `kept_only`, of a run of every candidate (a process of its own)."""
        chosen = [f for f in self.forecasts if (f.kept or not kept_only) and f.core_seconds is not None]
        return run_core_seconds(chosen, self.sample.overhead, start=not kept_only)

    def predicted_wall_seconds(self, kept_only: bool = True) -> float:
        """The kept (or every) candidate over the corpus on `workers` workers, longest first."""
        return makespan([f.core_seconds or 0.0 for f in self.forecasts if f.kept or not kept_only], self.workers)


def make_plan(corpus: Corpus, candidates: Sequence[Backend], size: int, seed: int, options: RunOptions,
              workers: int, **callbacks: Any) -> RunPlan:
    """Sample, forecast and apply the rule. A corpus no larger than twice SIZE is not sampled: every candidate
    runs (a sample that large would cost about what it saves)."""
    stats = identify(corpus.selection(), options)
    if stats.bytes <= 2 * size:
        why = "the corpus is at most twice SIZE: not sampled, every candidate runs"
        forecasts = tuple(Forecast(b.spec, (), stats.bytes, None, WORKER_BYTES + memory_bytes(b, stats.bytes),
                                   reason=why) for b in candidates)
        return RunPlan(size, Sample(stats.bytes, stats.documents, seed, (), (), (), "none", forecasts, 0.0, 0.0),
                       forecasts, workers)
    sample = run_sample(corpus, candidates, size, seed, options, staged=True, **callbacks)
    return RunPlan(size, sample, tuple(keep(sample.forecasts)), workers)


def with_measured(plan: RunPlan, results: Sequence[Any], wall_seconds: float, run_cpu_seconds: float | None,
                  total_cpu_seconds: float | None) -> RunPlan:
    """The plan with what the run over the corpus measured (`results`: the report's `BackendResult`s;
    `run_cpu_seconds`: the process tree's CPU during that run, None on Dask; `total_cpu_seconds`: with the sample)."""
    kept = set(plan.kept)
    plain = [r for r in results if not r.dedup and r.spec in kept]
    rows = sum((r.compress_seconds or 0.0) + (r.decompress_seconds or 0.0) for r in results if not r.cached)
    return replace(plan, measured_core_seconds=rows if run_cpu_seconds is None else run_cpu_seconds,
                   measured_by="rows" if run_cpu_seconds is None else "process tree",
                   measured_wall_seconds=wall_seconds, measured_process_cpu_seconds=total_cpu_seconds,
                   recalled=bool(plain) and all(r.cached for r in plain))


def planned_estimate(inputs: Any, backends: Sequence[str] | None, *, effort: str, size: int, seed: int,
                     on_plan: Callable[[RunPlan], None] | None = None,
                     on_sample_start: Callable[[Backend], None] | None = None,
                     on_sample_done: Callable[[Outcome], None] | None = None, **kwargs: Any) -> Any:
    """`estimate` with `--plan SIZE`: plan on a sample, then run only the kept backends over the whole corpus.

    `inputs`, `backends` (the candidates; default the `effort` preset) and `kwargs` are `estimate`'s;
    shards, Dask, the cache and the duplicate stage apply to the kept backends as to any list.
    `on_plan` hears the plan before the run over the corpus starts. Returns the `Report` with its
    `plan` (predicted and measured). A signal during the sample raises `Interrupted`.
    """
    from kbound.bounds.estimate import corpus_of, estimate, resolve_backends
    from kbound.run.engine import default_jobs
    from kbound.version import kbound_version

    opening = {k: kwargs.pop(k) for k in ("glob", "field", "separator", "max_bytes", "stdin", "plain",
                                          "source_field") if k in kwargs}
    with corpus_of(inputs, **opening) as corpus:
        candidates = [b for b in resolve_backends(backends, effort) if b.name != "raw"]
        options = RunOptions(verify=kwargs.get("verify", True), jobs=kwargs.get("jobs"),
                             cache_dir=kwargs.get("cache_dir"), use_cache=kwargs.get("use_cache", True),
                             limit=corpus.max_bytes, max_memory=kwargs.get("max_memory"),
                             scheduler=kwargs.get("scheduler"), kbound_version=kbound_version())
        cpu0 = process_cpu_seconds()
        plan = make_plan(corpus, candidates, size, seed, options, kwargs.get("jobs") or default_jobs(),
                         on_start=on_sample_start, on_done=on_sample_done)
        if on_plan is not None:
            on_plan(plan)
        t0, cpu_mid = time.perf_counter(), process_cpu_seconds()
        report = estimate(corpus, list(plan.kept) or ["raw"], **kwargs)
        wall = time.perf_counter() - t0
        cpu1 = process_cpu_seconds()
    run_cpu = total_cpu = None
    if kwargs.get("scheduler") is None and cpu0 is not None and cpu_mid is not None and cpu1 is not None:
        run_cpu, total_cpu = cpu1 - cpu_mid, cpu1 - cpu0
    plan = with_measured(plan, report.results, wall, run_cpu, total_cpu)
    settings = dict(report.settings, effort=None if backends else effort, plan_bytes=size, plan_seed=seed,
                    candidates=[b.spec for b in candidates])
    return replace(report, plan=plan, settings=settings)
