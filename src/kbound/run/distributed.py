"""Running tasks on a Dask cluster (`pip install kbound[dask]`): each shard is one Dask task.

Workers need kbound and the backends' libraries installed, and must be able to read the corpus
path: a local path on a shared file system, or an fsspec URL (`s3://…`, `gcs://…`). A task
returns the same fields as a local worker except the decoder, which the caller measures once, so
the bound is the same byte for byte wherever the shards ran.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kbound.backends.registry import parse_spec
from kbound.errors import KboundError
from kbound.run.engine import Interrupted, Outcome, Task, expected_seconds, run_task


def _remote(spec: str, path: str, offset: int, size: int, sha256: str, verify: bool) -> dict[str, Any]:
    """What a Dask worker runs: one backend (rebuilt from its spec) on one byte range."""
    result = run_task(Task(parse_spec(spec), offset, size, sha256), path, verify=verify)
    result.pop("decoder", None)
    return result


def run_tasks_dask(
    tasks: Sequence[Task],
    path: str,
    scheduler: Any,
    *,
    verify: bool = True,
    on_start: Callable[[Task], None] | None = None,
) -> list[Outcome]:
    """Submit every task to the cluster at `scheduler` (an address or a `distributed.Client`); outcomes in order.

    Longer tasks get higher priority. Ctrl-C cancels every submitted task and raises `Interrupted`.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise KboundError("--scheduler needs Dask: pip install 'kbound[dask]'") from None
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    futures = []
    try:
        for i, t in enumerate(tasks):
            futures.append(client.submit(
                _remote, t.backend.spec, path, t.offset, t.size, t.sha256, verify,
                key=f"kbound-{i}-{t.backend.spec}-{t.sha256[:16]}-{t.offset}", priority=int(expected_seconds(t)),
                pure=False,
            ))
            if on_start:
                on_start(t)
        index = {f.key: i for i, f in enumerate(futures)}
        done: dict[int, Outcome] = {}
        try:
            for future in as_completed(futures):
                i = index[future.key]
                try:
                    done[i] = Outcome(tasks[i].backend, **future.result())
                except Exception as e:  # the worker died or the task could not run
                    done[i] = Outcome(tasks[i].backend, error=f"{type(e).__name__}: {e}".rstrip(": "))
        except KeyboardInterrupt:
            client.cancel(futures)
            raise Interrupted([done[i] for i in sorted(done)], dict(done)) from None
        return [done[i] for i in range(len(tasks))]
    finally:
        if client is not scheduler:
            client.close()
