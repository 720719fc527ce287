"""Running backend tasks locally through the `LocalExecutor`: each in its own worker process, longest first.

A worker that raises, returns the wrong bytes, or dies in native code (pyppmd has crashed the
interpreter on bad input) becomes a failed outcome for that task; the run goes on. Input that
cannot be read stops the run: every backend would measure less than the corpus. Ctrl-C,
SIGTERM and SIGHUP (see `kbound.run.signals`) stop every worker and raise `Interrupted` with
what finished; workers also die with the parent if it is killed outright.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kbound.backends.catalog import STREAM_BYTES
from kbound.backends.registry import memory_bytes, seconds_per_mb
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


def memory_need(task: Task) -> int:
    """The memory the scheduler sets aside for a task: its worker plus the codec's own estimate."""
    return WORKER_BYTES + memory_bytes(task.backend, task.size)


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
    if ex.remote:
        from kbound.run.distributed import check_shareable, remote_call

        check_shareable(tasks)
        calls = [remote_call(t, verify, limit, expected_seconds(t)) for t in tasks]
    else:
        options = {"verify": verify, "cache_root": cache_root, "write_cache": write_cache, "limit": limit}
        calls = [Call(_task, (*split_task(t), options), t.label, memory_need(t), expected_seconds(t), reports=True,
                      keep=t.index is not None) for t in tasks]
    done: dict[int, Outcome] = {}

    def finished(i: int, result: Any) -> None:
        task = tasks[i]
        where = f"{task.backend.spec}{' ' + task.label if task.label else ''}"
        if isinstance(result, Failure) and ex.remote:
            raise KboundError(f"{where} {result.message}")
        if not isinstance(result, Failure) and task.index is not None:
            kept, result = result, ex.fetch(result, "fields")
            if on_index and not result.get("fatal") and not result.get("error"):
                on_index(task, kept)
        if isinstance(result, dict) and result.get("fatal"):
            label = f"{task.label}: " if task.label else ""
            raise CorpusError(f"{where} on the cluster: {result['fatal']}" if ex.remote
                              else f"{label}{result['fatal']}")
        done[i] = outcome_of(task, result) if isinstance(result, dict) else Outcome(
            task.backend, error=_failure(task, result))
        if on_done:
            on_done(task, done[i])

    try:
        ex.run(calls, on_start=lambda i: on_start(tasks[i]) if on_start else None, on_done=finished,
               on_progress=lambda i, d, t: on_progress(tasks[i], d, t) if on_progress else None)
    except Stopped as stop:
        raise Interrupted([done[i] for i in sorted(done)], signum=stop.signum) from None
    finally:
        if own:
            ex.close()
    return [done[i] for i in range(len(tasks))]


def _task(task: Task, dups: list[Any], targets: list[Any], options: dict[str, Any],
          report: Callable[[int, int], None]) -> dict[str, Any]:
    """What a worker runs for one backend task."""
    result = run_task(joined_task(task, dups, targets), report=report, **options)
    if resource is not None:  # ru_maxrss is in KiB on Linux
        fields = result["fields"] if task.index is not None else result
        usage = resource.getrusage(resource.RUSAGE_SELF)
        fields["peak_rss_bytes"] = usage.ru_maxrss * 1024
        fields["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result


def _failure(task: Task, result: Failure) -> str:
    """A task's failure in its row's words: the backend crashed, or could not run in the memory allowed."""
    message = result.message
    if message.startswith("needs about "):
        return message.replace("of memory,", f"of memory for {task.size:,} bytes,", 1)
    return message.replace("the worker crashed", "the backend crashed").replace(
        "the worker exited", "the backend's worker exited")
