"""Backend tasks on a Dask cluster (`pip install kbound[dask]`), run by `kbound.run.engine` through the `DaskExecutor`.

A task names its sources (paths on a file system the workers share, or fsspec URLs such as
`s3://…`) and its part of them; workers read the data themselves and never need anything that
exists only on the client. They need kbound and the backends' libraries installed. A task
returns the same fields as a local worker but the decoder, which the client measures once, so
the bound is the same byte for byte wherever the shards ran. A task that fails on the cluster
(a worker died, the data could not be read) fails the run, naming the shard and the reason:
a partial bound is never the bound.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from kbound.backends.registry import parse_spec
from kbound.errors import KboundError
from kbound.run.executor import Call
from kbound.run.worker import Task, joined_task, run_task, split_task


def _remote(spec: str, task: Task, arrays: list[list[Any]], verify: bool, limit: int | None,
            riders: tuple[str, ...] = ()) -> dict[str, Any]:
    """What a Dask worker runs: one backend (rebuilt from its spec, so no class is pickled) on one selection."""
    rebuilt = joined_task(Task(parse_spec(spec), task.selection, task.size, task.label, measure_decoder=False,
                               index=task.index, dedup=task.dedup, riders=tuple(parse_spec(r) for r in riders)),
                          arrays)
    return run_task(rebuilt, verify=verify, limit=limit)


def remote_call(task: Task, verify: bool, limit: int | None, expected_seconds: float) -> Call:
    """A task as a call for the `DaskExecutor` (an indexing task keeps its index on the worker)."""
    bare, arrays = split_task(task)
    bare = dataclasses.replace(bare, riders=())
    return Call(_remote, (task.backend.spec, bare, arrays, verify, limit, tuple(r.spec for r in task.riders)),
                task.label, expected_seconds=expected_seconds, keep=task.index is not None)


def check_shareable(tasks: Sequence[Task]) -> None:
    """Refuse sources that only the client can read (a spooled standard input or FIFO)."""
    for task in tasks:
        for piece in task.selection.pieces:
            if not piece.source.stamp and piece.source.url.startswith("/proc/"):
                raise KboundError(
                    f"{piece.source.name}: a stream read once by this process cannot be sent to Dask workers; "
                    "write it to a file the workers can read"
                )
