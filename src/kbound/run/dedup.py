"""The duplicate stage's run: index every shard, reduce the index by partition, code what repeats as references.

Pass 1 rides on the `raw` row: its worker reads each shard anyway, and names the shard's chunks
and documents on the way (`kbound.dedup.index.Indexer`), keeping the records where it ran (a
file in the local work directory, or a Dask worker's memory). The reduction runs one task per
partition of the hash space, each reading that partition from every shard: no process, the
client least of all, holds the whole index. Then, for each backend, every shard that holds a
repeat is coded again with references (`Task.dedup`); a shard with none is the plain row's
shard as it is, behind a one-operation recipe, so text without duplicates costs the index pass
and nothing more. A deduplicated row is the sum of its shards' payloads (recipe + codec
payload), their framing, and the decoder once: the codec's, with the recipe module.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kbound.backends.base import write_varint
from kbound.backends.decoder import Decoder, measure
from kbound.backends.registry import parse_spec
from kbound.dedup import recipe as recipe_module
from kbound.dedup.chunking import Chunking
from kbound.dedup.delta import cut_spans, gather, plan_windows, window_key
from kbound.dedup.encode import merged
from kbound.dedup.figures import Duplicates, ShardInfo, duplicate_figures
from kbound.dedup.index import (
    DUP,
    MAX_SOURCES,
    META,
    PARTITION_BYTES,
    RECORD_BYTES,
    PartitionCounts,
    chunks_key,
    docs_key,
    dups_key,
    reduce_partition,
    targets_key,
)
from kbound.dedup.recipe import shard_payload
from kbound.errors import CorpusError, KboundError
from kbound.run.cache import ResultCache
from kbound.run.engine import run_tasks
from kbound.run.executor import WORKER_BYTES, Call, Executor, Failure, Stopped
from kbound.run.outcome import Interrupted, Outcome
from kbound.run.routed import MAX_ROUTED, SOURCE_CODEC, RoutedBounds, code_by_source, collect, routed_memory
from kbound.run.shards import ShardLayout, combine
from kbound.run.worker import DedupInput, IndexRequest, Task
from kbound.sources.stream import CorpusStream, StreamStats

#: Where the decoder of a deduplicated row enters besides the codec's own (what it imports is counted too).
RECIPE_ENTRY = recipe_module.__name__
#: A shard is coded again with references only when its repeated bytes are at least this share of it. Below,
#: references would save less than that share of its payload, and coding it again costs a whole codec pass;
#: its repeats stay literal, which is always valid (a reference only ever names a first occurrence).
RECODE_SHARE = 0.01


@dataclass(frozen=True)
class DedupSetup:
    """How the duplicate stage chunks and partitions, and which source each shard belongs to."""

    chunking: Chunking
    partitions: int
    #: The corpus's expected text bytes: what the reductions are expected to hold.
    expected_bytes: int = 0
    #: The source (index into `source_names`) of each shard of the plan; shards never span sources.
    shard_sources: tuple[int, ...] = ()
    source_names: tuple[str, ...] = ()
    #: `--source-field`: sources are named per document by this field, found by pass 1 (no `shard_sources`).
    source_field: str | None = None

    def request(self, shard: int) -> IndexRequest:
        """Pass 1's order for one shard."""
        source = self.shard_sources[shard] if self.shard_sources else 0
        return IndexRequest(self.chunking, shard, self.partitions, source, self.source_field is not None)


def no_source_name(field: str) -> str:
    """How a report names the documents without a `--source-field` value."""
    return f"(no {field})"


def field_sources(metas: Sequence[dict[str, Any]], field: str) -> tuple[tuple[str, ...], list[np.ndarray],
                                                                         list[tuple[int, int]]]:
    """The sources pass 1 found by `--source-field`: their names in corpus order (each where it first occurs),
    each shard's map from its own numbering to theirs, and each source's (documents, bytes)."""
    order: dict[str | None, int] = {}
    maps = []
    for meta in metas:
        labels = meta.get("labels", [])
        maps.append(np.array([order.setdefault(label, len(order)) for label in labels], dtype=np.int64))
    if len(order) > MAX_SOURCES:
        raise CorpusError(f"--source-field {field!r} has {len(order):,} distinct values (at most {MAX_SOURCES:,}): "
                          "is it a source (web, books, code), or a field of each document?")
    sizes = np.zeros((len(order), 2), dtype=np.int64)
    for meta, m in zip(metas, maps, strict=True):
        if len(m):
            np.add.at(sizes[:, 0], m, meta["label_documents"])
            np.add.at(sizes[:, 1], m, meta["label_bytes"])
    names = tuple(no_source_name(field) if label is None else label for label in order)
    return names, maps, [(int(a), int(b)) for a, b in sizes]


