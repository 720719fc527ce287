"""Running backends on plans: the tasks they make, what the caches already know, the rest run, combined.

This is the one run loop every command uses (`estimate`, `curve`, `compare`, `tradeoff`).
Each backend has a `ShardLayout` (the corpus in one piece, or shards). Every task is first looked up:
its selection's fingerprint names the identity of its bytes (`SelectionMemo`), and that
identity with the backend names a verified result (`ResultCache`). Only the rest run, locally
or on Dask; each verified task is stored as it finishes, so a run stopped at 90 % and started
again computes only what is missing. Tasks that read the same selection must agree on its
sha256, or the input changed while it was read: that is an error, not a bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kbound.backends.base import Backend
from kbound.backends.decoder import measure
from kbound.dedup.figures import Duplicates
from kbound.errors import CorpusError, KboundError
from kbound.run.cache import ResultCache, SelectionMemo
from kbound.run.dedup import DedupSetup, DedupStage, run_stage
from kbound.run.distributed import check_shareable
from kbound.run.engine import run_tasks
from kbound.run.executor import Executor, executor_for
from kbound.run.outcome import Interrupted, Outcome
from kbound.run.routed import RoutedBounds
from kbound.run.shards import ShardLayout, combine
from kbound.run.worker import Task
from kbound.sources.stream import Selection, StreamStats, scan


@dataclass(frozen=True)
class Job:
    """One backend over one plan (one piece, or shards)."""

    backend: Backend
    plan: ShardLayout


@dataclass(frozen=True)
class RunOptions:
    """How to run: verification, parallelism, caches, limits, and where (None: this machine)."""

    verify: bool = True
    jobs: int | None = None
    cache_dir: str | None = None
    #: Read and write the caches at all (False: `--no-cache`).
    use_cache: bool = True
    #: Recall and store results (False for timings that must be fresh, as `tradeoff` measures).
    recall: bool = True
    #: `--max-bytes`, checked while streaming.
    limit: int | None = None
    max_memory: int | None = None
    #: A Dask scheduler address or `distributed.Client`.
    scheduler: Any = None
    kbound_version: str = ""
    #: Run the duplicate stage (`kbound.run.dedup`) over the `raw` job's plan.
    dedup: DedupSetup | None = None


@dataclass
class Batch:
    """What a run produced: one outcome per job, the sharding cost per job, and how many tasks were recalled."""

    outcomes: list[Outcome]
    costs: list[float | None]
    tasks: int = 0
    cached_tasks: int = 0
    #: The duplicate stage's rows (after the plain ones) and figures, when it ran.
    dedup_outcomes: list[Outcome] = field(default_factory=list)
    duplicates: Duplicates | None = None
    #: Why the duplicate stage gave nothing, when it was asked for and could not run.
    dedup_error: str | None = None
    #: With `--source-field`: each source's own and prefix payloads.
    routed: RoutedBounds | None = None


OnBackend = Callable[[Backend], None]


class _Tracker:
    """Turns task events into backend events: started once, progress summed over the job's tasks, done once."""

    def __init__(self, jobs: Sequence[Job], owner: list[int], tasks: Sequence[Task], verify: bool,
                 on_start: OnBackend | None, on_progress: Callable[[Backend, int, int], None] | None) -> None:
        self.jobs, self.owner, self.tasks = jobs, owner, tasks
        self.on_start, self.on_progress = on_start, on_progress
        self.started: set[int] = set()
        self.done = [0] * len(tasks)
        self.total = [t.size * (2 if verify else 1) for t in tasks]

    def start(self, task_index: int) -> None:
        j = self.owner[task_index]
        if self.on_start and j not in self.started:
            self.started.add(j)
            self.on_start(self.jobs[j].backend)

    def progress(self, task_index: int, done: int, total: int) -> None:
        self.done[task_index], self.total[task_index] = done, max(total, done)
        if self.on_progress:
            j = self.owner[task_index]
            mine = [i for i, o in enumerate(self.owner) if o == j]
            self.on_progress(self.jobs[j].backend, sum(self.done[i] for i in mine), sum(self.total[i] for i in mine))

    def finish(self, task_index: int) -> None:
        self.progress(task_index, self.total[task_index], self.total[task_index])


