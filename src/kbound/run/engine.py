"""Running backend tasks locally through the `LocalExecutor`: each in its own worker process, longest first.

A worker that raises, returns the wrong bytes, or dies in native code (pyppmd has crashed the
interpreter on bad input) becomes a failed outcome for that task; the run goes on. Input that
cannot be read stops the run: every backend would measure less than the corpus. Ctrl-C,
SIGTERM and SIGHUP (see `kbound.run.signals`) stop every worker and raise `Interrupted` with
what finished; workers also die with the parent if it is killed outright.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from kbound.backends.base import Backend
from kbound.backends.catalog import STREAM_BYTES
from kbound.backends.registry import is_builtin_raw, memory_bytes, seconds_per_mb
from kbound.dedup.delta import window_budget
from kbound.errors import CorpusError, KboundError
from kbound.run.executor import (
    WORKER_BYTES,
    Call,
    Executor,
    Failure,
    LocalExecutor,
    Stopped,
    available_memory,
    default_jobs,
)
from kbound.run.outcome import Interrupted, Outcome
from kbound.run.worker import Task, joined_task, run_task, split_task

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

__all__ = ["MIN_MAX_MEMORY", "WORKER_BYTES", "available_memory", "default_jobs", "expected_seconds", "memory_need",
           "outcome_of", "run_tasks"]

#: The smallest --max-memory that runs anything: one worker of a streaming codec (`raw`, the floor).
MIN_MAX_MEMORY = WORKER_BYTES + STREAM_BYTES

OnTask = Callable[[Task], None]

#: `raw` rides on another task over the same selection when that one is expected to cost at most this
#: (single-core seconds per MB, the catalog's figure): the corpus is then read, parsed and hashed once for
#: both. A slower codec would hold the floor's row back until it finished (and an interrupted run print less).
RIDE_SECONDS_PER_MB = 0.05


def memory_need(task: Task) -> int:
    """The memory the scheduler sets aside for a task: its worker, the codec's own estimate and its riders',
    and the near-copy windows of a shard coded with references."""
    windows = window_budget(task.size) if task.dedup is not None and task.dedup.windows else 0
    return WORKER_BYTES + sum(memory_bytes(b, task.size) for b in (task.backend, *task.riders)) + windows


def can_host_raw(backend: Backend) -> bool:
    """Whether a `raw` task over the same selection may ride on this backend's task (it is expected to be cheap)."""
    return backend.name != "raw" and seconds_per_mb(backend) <= RIDE_SECONDS_PER_MB


def rides(tasks: Sequence[Task]) -> dict[int, int]:
    """Which `raw` tasks ride on which other task (index to index): the cheapest task over the same selection
    and label that codes it plainly and is expected at `RIDE_SECONDS_PER_MB` or less. A raw task that
    indexes (pass 1 of the duplicate stage) hands its index to the task it rides on."""
    def plain(t: Task) -> bool:
        return t.dedup is None and not t.riders and (t.index is None or t.backend.name == "raw")

    hosts: dict[tuple[Any, str], int] = {}
    for i, t in enumerate(tasks):
        if t.backend.name == "raw" or not plain(t) or not can_host_raw(t.backend):
            continue
        key = (t.selection, t.label)
        if key not in hosts or seconds_per_mb(t.backend) < seconds_per_mb(tasks[hosts[key]].backend):
            hosts[key] = i
    return {i: hosts[(t.selection, t.label)] for i, t in enumerate(tasks)
            if is_builtin_raw(t.backend) and plain(t) and (t.selection, t.label) in hosts}


def _carrying(host: Task, riders: list[Task]) -> Task:
    """`host` with its riders' backends, and the index one of them was to make."""
    index = next((r.index for r in riders if r.index is not None), host.index)
    return dataclasses.replace(host, riders=tuple(r.backend for r in riders), index=index)


def expected_seconds(task: Task) -> float:
    """The scheduler's guess at a task's cost: the backend's seconds per MB times the MB it reads."""
    return seconds_per_mb(task.backend) * max(task.size, 1) / 1e6


def outcome_of(task: Task, fields: dict[str, Any]) -> Outcome:
    """An `Outcome` from a worker's result fields (without `fatal`, which the caller handles)."""
    fields = {k: v for k, v in fields.items() if k != "fatal"}
    return Outcome(task.backend, **fields)


