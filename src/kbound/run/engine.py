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
from kbound.errors import CorpusError
from kbound.run.executor import WORKER_BYTES, Call, Failure, LocalExecutor, Stopped, available_memory, default_jobs
from kbound.run.outcome import Interrupted, Outcome
from kbound.run.worker import Task, run_task

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
    verify: bool = True,
    jobs: int | None = None,
    cache_root: str | None = None,
    write_cache: bool = True,
    limit: int | None = None,
    on_start: OnTask | None = None,
    on_done: Callable[[Task, Outcome], None] | None = None,
    on_progress: Callable[[Task, int, int], None] | None = None,
    max_memory: int | None = None,
) -> list[Outcome]:
    """Run tasks in worker processes, at most `jobs` at once, the longest expected first; outcomes in task order.

    Memory: tasks run together only while the sum of their `memory_need` stays within the budget.
    Given `max_memory`, the budget is a hard cap: a task that cannot fit even alone is not
    started, and its outcome says what it would need. Without it, the budget is the memory
    available now (no limit where that is unknown) and only orders the work: a task too big for
    it runs alone, since the estimates are upper envelopes.

    `on_progress(task, done, total)` hears bytes done of the task's expected total (compressed,
    then decompressed). A task whose input cannot be read raises `CorpusError` (naming the task)
    after stopping the others. Ctrl-C, SIGTERM and SIGHUP terminate every worker (payloads are
    anonymous temporary files, so nothing is left behind) and raise `Interrupted` with the
    outcomes finished so far.
    """
    options = {"verify": verify, "cache_root": cache_root, "write_cache": write_cache, "limit": limit}
    calls = [Call(_task, (t, options), t.label, memory_need(t), expected_seconds(t), reports=True) for t in tasks]
    done: dict[int, Outcome] = {}

    def finished(i: int, result: Any) -> None:
        if isinstance(result, dict) and result.get("fatal"):
            label = f"{tasks[i].label}: " if tasks[i].label else ""
            raise CorpusError(f"{label}{result['fatal']}")
        done[i] = outcome_of(tasks[i], result) if isinstance(result, dict) else Outcome(
            tasks[i].backend, error=_failure(tasks[i], result))
        if on_done:
            on_done(tasks[i], done[i])

    executor = LocalExecutor(jobs, max_memory)
    try:
        executor.run(calls, on_start=lambda i: on_start(tasks[i]) if on_start else None, on_done=finished,
                     on_progress=lambda i, d, t: on_progress(tasks[i], d, t) if on_progress else None)
    except Stopped as stop:
        raise Interrupted([done[i] for i in sorted(done)], dict(done), stop.signum) from None
    finally:
        executor.close()
    return [done[i] for i in range(len(tasks))]


def _task(task: Task, options: dict[str, Any], report: Callable[[int, int], None]) -> dict[str, Any]:
    """What a worker runs for one backend task."""
    return run_task(task, report=report, **options)


def _failure(task: Task, result: Failure) -> str:
    """A task's failure in its row's words: the backend crashed, or could not run in the memory allowed."""
    message = result.message
    if message.startswith("needs about "):
        return message.replace("of memory,", f"of memory for {task.size:,} bytes,", 1)
    return message.replace("the worker crashed", "the backend crashed").replace(
        "the worker exited", "the backend's worker exited")