def run_jobs(
    jobs: Sequence[Job],
    options: RunOptions,
    *,
    on_start: OnBackend | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    on_progress: Callable[[Backend, int, int], None] | None = None,
) -> Batch:
    """Run every job (cached tasks recalled, the rest run) and combine each into one outcome, in job order.

    Raises `Interrupted` carrying the outcomes of the jobs that completed, and `CorpusError` when
    input cannot be read or changed while it was read.
    """
    tasks: list[Task] = []
    owner: list[int] = []
    roles: list[tuple[int, str, int]] = []  # (job, "shard" | "part", index)
    distributed = options.scheduler is not None
    dedup = options.dedup
    indexer = next((j for j, job in enumerate(jobs) if job.backend.name == "raw"), None) if dedup else None
    for j, job in enumerate(jobs):
        plan, k = job.plan, len(job.plan.shards)
        for s, (selection, size) in enumerate(zip(plan.shards, plan.sizes, strict=True)):
            label = f"shard {s + 1} of {k}" if k > 1 else ""
            index = dedup.request(s) if dedup is not None and j == indexer else None
            tasks.append(Task(job.backend, selection, size, label, measure_decoder=k == 1 and not distributed,
                              index=index))
            owner.append(j)
            roles.append((j, "shard", s))
        for p, selection in enumerate(plan.cost_parts):
            tasks.append(Task(job.backend, selection, plan.sizes[0] // 2, f"part {p + 1} of shard 1",
                              measure_decoder=False))
            owner.append(j)
            roles.append((j, "part", p))
    recall = options.use_cache and options.recall
    results = ResultCache(options.cache_dir, enabled=recall, kbound_version=options.kbound_version)
    memo = SelectionMemo(options.cache_dir, enabled=recall)
    found: dict[int, Outcome] = {}
    for i, task in enumerate(tasks):
        if task.index is not None:
            continue  # the index is made while reading: this task must run
        stats = memo.get(task.selection.fingerprint())
        hit = results.get(stats, task.backend) if stats is not None else None
        if hit is not None:
            found[i] = hit
    pending = [i for i in range(len(tasks)) if i not in found]
    tracker = _Tracker(jobs, owner, tasks, options.verify, on_start, on_progress)
    remaining = [sum(1 for i in pending if owner[i] == j) for j in range(len(jobs))]
    combined: dict[int, tuple[Outcome, float | None]] = {}
    identity: dict[str, StreamStats] = {}

    def settle(j: int) -> None:
        combined[j] = _combine(jobs[j], j, roles, found, options)
        if on_done:
            on_done(combined[j][0])

    def finished(i: int, outcome: Outcome) -> None:
        _check_identity(tasks[i], outcome, identity)
        found[i] = outcome
        if outcome.stats is not None:
            memo.put(tasks[i].selection.fingerprint(), outcome.stats)
        results.put(outcome)
        tracker.finish(i)
        j = owner[i]
        remaining[j] -= 1
        if remaining[j] == 0:
            settle(j)

    for j in range(len(jobs)):
        if remaining[j] == 0:
            settle(j)
    todo = [tasks[i] for i in pending]
    where = {id(t): i for t, i in zip(todo, pending, strict=True)}
    kept: dict[int, Any] = {}
    if distributed:
        check_shareable(todo)  # before connecting: a stream read once here cannot reach a cluster
    executor = executor_for(options.scheduler, jobs=options.jobs, max_memory=options.max_memory)
    stage: DedupStage | None = None
    staged = False
    stage_error = None
    try:
        if todo:
            run_tasks(
                todo, executor=executor, verify=options.verify, cache_root=options.cache_dir,
                write_cache=options.use_cache, limit=options.limit,
                on_start=lambda t: tracker.start(where[id(t)]),
                on_done=lambda t, o: finished(where[id(t)], o),
                on_progress=lambda t, done, total: tracker.progress(where[id(t)], done, total),
                on_index=lambda t, k: kept.__setitem__(roles[where[id(t)]][2], k),
            )
        if dedup is not None and indexer is not None:
            staged = True
            try:
                stage = _dedup_stage(executor, dedup, jobs, indexer, roles, found, kept, options, on_start, on_done)
            except CorpusError:
                raise
            except KboundError as e:  # the plain rows stand; the report says why the stage gave nothing
                stage_error = str(e)
    except Interrupted as stop:
        # Past the plain rows, what the signal left is the deduplicated rows that finished.
        done = [combined[j][0] for j in sorted(combined)] + (list(stop.finished) if staged else [])
        raise Interrupted(done, signum=stop.signum) from None
    finally:
        executor.close()
    return Batch(
        outcomes=[combined[j][0] for j in range(len(jobs))],
        costs=[combined[j][1] for j in range(len(jobs))],
        tasks=len(tasks),
        cached_tasks=len(tasks) - len(pending),
        dedup_outcomes=[] if stage is None else [stage.outcomes[j] for j in sorted(stage.outcomes)],
        duplicates=None if stage is None else stage.figures,
        dedup_error=stage_error,
        routed=None if stage is None else stage.routed,
    )


