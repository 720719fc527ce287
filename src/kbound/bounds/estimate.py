"""The library entry point: `estimate` goes from inputs to a `Report` (the CLI is a thin layer over it).

sources (the corpus, described) → a plan per backend (one piece, or shards) → the run (cached
tasks recalled, the rest in worker processes or on Dask) → results, the best bound, the report.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from kbound.backends.base import Backend
from kbound.backends.registry import DEFAULT_EFFORT, effort_specs, parse_specs, spec_name
from kbound.bounds.results import BackendResult, CorpusSummary, Report, best_of, result_of
from kbound.bounds.sources import source_bounds
from kbound.bounds.tokens import TokenCount
from kbound.dedup.chunking import Chunking
from kbound.dedup.figures import Duplicates
from kbound.dedup.index import partitions_for
from kbound.errors import CorpusError
from kbound.run.batch import Batch, Job, RunOptions, run_jobs
from kbound.run.dedup import DedupSetup
from kbound.run.engine import WORKER_BYTES, available_memory, default_jobs
from kbound.run.outcome import Interrupted, Outcome
from kbound.run.shards import ShardLayout, largest_fitting, plan_shards, whole
from kbound.sources.corpus import Corpus, open_corpus
from kbound.sources.sizes import text_bytes
from kbound.sources.stream import DEFAULT_SEPARATOR, StreamStats
from kbound.version import kbound_version

#: When the duplicate stage runs: "auto" (unless the corpus is one text document), always, never.
DEDUP_MODES = ("auto", "on", "off")
#: With the stage and no --shard-size, a corpus larger than this is cut into shards of this size for every
#: backend: pass 1 holds 56 bytes a chunk of its shard (about 450 MB at 8 GiB), not of the whole corpus.
DEDUP_SHARD_BYTES = 8 << 30


def resolve_backends(specs: Sequence[str] | str | None = None, effort: str = DEFAULT_EFFORT) -> list[Backend]:
    """Parse specs (or take an effort preset), always with the `raw` floor first, without duplicates."""
    if isinstance(specs, str):
        specs = [specs]
    chosen = list(specs) if specs else list(effort_specs(effort))
    if not any(spec_name(s) == "raw" for s in chosen):
        chosen.insert(0, "raw")
    return parse_specs(chosen)


@contextlib.contextmanager
def corpus_of(
    inputs: Sequence[str] | str | Corpus, *, glob: str | None = None, field: str | None = None,
    separator: bytes = DEFAULT_SEPARATOR, max_bytes: int | None = None, stdin: BinaryIO | None = None,
    plain: bool = False, source_field: str | None = None,
) -> Iterator[Corpus]:
    """An already described `Corpus` as is, or paths opened with `open_corpus` for the length of the block."""
    if isinstance(inputs, Corpus):
        yield inputs
        return
    with open_corpus(inputs, glob=glob, field=field, separator=separator, max_bytes=max_bytes, stdin=stdin,
                     plain=plain, source_field=source_field) as c:
        yield c


def plans_for(backends: Sequence[Backend], corpus: Corpus, sizes: Sequence[int], shard_size: int | None,
              max_memory: int | None, by_source: bool = False) -> list[ShardLayout]:
    """Each backend's plan: `shard_size` for all when given; otherwise one piece, unless the backend holds
    its input and the corpus would not fit in memory (then shards that fit). With `by_source`, every
    backend shares shards that never span two sources (one per source without `shard_size`)."""
    total = sum(sizes)
    if shard_size is not None or by_source:
        shared = plan_shards(corpus, shard_size or max(total, 1), sizes, by_group=by_source)
        return [shared for _ in backends]
    budget = max_memory if max_memory is not None else available_memory()
    plans: list[ShardLayout] = []
    by_size: dict[int, ShardLayout] = {}
    for backend in backends:
        fit = None if budget is None else largest_fitting(backend, max(budget - WORKER_BYTES, 1 << 20))
        if fit is None or total <= fit:
            plans.append(whole(corpus, total))
        else:
            plans.append(by_size.setdefault(fit, plan_shards(corpus, fit, sizes)))
    return plans


def estimate(
    inputs: Sequence[str] | str | Corpus,
    backends: Sequence[str] | str | None = None,
    *,
    effort: str = DEFAULT_EFFORT,
    verify: bool = True,
    jobs: int | None = None,
    cache_dir: str | None = None,
    use_cache: bool = True,
    tokenizer: str | None = None,
    on_start: Callable[[Backend], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    on_progress: Callable[[Backend, int, int], None] | None = None,
    shard_size: int | None = None,
    scheduler: Any = None,
    max_memory: int | None = None,
    glob: str | None = None,
    field: str | None = None,
    separator: bytes = DEFAULT_SEPARATOR,
    max_bytes: int | None = None,
    stdin: BinaryIO | None = None,
    plain: bool = False,
    dedup: str = "auto",
    by_source: bool = False,
    chunking: Chunking | None = None,
    source_field: str | None = None,
) -> Report:
    """Bound the Kolmogorov complexity of a corpus from above with every chosen backend.

    `inputs` are paths (files, directories, URLs, `-`; read as in `kbound.sources.open_corpus`
    with `glob`, `field`, `separator`, `max_bytes`), or a `Corpus`. `backends` are spec strings
    (`["zstd:19", "xz:9e"]`, or one string); without them the `effort` preset runs. Each payload
    is decompressed and hash-checked unless `verify` is False. Verified results are cached by
    content (`use_cache=False` to recompute, and to leave the cache alone). With `tokenizer` (a
    local tokenizer.json) the corpus is also counted in tokens. Returns a frozen `Report`; if
    interrupted, it holds what finished and says so.

    `shard_size` (bytes) cuts the corpus into independent shards (`kbound.run.shards`) for every
    backend; without it, only a backend that holds its input and could not fit the corpus in
    memory is sharded. `scheduler` (a Dask scheduler address or `distributed.Client`) runs the
    tasks on a cluster. `max_memory` (bytes) caps what the backends running at once may hold, by
    their estimates; one that cannot fit alone is refused.

    `dedup` ("auto", "on", "off") runs the duplicate stage (`kbound.run.dedup`): repeated chunks
    coded once, as references, in extra rows beside the plain ones; "auto" runs it unless the
    corpus is a single text document. `by_source` cuts shards at source boundaries (top-level
    subdirectories of an input directory) and reports each source's repeats and what it adds.
    `source_field` (a dotted path, with `field`) names each document's source by a field of its own
    instead: the per-source rows then come from the duplicate stage's pass 1, which must run.
    """
    chosen = resolve_backends(backends, effort)
    with corpus_of(inputs, glob=glob, field=field, separator=separator, max_bytes=max_bytes, stdin=stdin,
                   plain=plain, source_field=source_field) as corpus:
        field_sources = next((s.source_field for s in corpus.sources if s.source_field), None)
        if field_sources is not None and not dedup_runs(corpus, dedup):
            raise CorpusError(SOURCE_FIELD_NEEDS_DEDUP)
        by_source = by_source or field_sources is not None
        sizes = text_bytes(corpus.sources)
        shard_target = shard_size
        if shard_target is None and dedup_runs(corpus, dedup) and sum(sizes) > DEDUP_SHARD_BYTES:
            shard_target = DEDUP_SHARD_BYTES  # pass 1 holds its shard's chunk names: bound them, whatever the corpus
        plans = plans_for(chosen, corpus, sizes, shard_target, max_memory, by_source and field_sources is None)
        setup = dedup_setup(corpus, sizes, plans, dedup, chunking)
        options = RunOptions(verify=verify, jobs=jobs, cache_dir=cache_dir, use_cache=use_cache,
                             limit=corpus.max_bytes, max_memory=max_memory, scheduler=scheduler,
                             kbound_version=kbound_version(), dedup=setup)
        settings: dict[str, Any] = {
            "backends": [b.spec for b in chosen],
            "effort": None if backends else effort,
            "verify": verify,
            "jobs": jobs or default_jobs(),
            "max_memory": max_memory,  # None: the memory available when the run started
            "max_bytes": corpus.max_bytes,
        }
        if shard_target is not None or scheduler is not None:
            settings.update(shard_bytes=shard_target, distributed=scheduler is not None)
        settings.update(dedup=dedup if setup is not None else "off", by_source=by_source,
                        source_field=field_sources)
        if setup is not None:
            settings["chunking"] = dataclasses.asdict(setup.chunking)
        interrupted, signum, batch = False, None, None
        try:
            batch = run_jobs([Job(b, p) for b, p in zip(chosen, plans, strict=True)], options,
                             on_start=on_start, on_done=on_done, on_progress=on_progress)
            outcomes = batch.outcomes + batch.dedup_outcomes
        except Interrupted as stop:
            outcomes, interrupted, signum = stop.finished, True, stop.signum
        summary = _summary(corpus, [o for o in outcomes if not o.dedup], plans, chosen, sum(sizes))
        results: tuple[BackendResult, ...] = tuple(result_of(o, summary, verify) for o in outcomes)
        best = best_of(results, summary)
        tokens = None
        if tokenizer is not None and not interrupted:
            tokens = _count_tokens(corpus, tokenizer, best.total_bits if best else None, summary)
    return Report(
        corpus=summary,
        results=results,
        best=best,
        settings=settings,
        kbound_version=kbound_version(),
        tokens=tokens,
        interrupted=interrupted,
        sharding=_sharding(plans, chosen, batch, shard_target, by_source, automatic=shard_size is None),
        signal=signum,
        duplicates=None if batch is None else batch.duplicates,
        dedup_error=None if batch is None else batch.dedup_error,
        sources=() if batch is None or not by_source or best is None else source_bounds(
            outcomes, best.spec, plans[0], batch.duplicates,
            corpus.group_index()[0] if field_sources is None else _names(batch.duplicates),
            per_document=field_sources is not None, routed=batch.routed),
    )


#: Why `--source-field` needs the duplicate stage.
SOURCE_FIELD_NEEDS_DEDUP = ("--source-field sources are counted by the duplicate stage's index, which --dedup off "
                            "leaves out: give --dedup auto or on")


def _names(duplicates: Duplicates | None) -> tuple[str, ...]:
    return () if duplicates is None else tuple(s.name for s in duplicates.sources)


def dedup_runs(corpus: Corpus, dedup: str) -> bool:
    """Whether the duplicate stage runs: "on", or "auto" unless the corpus is one text document."""
    if dedup not in DEDUP_MODES:
        raise ValueError(f"dedup must be one of {', '.join(DEDUP_MODES)}, not {dedup!r}")
    one_document = len(corpus.sources) == 1 and corpus.sources[0].fmt == "text"
    return dedup == "on" or (dedup == "auto" and not one_document)


def dedup_setup(corpus: Corpus, sizes: Sequence[int], plans: Sequence[ShardLayout], dedup: str,
                chunking: Chunking | None) -> DedupSetup | None:
    """How the duplicate stage runs, or None when it does not (`dedup_runs`)."""
    if not dedup_runs(corpus, dedup):
        return None
    chunking = chunking or Chunking()
    plan = plans[0]
    field = next((s.source_field for s in corpus.sources if s.source_field), None)
    if field is not None:  # sources found per document by pass 1
        return DedupSetup(chunking, partitions_for(sum(sizes), chunking), sum(sizes), source_field=field)
    names = corpus.group_index()[0] if plan.shard_groups else ("corpus",)
    return DedupSetup(chunking, partitions_for(sum(sizes), chunking), sum(sizes), plan.shard_groups, names)


def _summary(corpus: Corpus, outcomes: Sequence[Outcome], plans: Sequence[ShardLayout], chosen: Sequence[Backend],
             expected: int) -> CorpusSummary:
    """The corpus as read: the stream's identity if a backend read it whole, else the shard manifest's."""
    plan_of = {b.spec: p for b, p in zip(chosen, plans, strict=True)}
    whole_stats: StreamStats | None = None
    manifest: StreamStats | None = None
    for o in outcomes:
        if o.stats is None:
            continue
        if plan_of[o.backend.spec].sharded:
            manifest = manifest or o.stats
        else:
            whole_stats = whole_stats or o.stats
    if whole_stats is not None:
        return CorpusSummary.of(corpus, whole_stats)
    return CorpusSummary.of(corpus, manifest, sharded=manifest is not None, expected_bytes=expected)


def _sharding(plans: Sequence[ShardLayout], chosen: Sequence[Backend], batch: Batch | None,
              shard_size: int | None, by_source: bool = False, automatic: bool = True) -> dict[str, Any] | None:
    """For a run with shards: how the corpus was cut for each backend, the cost of cutting, what was recalled."""
    if not any(p.sharded for p in plans):
        return None
    sharded = [(b, p, i) for i, (b, p) in enumerate(zip(chosen, plans, strict=True)) if p.sharded]
    first = sharded[0][1]
    costs = batch.costs if batch is not None else [None] * len(plans)
    return {
        "shard_bytes_target": shard_size if shard_size is not None else first.shard_bytes,
        "shards": max(len(p.shards) for _, p, _ in sharded),
        "shards_by_backend": {b.spec: len(p.shards) for b, p in zip(chosen, plans, strict=True)},
        "largest_shard_bytes": max(max(p.sizes) for _, p, _ in sharded),
        "sample_bytes": first.sizes[0],
        "sample": "the first shard as one piece against the same bytes in two parts",
        "cost": {b.spec: costs[i] for b, _, i in sharded},
        "tasks": None if batch is None else batch.tasks,
        "cached_tasks": None if batch is None else batch.cached_tasks,
        "automatic": automatic,
        "by_source": by_source,
        # Chosen for the duplicate stage: its index per worker follows the shard, not the corpus.
        "reason": "duplicate index" if automatic and shard_size == DEDUP_SHARD_BYTES else None,
    }


def _count_tokens(corpus: Corpus, tokenizer: str, bound_bits: int | None, summary: CorpusSummary) -> TokenCount:
    # Imported here: the model readers pull in gguf (~0.15 s), which plain runs do not need.
    from kbound.bounds.tokens import bits_per_token, count_tokens, text_pieces
    from kbound.sources.stream import CorpusStream

    note = None if summary.chars is not None else "corpus is not valid UTF-8: undecodable bytes were replaced"
    tokens = count_tokens(Path(tokenizer), text_pieces(CorpusStream(corpus.selection())))
    per_token = None if bound_bits is None else bits_per_token(bound_bits, tokens)
    return TokenCount(tokenizer=tokenizer, tokens=tokens, bits_per_token=per_token, note=note)
