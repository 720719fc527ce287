"""Sharded runs: cut a corpus file into independent shards, run every backend on each, add the payloads up.

A sharded bound is the sum of the shard payloads, plus the frame that says where each payload
ends (the shard count, then each payload's length, as LEB128), plus the decoder once. Shards cut
on document boundaries (just after a separator) when the corpus has several documents, else at
exactly `shard_bytes`. How much sharding costs is measured on a sample: the first two shards
compressed as one piece against the same bytes as two shards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from kbound.backends.base import Backend, write_varint
from kbound.run.engine import CHUNK, Outcome, Task, open_binary


@dataclass(frozen=True)
class Shard:
    """One independent piece of the corpus file: a byte range and its sha256."""

    offset: int
    size: int
    sha256: str


@dataclass(frozen=True)
class Plan:
    """The shards of a corpus file, and the sample (the first two shards as one piece) that prices sharding."""

    shards: tuple[Shard, ...]
    sample: Shard | None


def plan_shards(f: BinaryIO, shard_bytes: int, separator: bytes | None) -> Plan:
    """Read `f` once and cut it into shards of at least `shard_bytes` (each ends after a separator if given)."""
    if shard_bytes < 1:
        raise ValueError("the shard size must be at least one byte")
    shards: list[Shard] = []
    start, chunk_start = 0, 0
    digest, sample = hashlib.sha256(), hashlib.sha256()
    for chunk in iter(lambda: f.read(CHUNK), b""):
        i = 0
        while True:
            cut_at = max(start + shard_bytes - chunk_start, i)
            if cut_at >= len(chunk):
                break
            if separator:
                # A separator split across two chunks is missed; the cut then falls at the next one.
                j = chunk.find(separator, cut_at)
                if j < 0:
                    break
                cut_at = j + len(separator)
            digest.update(chunk[i:cut_at])
            if len(shards) < 2:
                sample.update(chunk[i:cut_at])
            shards.append(Shard(start, chunk_start + cut_at - start, digest.hexdigest()))
            start, i, digest = chunk_start + cut_at, cut_at, hashlib.sha256()
        digest.update(chunk[i:])
        if len(shards) < 2:
            sample.update(chunk[i:])
        chunk_start += len(chunk)
    if chunk_start > start or not shards:
        shards.append(Shard(start, chunk_start - start, digest.hexdigest()))
    two = shards[:2]
    sampled = Shard(0, two[0].size + two[1].size, sample.hexdigest()) if len(two) == 2 else None
    return Plan(tuple(shards), sampled)


def framing_bytes(payloads: Sequence[int]) -> int:
    """The bytes of the frame around concatenated shard payloads: the count, then each payload's length."""
    return len(write_varint(len(payloads))) + sum(len(write_varint(n)) for n in payloads)


def tasks_for(backends: Sequence[Backend], plan: Plan) -> list[Task]:
    """Every backend on every shard, then every backend on the sample (when there are two shards or more)."""
    tasks = [Task(b, s.offset, s.size, s.sha256) for b in backends for s in plan.shards]
    if plan.sample is not None:
        tasks += [Task(b, 0, plan.sample.size, plan.sample.sha256) for b in backends]
    return tasks