def _dedup_stage(executor: Executor, setup: DedupSetup, jobs: Sequence[Job], indexer: int,
                 roles: Sequence[tuple[int, str, int]], found: dict[int, Outcome], kept: dict[int, Any],
                 options: RunOptions, on_start: OnBackend | None,
                 on_done: Callable[[Outcome], None] | None) -> DedupStage | None:
    """The duplicate stage over the index the `raw` job made; None when pass 1 did not complete."""
    plan = jobs[indexer].plan
    if len(kept) != len(plan.shards):
        return None  # a shard could not be indexed: its raw row says why
    plain: dict[tuple[int, int], Outcome] = {}
    for i, (j, role, s) in enumerate(roles):
        if role == "shard" and i in found and jobs[j].plan == plan:
            plain[(j, s)] = found[i]
    stats = [plain[(indexer, s)].stats for s in range(len(plan.shards))]
    if any(st is None for st in stats):
        return None
    covered = [(j, job.backend) for j, job in enumerate(jobs) if job.plan == plan]
    return run_stage(executor, setup, plan, covered, kept, plain, [st for st in stats if st is not None],
                     verify=options.verify, limit=options.limit, cache_root=options.cache_dir,
                     write_cache=options.use_cache, recall=options.use_cache and options.recall,
                     kbound_version=options.kbound_version, on_start=on_start, on_done=on_done)


def identify(selection: Selection, options: RunOptions) -> StreamStats:
    """A selection's identity without compressing it: remembered by fingerprint, else read once (and remembered)."""
    memo = SelectionMemo(options.cache_dir, enabled=options.use_cache)
    fingerprint = selection.fingerprint()
    stats = memo.get(fingerprint)
    if stats is None:
        stats = scan(selection, options.limit)
        memo.put(fingerprint, stats)
    return stats


def _combine(job: Job, j: int, roles: Sequence[tuple[int, str, int]], found: dict[int, Outcome],
             options: RunOptions) -> tuple[Outcome, float | None]:
    shards: list[Outcome | None] = [None] * len(job.plan.shards)
    parts: list[Outcome | None] = [None] * len(job.plan.cost_parts)
    for i, (owner, role, k) in enumerate(roles):
        if owner == j and i in found:
            (shards if role == "shard" else parts)[k] = found[i]
    decoder = None
    if all(o is not None and not o.error for o in shards):
        first = shards[0]
        decoder = first.decoder if first is not None and first.decoder is not None else measure(
            job.backend, options.cache_dir, write_cache=options.use_cache)
    return combine(job.backend, job.plan, shards, parts, decoder)


def _check_identity(task: Task, outcome: Outcome, seen: dict[str, StreamStats]) -> None:
    """Tasks on the same selection must have read the same bytes."""
    fingerprint = task.selection.fingerprint() or repr(task.selection)
    stats = outcome.stats
    if stats is None:
        return
    before = seen.setdefault(fingerprint, stats)
    if (before.sha256, before.bytes) != (stats.sha256, stats.bytes):
        where = f" ({task.label})" if task.label else ""
        raise CorpusError(
            f"the input changed while it was being read{where}: one reading gave {before.bytes:,} bytes "
            f"(sha256 {before.sha256[:16]}…), another {stats.bytes:,} (sha256 {stats.sha256[:16]}…)"
        )