@dataclass(frozen=True)
class DedupStage:
    """What the stage produced: one deduplicated outcome per job it covered, and the duplicate figures."""

    outcomes: dict[int, Outcome]
    figures: Duplicates
    #: With `--source-field`: each source's own and prefix payloads (`kbound.run.routed`); None otherwise.
    routed: RoutedBounds | None = None


def run_stage(
    executor: Executor,
    setup: DedupSetup,
    plan: ShardLayout,
    backends: Sequence[tuple[int, Any]],
    kept: dict[int, Any],
    plain: dict[tuple[int, int], Outcome],
    shard_stats: Sequence[StreamStats],
    *,
    verify: bool,
    limit: int | None,
    cache_root: str | None,
    write_cache: bool,
    recall: bool = True,
    kbound_version: str = "",
    on_start: Callable[[Any], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> DedupStage:
    """Reduce the kept index and code, for each (job, backend), the shards that repeat earlier content.

    `kept[s]` is shard s's pass-1 result, `plain[(job, s)]` each job's plain outcome on shard s,
    `shard_stats[s]` the identity pass 1 read. Raises `Interrupted` (with the rows finished) on a
    signal, `KboundError` if the reduction fails.
    """
    shards = len(plan.shards)
    sizes = [s.bytes for s in shard_stats]
    starts = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)[:-1])).astype(np.int64)
    names, maps, source_sizes = setup.source_names or ("corpus",), None, None
    routed = None
    if setup.source_field is not None:
        metas = [executor.fetch(kept[s], META) for s in range(shards)]
        names, maps, source_sizes = field_sources(metas, setup.source_field)
        if len(names) <= MAX_ROUTED:
            numbers = [dict(zip(m.get("labels", []), mp.tolist(), strict=True))
                       for m, mp in zip(metas, maps, strict=True)]
            routed = _routed(executor, plan, numbers, len(names), shard_stats, verify, cache_root, write_cache)
    reduced = _reduce(executor, setup, shards, kept, len(names), maps)
    # Each partition's counts are shards x sources (and a digest per shard): the client's share of the index.
    counts: list[PartitionCounts] = [executor.fetch(r, META) for r in reduced]
    repeated = sum((c.dup_bytes.sum(axis=1) for c in counts), np.zeros(shards, dtype=np.int64))
    recode = [bool(repeated[s]) and repeated[s] >= RECODE_SHARE * max(sizes[s], 1) for s in range(shards)]
    infos = [ShardInfo(sizes[s], shard_stats[s].documents, setup.shard_sources[s] if setup.shard_sources else 0)
             for s in range(shards)]
    previews = _previews(executor, plan, counts)
    figures = duplicate_figures(counts, infos, names, setup.chunking, previews, source_sizes)
    if not any(recode):
        return DedupStage({}, figures, routed)
    results = ResultCache(cache_root, enabled=recall, kbound_version=kbound_version)
    # A shard's coding depends on the bytes of the shards its windows come from: every shard up to it.
    chain = list(itertools.accumulate((s.sha256 for s in shard_stats),
                                      lambda a, b: hashlib.sha256((a + b).encode()).hexdigest(), initial=""))[1:]
    variants = [_variant(setup, starts, [c.digests[s] for c in counts], chain[s]) for s in range(shards)]
    coded: dict[tuple[int, int], Outcome] = {}
    for j, backend in backends:
        for s in range(shards):
            hit = results.get(shard_stats[s], backend, variants[s]) if recode[s] else None
            if hit is not None:
                coded[(j, s)] = hit
    needed = sorted({s for j, _ in backends for s in range(shards) if recode[s] and (j, s) not in coded})
    windows = _windows(executor, setup, plan, reduced, needed, sizes, shard_stats) if needed else {}
    tasks: list[Task] = []
    owner: list[tuple[int, int]] = []
    for j, backend in backends:
        for s in needed:
            if (j, s) in coded:
                continue
            label = f"shard {s + 1} of {shards}, with references" if shards > 1 else "with references"
            tasks.append(Task(backend, plan.shards[s], plan.sizes[s], label, measure_decoder=False,
                              dedup=DedupInput(setup.chunking, [executor.part(r, dups_key(s)) for r in reduced],
                                               [executor.part(r, targets_key(s)) for r in reduced], starts, s,
                                               windows.get(s, []))))
            owner.append((j, s))
    outcomes: dict[int, Outcome] = {}
    waiting = {j: sum(1 for o in owner if o[0] == j) for j, _ in backends}

    def settle(j: int, backend: Any) -> None:
        outcomes[j] = _combine(backend, j, plan, plain, coded, sizes, cache_root, write_cache)
        if on_done:
            on_done(outcomes[j])

    for j, backend in backends:
        if not waiting[j]:
            settle(j, backend)

    started: set[int] = set()
    where = {id(t): k for k, t in enumerate(tasks)}

    def start(task: Task) -> None:
        j = owner[where[id(task)]][0]
        if on_start and j not in started:
            started.add(j)
            on_start(task.backend)

    def done(task: Task, outcome: Outcome) -> None:
        j, s = owner[where[id(task)]]
        if outcome.stats is not None:
            _same_input(outcome.stats, shard_stats[s], s, "coding it")
        results.put(dataclasses.replace(outcome, dedup=True), variants[s])
        coded[(j, s)] = outcome
        waiting[j] -= 1
        if waiting[j] == 0:
            settle(j, task.backend)

    try:
        run_tasks(tasks, executor=executor, verify=verify, limit=limit, cache_root=cache_root,
                  write_cache=write_cache, on_start=start, on_done=done)
    except Interrupted as stop:
        raise Interrupted([outcomes[j] for j in sorted(outcomes)], signum=stop.signum) from None
    return DedupStage(outcomes, figures, routed)


