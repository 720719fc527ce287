"""Running tasks on a Dask cluster (`pip install kbound[dask]`): each task is one Dask task.

A task names its sources (paths on a file system the workers share, or fsspec URLs such as
`s3://…`) and its part of them; workers read the data themselves and never need anything that
exists only on the client. They need kbound and the backends' libraries installed. A task
returns the same fields as a local worker but the decoder, which the client measures once, so
the bound is the same byte for byte wherever the shards ran. A task that fails on the cluster
(a worker died, the data could not be read) fails the run, naming the shard and the reason:
a partial bound is never the bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kbound.backends.registry import parse_spec
from kbound.errors import CorpusError, KboundError
from kbound.run.engine import expected_seconds, outcome_of
from kbound.run.executor import Call, DaskExecutor, Failure, Stopped
from kbound.run.outcome import Interrupted, Outcome
from kbound.run.worker import Task, run_task


def _remote(spec: str, task: Task, verify: bool, limit: int | None) -> dict[str, Any]:
    """What a Dask worker runs: one backend (rebuilt from its spec, so no class is pickled) on one selection."""
    rebuilt = Task(parse_spec(spec), task.selection, task.size, task.label, measure_decoder=False)
    return run_task(rebuilt, verify=verify, limit=limit)


def check_shareable(tasks: Sequence[Task]) -> None:
    """Refuse sources that only the client can read (a spooled standard input or FIFO)."""
    for task in tasks:
        for piece in task.selection.pieces:
            if not piece.source.stamp and piece.source.url.startswith("/proc/"):
                raise KboundError(
                    f"{piece.source.name}: a stream read once by this process cannot be sent to Dask workers; "
                    "write it to a file the workers can read"
                )


def run_tasks_dask(
    tasks: Sequence[Task],
    scheduler: Any,
    *,
    verify: bool = True,
    limit: int | None = None,
    on_start: Callable[[Task], None] | None = None,
    on_done: Callable[[Task, Outcome], None] | None = None,
) -> list[Outcome]:
    """Submit every task to the cluster at `scheduler` (an address or a `distributed.Client`); outcomes in order.

    Longer tasks get higher priority. Ctrl-C, SIGTERM and SIGHUP cancel every submitted task and
    raise `Interrupted`; a task that fails on the cluster raises `KboundError` after cancelling the rest.
    """
    check_shareable(tasks)
    executor = DaskExecutor(scheduler)
    done: dict[int, Outcome] = {}

    def finished(i: int, fields: Any) -> None:
        where = f"{tasks[i].backend.spec}{' ' + tasks[i].label if tasks[i].label else ''}"
        if isinstance(fields, Failure):
            raise KboundError(f"{where} {fields.message}")
        if fields.get("fatal"):
            raise CorpusError(f"{where} on the cluster: {fields['fatal']}")
        done[i] = outcome_of(tasks[i], fields)
        if on_done:
            on_done(tasks[i], done[i])

    calls = [Call(_remote, (t.backend.spec, t, verify, limit), t.label, expected_seconds=expected_seconds(t))
             for t in tasks]
    try:
        executor.run(calls, on_start=lambda i: on_start(tasks[i]) if on_start else None, on_done=finished)
    except Stopped as stop:
        raise Interrupted([done[i] for i in sorted(done)], dict(done), stop.signum) from None
    finally:
        executor.close()
    return [done[i] for i in range(len(tasks))]