def run_tasks(
    tasks: Sequence[Task],
    *,
    executor: Executor | None = None,
    verify: bool = True,
    jobs: int | None = None,
    cache_root: str | None = None,
    write_cache: bool = True,
    limit: int | None = None,
    on_start: OnTask | None = None,
    on_done: Callable[[Task, Outcome], None] | None = None,
    on_progress: Callable[[Task, int, int], None] | None = None,
    max_memory: int | None = None,
    on_index: Callable[[Task, Any], None] | None = None,
) -> list[Outcome]:
    """Run tasks through `executor` (default: worker processes here, `jobs` at once), longest first; outcomes in order.

    Locally, memory is budgeted as `LocalExecutor` says (`max_memory` a hard cap). On Dask, each
    backend is rebuilt from its spec on the worker and the client measures decoders once.
    `on_progress(task, done, total)` hears bytes done of the task's expected total (compressed,
    then decompressed; local runs only). A task whose input cannot be read raises `CorpusError`
    (naming the task) after stopping the others. Ctrl-C, SIGTERM and SIGHUP terminate every worker
    (payloads are anonymous temporary files, so nothing is left behind) and raise `Interrupted`
    with the outcomes finished so far. A task with `index` keeps its index where it ran and hands
    it to `on_index(task, kept)`.
    """
    own = executor is None
    ex = executor if executor is not None else LocalExecutor(jobs, max_memory)
    riding = rides(tasks)
    riders: dict[int, list[int]] = {}
    for r, h in riding.items():
        riders.setdefault(h, []).append(r)
    order = [i for i in range(len(tasks)) if i not in riding]  # the calls: tasks[order[j]] is call j
    run = [_carrying(tasks[i], [tasks[r] for r in riders.get(i, ())]) for i in order]
    if ex.remote:
        from kbound.run.distributed import check_shareable, remote_call

        check_shareable(tasks)
        calls = [remote_call(t, verify, limit, expected_seconds(t)) for t in run]
    else:
        options = {"verify": verify, "cache_root": cache_root, "write_cache": write_cache, "limit": limit}
        calls = [Call(_task, (*split_task(t), options), t.label, memory_need(t), expected_seconds(t), reports=True,
                      keep=t.index is not None) for t in run]
    done: dict[int, Outcome] = {}

    def group(j: int) -> list[int]:
        return [order[j], *riders.get(order[j], ())]

    def started(j: int) -> None:
        for i in group(j):
            if on_start:
                on_start(tasks[i])

    def progressed(j: int, done_bytes: int, total: int) -> None:
        for i in group(j):
            if on_progress:
                on_progress(tasks[i], done_bytes, total)

    def finished(j: int, result: Any) -> None:
        i = order[j]
        if isinstance(result, Failure) and ex.remote:
            task = tasks[i]
            raise KboundError(f"{task.backend.spec}{' ' + task.label if task.label else ''} {result.message}")
        kept = None
        if not isinstance(result, Failure) and run[j].index is not None:
            kept, result = result, ex.fetch(result, "fields")
        ridden = [_rider_fields(result, k) for k in range(len(riders.get(i, ())))]
        for r, fields in zip((i, *riders.get(i, ())), (result, *ridden), strict=True):
            one(r, fields)
            if kept is not None and tasks[r].index is not None and on_index and isinstance(fields, dict) \
                    and not fields.get("error"):
                on_index(tasks[r], kept)

    def one(i: int, result: Any) -> None:
        task = tasks[i]
        where = f"{task.backend.spec}{' ' + task.label if task.label else ''}"
        if isinstance(result, dict) and result.get("fatal"):
            label = f"{task.label}: " if task.label else ""
            raise CorpusError(f"{where} on the cluster: {result['fatal']}" if ex.remote
                              else f"{label}{result['fatal']}")
        if isinstance(result, dict):
            result = {k: v for k, v in result.items() if k != "riders"}
        done[i] = outcome_of(task, result) if isinstance(result, dict) else Outcome(
            task.backend, error=_failure(task, result))
        if on_done:
            on_done(task, done[i])

    try:
        ex.run(calls, on_start=started, on_done=finished, on_progress=progressed)
    except Stopped as stop:
        raise Interrupted([done[i] for i in sorted(done)], signum=stop.signum) from None
    finally:
        if own:
            ex.close()
    return [done[i] for i in range(len(tasks))]


def _rider_fields(result: Any, k: int) -> Any:
    """The k-th rider's share of a call's result: its own fields, or the call's crash or unreadable input."""
    if not isinstance(result, dict) or result.get("fatal"):
        return result
    found = result.get("riders") or []
    return found[k] if k < len(found) else {"error": "not run: the task it rode on stopped"}


def _task(task: Task, arrays: list[list[Any]], options: dict[str, Any],
          report: Callable[[int, int], None]) -> dict[str, Any]:
    """What a worker runs for one backend task."""
    result = run_task(joined_task(task, arrays), report=report, **options)
    if resource is not None:  # ru_maxrss is in KiB on Linux
        fields = result["fields"] if task.index is not None else result
        fields["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        for rider in fields.get("riders", ()):
            rider["peak_rss_bytes"] = fields["peak_rss_bytes"]
    return result


def _failure(task: Task, result: Failure) -> str:
    """A task's failure in its row's words: the backend crashed, or could not run in the memory allowed."""
    message = result.message
    if message.startswith("needs about "):
        return message.replace("of memory,", f"of memory for {task.size:,} bytes,", 1)
    return message.replace("the worker crashed", "the backend crashed").replace(
        "the worker exited", "the backend's worker exited")