def _routed(executor: Executor, plan: ShardLayout, numbers: list[dict[str | None, int]], sources: int,
            shard_stats: Sequence[StreamStats], verify: bool, cache_root: str | None,
            write_cache: bool) -> RoutedBounds:
    """Each shard's documents routed to per-source and per-prefix streams (`kbound.run.routed`), verified."""
    calls = [Call(code_by_source, (plan.shards[s], numbers[s], sources, SOURCE_CODEC, verify),
                  f"sources of shard {s + 1}", routed_memory(sources)) for s in range(len(plan.shards))]
    results = _run(executor, calls, "coding each source on its own")
    for s, r in enumerate(results):
        _same_input(r["stats"], shard_stats[s], s, "the per-source pass")
    decoder = measure(parse_spec(SOURCE_CODEC), cache_root, write_cache=write_cache)
    return collect(results, sources, SOURCE_CODEC, verify, decoder.decoder_bytes)


def _same_input(got: StreamStats, indexed: StreamStats, s: int, what: str) -> None:
    """A later read of shard s must be the bytes pass 1 indexed; else the input changed under the run."""
    if (got.sha256, got.bytes) != (indexed.sha256, indexed.bytes):
        raise CorpusError(f"the input changed while it was being read (shard {s + 1}): the index read "
                          f"{indexed.bytes:,} bytes, {what} {got.bytes:,}")


def _variant(setup: DedupSetup, starts: np.ndarray, digests: Sequence[str], before: str) -> str:
    """What a shard's coding with references depends on besides its bytes and the backend (code included).

    `before` chains the sha256 of every shard up to this one: its near-copy windows hold their bytes.
    """
    return hashlib.sha256(json.dumps(["dedup/2", _stage_source(), dataclasses.asdict(setup.chunking),
                                      starts.tolist(), list(digests), before]).encode()).hexdigest()


def _windows(executor: Executor, setup: DedupSetup, plan: ShardLayout, reduced: list[Any], needed: Sequence[int],
             sizes: Sequence[int], shard_stats: Sequence[StreamStats]) -> dict[int, list[Any]]:
    """The near-copy windows of each shard to code: planned where its references are, read once per shard."""
    calls = [Call(_plan, ([executor.part(r, dups_key(s)) for r in reduced], s, sizes[s], list(sizes), setup.chunking),
                  f"near copies in shard {s + 1}", keep=True) for s in needed]
    planned = _run(executor, calls, "planning the near-copy windows")
    asks: dict[int, list[tuple[int, Any]]] = {}
    for s, kept in zip(needed, planned, strict=True):
        for t in executor.fetch(kept, "shards"):
            asks.setdefault(t, []).append((s, executor.part(kept, window_key(t))))
    holders = sorted(asks)
    calls = [Call(gather, (plan.shards[t], shard_stats[t].sha256, asks[t]), f"near-copy windows in shard {t + 1}",
                  keep=True) for t in holders]
    read = _run(executor, calls, "reading the near-copy windows")
    out: dict[int, list[Any]] = {}
    for t, kept in zip(holders, read, strict=True):
        for s, _ in asks[t]:
            out.setdefault(s, []).append(executor.part(kept, window_key(s)))
    return out