def combine(
    backends: Sequence[Backend], plan: Plan, outcomes: Sequence[Outcome | None], decoder_of: Callable[[Backend], Any]
) -> tuple[list[Outcome], dict[str, Any]]:
    """One outcome per backend from its shards' outcomes (in `tasks_for` order), and what sharding cost.

    A backend with any failed (or missing) shard fails. The decoder is measured once, by the caller,
    so that it is the same wherever the shards ran.
    """
    k = len(plan.shards)
    combined: list[Outcome] = []
    cost: dict[str, float | None] = {}
    for n, backend in enumerate(backends):
        parts = outcomes[n * k : (n + 1) * k]
        bad = next(((i, o) for i, o in enumerate(parts) if o is None or o.error or o.payload_bytes is None), None)
        if bad is not None:
            i, o = bad
            combined.append(Outcome(backend, error=f"shard {i + 1} of {k}: {o.error if o else 'not run'}"))
            cost[backend.spec] = None
            continue
        sizes = [o.payload_bytes for o in parts if o is not None and o.payload_bytes is not None]
        decompress = [o.decompress_seconds for o in parts if o is not None]
        combined.append(Outcome(
            backend,
            payload_bytes=sum(sizes) + framing_bytes(sizes),
            decoder=decoder_of(backend),
            compress_seconds=sum(o.compress_seconds or 0.0 for o in parts if o is not None),
            decompress_seconds=None if None in decompress else sum(d or 0.0 for d in decompress),
            verified=all(o is not None and o.verified for o in parts),
            peak_rss_bytes=max((o.peak_rss_bytes or 0 for o in parts if o is not None), default=0) or None,
        ))
        cost[backend.spec] = None
        if plan.sample is not None and len(outcomes) > len(backends) * k:
            whole = outcomes[len(backends) * k + n]
            if whole is not None and whole.payload_bytes and not whole.error:
                cost[backend.spec] = (sizes[0] + sizes[1] + framing_bytes(sizes[:2])) / whole.payload_bytes - 1
    info = {
        "shard_bytes_target": None,
        "shards": k,
        "largest_shard_bytes": max(s.size for s in plan.shards),
        "sample_bytes": None if plan.sample is None else plan.sample.size,
        "cost": cost,
    }
    return combined, info


def run_sharded(
    backends: Sequence[Backend],
    path: str,
    shard_bytes: int,
    separator: bytes | None,
    *,
    verify: bool = True,
    jobs: int | None = None,
    cache_root: str | None = None,
    scheduler: Any = None,
    on_start: Callable[[Backend], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    on_progress: Callable[[Backend, int, int], None] | None = None,
    max_memory: int | None = None,
) -> tuple[list[Outcome], dict[str, Any]]:
    """Run every backend on every shard of the file at `path`, locally or on a Dask cluster (`scheduler`).

    Raises `Interrupted` (with the backends whose shards all finished) on Ctrl-C.
    """
    from kbound.run.engine import Interrupted, run_tasks

    with open_binary(path) as f:
        plan = plan_shards(f, shard_bytes, separator)
    tasks = tasks_for(backends, plan)
    index = {id(t): i for i, t in enumerate(tasks)}
    done_bytes: dict[int, int] = {}
    started: set[str] = set()
    totals = {b.spec: sum(t.size for t in tasks if t.backend is b) * (2 if verify else 1) for b in backends}

    def start(task: Task) -> None:
        if on_start and task.backend.spec not in started:
            started.add(task.backend.spec)
            on_start(task.backend)

    def progress(task: Task, n: int) -> None:
        done_bytes[index[id(task)]] = n
        if on_progress:
            mine = sum(v for i, v in done_bytes.items() if tasks[i].backend is task.backend)
            on_progress(task.backend, mine, totals[task.backend.spec])

    def decoder_of(backend: Backend) -> Any:
        return backend.decoder(cache_root)

    interrupted: Interrupted | None = None
    try:
        if scheduler is None:
            outcomes: list[Outcome | None] = list(run_tasks(
                tasks, path, verify=verify, jobs=jobs, cache_root=cache_root, on_start=start, on_progress=progress,
                max_memory=max_memory,
            ))
        else:
            from kbound.run.distributed import run_tasks_dask

            outcomes = list(run_tasks_dask(tasks, path, scheduler, verify=verify, on_start=start))
    except Interrupted as stop:
        interrupted = stop
        outcomes = [stop.by_task.get(i) for i in range(len(tasks))]
    combined, info = combine(backends, plan, outcomes, decoder_of)
    if interrupted is not None:
        # Only backends whose every shard finished are results.
        raise Interrupted([o for o in combined if not (o.error and o.error.endswith("not run"))])
    info["shard_bytes_target"] = shard_bytes
    if on_done:
        for outcome in combined:
            on_done(outcome)
    return combined, info