def _plan(dups: list[np.ndarray], s: int, size: int, sizes: list[int], chunking: Chunking) -> dict[str, Any]:
    return plan_windows(merged(dups, DUP), s, size, sizes, chunking)


def _run(executor: Executor, calls: list[Call], what: str) -> list[Any]:
    """Run calls whose results are kept; a signal stops the stage, a failure ends the run."""
    try:
        out = executor.run(calls)
    except Stopped as stop:
        raise Interrupted([], signum=stop.signum) from None
    failed = next((r for r in out if isinstance(r, Failure)), None)
    if failed is not None:
        raise KboundError(f"the duplicate stage failed {what}: {failed.message}")
    return out


@functools.cache
def _stage_source() -> str:
    """The sha256 of the duplicate stage's own source: a changed checkout recalls nothing it would not make."""
    import kbound.dedup

    h = hashlib.sha256()
    for path in sorted(Path(kbound.dedup.__file__).parent.glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


def _reduce(executor: Executor, setup: DedupSetup, shards: int, kept: dict[int, Any], groups: int,
            maps: list[np.ndarray] | None) -> list[Any]:
    """One reduction per partition, kept where it ran; their handles in partition order."""
    # The records, their sort order and the outputs: about four times one partition's records.
    records = (setup.expected_bytes // setup.chunking.avg_bytes + 1) * RECORD_BYTES // setup.partitions
    need = WORKER_BYTES + 4 * min(records, PARTITION_BYTES)
    calls = [Call(reduce_partition, (shards, [executor.part(kept[s], chunks_key(p)) for s in range(shards)],
                                     [executor.part(kept[s], docs_key(p)) for s in range(shards)], groups, maps),
                  f"index partition {p + 1} of {setup.partitions}", need, keep=True)
             for p in range(setup.partitions)]
    return _run(executor, calls, "reducing the index")


def _previews(executor: Executor, plan: ShardLayout, counts: Sequence[PartitionCounts]) -> dict[str, bytes]:
    """The first bytes of the most repeated chunks, read from their first occurrences (by name)."""
    top = sorted((t for c in counts for t in c.top), key=lambda t: (-t.count, -t.length, t.name))[:10]
    wanted: dict[int, list[tuple[int, int, str]]] = {}
    for t in top:
        wanted.setdefault(t.shard, []).append((t.offset, min(t.length, 120), t.name))
    calls = [Call(_read_spans, (plan.shards[s], spans), f"previews of shard {s + 1}") for s, spans in wanted.items()]
    out: dict[str, bytes] = {}
    for result in executor.run(calls):
        if isinstance(result, dict):
            out.update(result)
    return out


def _read_spans(selection: Any, spans: list[tuple[int, int, str]]) -> dict[str, bytes]:
    """Bytes at (offset, length) of a selection's stream, by name; reading stops after the last."""
    return cut_spans(CorpusStream(selection), spans)


def _combine(backend: Any, j: int, plan: ShardLayout, plain: dict[tuple[int, int], Outcome],
             coded: dict[tuple[int, int], Outcome], sizes: Sequence[int], cache_root: str | None,
             write_cache: bool) -> Outcome:
    """A deduplicated row: coded shards, plain shards behind a one-operation recipe, the decoder once."""
    shards: list[Outcome | None] = []
    for s in range(len(plan.shards)):
        if (j, s) in coded:
            shards.append(coded[(j, s)])
            continue
        o = plain.get((j, s))
        if o is None or o.payload_bytes is None or o.error:
            shards.append(o)
            continue
        recipe = write_varint(2 * sizes[s]) if sizes[s] else b""
        shards.append(dataclasses.replace(o, payload_bytes=shard_payload(recipe, o.payload_bytes)))
    decoder: Decoder = measure(backend, cache_root, write_cache=write_cache, entries=(RECIPE_ENTRY,))
    bare = dataclasses.replace(plan, cost_parts=())
    outcome, _ = combine(backend, bare, shards, [], decoder)
    return dataclasses.replace(outcome, dedup=True)
