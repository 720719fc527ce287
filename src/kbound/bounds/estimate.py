"""The library entry point: `estimate` goes from inputs to a `Report` (the CLI is a thin layer over it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kbound.backends.base import Backend
from kbound.backends.registry import DEFAULT_EFFORT, effort_specs, parse_spec
from kbound.bounds.results import BackendResult, CorpusSummary, Report, best_of, result_of
from kbound.errors import BackendError
from kbound.run.engine import Interrupted, Outcome, corpus_file, default_jobs, run_backends
from kbound.run.result_cache import ResultCache
from kbound.run.shards import run_sharded
from kbound.sources.corpus import Corpus
from kbound.sources.corpus_file import CorpusFile, open_corpus
from kbound.version import kbound_version


def resolve_backends(specs: Sequence[str] | None = None, effort: str = DEFAULT_EFFORT) -> list[Backend]:
    """Parse specs (or take an effort preset), always with the `raw` floor first, without duplicates."""
    chosen = list(specs) if specs else list(effort_specs(effort))
    backends = [parse_spec(s) for s in chosen]
    if not any(b.name == "raw" for b in backends):
        backends.insert(0, parse_spec("raw"))
    seen: set[str] = set()
    unique = []
    for b in backends:
        if b.spec in seen:
            raise BackendError(f"backend {b.spec} is given twice")
        seen.add(b.spec)
        unique.append(b)
    return unique


def estimate(
    inputs: Sequence[str] | Corpus | CorpusFile,
    backends: Sequence[str] | None = None,
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
    **load_options: object,
) -> Report:
    """Bound the Kolmogorov complexity of a corpus from above with every chosen backend.

    `inputs` are paths (files, directories, `-`) read with `load_corpus(**load_options)`, or an
    already loaded `Corpus`. `backends` are spec strings (`["zstd:19", "xz:9e"]`); without them
    the `effort` preset runs. Each payload is decompressed and hash-checked unless `verify` is
    False. Verified results are cached by corpus sha256 and backend (`use_cache=False` to
    recompute). With `tokenizer` (a local tokenizer.json) the corpus is also counted in tokens.
    Returns a frozen `Report`; if interrupted, it holds what finished and says so.

    `shard_size` (bytes) cuts the corpus into independent shards (see `kbound.run.shards`); `scheduler`
    (a Dask scheduler address or `distributed.Client`) runs the shards on a cluster. Sharded runs
    do not use the result cache.

    `max_memory` (bytes) caps what the backends running at once may hold, by their estimates
    (`kbound.backends.memory`); one that cannot fit alone is refused. Without it, the memory
    available when the run starts orders the work the same way but refuses nothing.
    """
    corpus = inputs if isinstance(inputs, Corpus | CorpusFile) else open_corpus(inputs, **load_options)
    chosen = resolve_backends(backends, effort)
    summary = CorpusSummary.of(corpus)
    settings: dict[str, Any] = {
        "backends": [b.spec for b in chosen],
        "effort": None if backends else effort,
        "verify": verify,
        "jobs": jobs or default_jobs(),
        "max_memory": max_memory,  # None: the memory available when the run started
    }
    sharding = None
    try:
        if shard_size is not None or scheduler is not None:
            shard_bytes = shard_size or max(corpus.n_bytes, 1)
            settings.update(shard_bytes=shard_bytes, distributed=scheduler is not None)
            separator = corpus.separator if corpus.documents > 1 else None
            with corpus_file(corpus.path or corpus.data) as path:
                outcomes, sharding = run_sharded(
                    chosen, path, shard_bytes, separator, verify=verify, jobs=jobs, cache_root=cache_dir,
                    scheduler=scheduler, on_start=on_start, on_done=on_done, on_progress=on_progress,
                    max_memory=max_memory,
                )
        else:
            outcomes = _run_cached(
                chosen, corpus, verify=verify, jobs=jobs, cache_dir=cache_dir, use_cache=use_cache,
                on_start=on_start, on_done=on_done, on_progress=on_progress, max_memory=max_memory,
            )
        interrupted = False
    except Interrupted as stop:
        outcomes, interrupted = stop.finished, True
    results: tuple[BackendResult, ...] = tuple(result_of(o, summary, verify) for o in outcomes)
    best = best_of(results, summary)
    return Report(
        corpus=summary,
        results=results,
        best=best,
        settings=settings,
        kbound_version=kbound_version(),
        tokens=None if tokenizer is None else _count_tokens(corpus, tokenizer, best.total_bits if best else None),
        interrupted=interrupted,
        sharding=sharding,
    )


def _run_cached(
    chosen: list[Backend],
    corpus: Corpus | CorpusFile,
    *,
    verify: bool,
    jobs: int | None,
    cache_dir: str | None,
    use_cache: bool,
    on_start: Callable[[Backend], None] | None,
    on_done: Callable[[Outcome], None] | None,
    on_progress: Callable[[Backend, int, int], None] | None,
    max_memory: int | None = None,
) -> list[Outcome]:
    """Outcomes in the order of `chosen`: cached ones recalled, the rest run (and cached once verified).

    On Ctrl-C, raises `Interrupted` carrying the cached and finished outcomes.
    """
    cache = ResultCache(cache_dir, enabled=use_cache, kbound_version=kbound_version())
    known = {b.spec: hit for b in chosen if (hit := cache.get(corpus.sha256, b)) is not None}
    stopped = None
    try:
        fresh = run_backends(
            [b for b in chosen if b.spec not in known], corpus.path or corpus.data, corpus.sha256,
            verify=verify, jobs=jobs, cache_root=cache_dir, on_start=on_start, on_done=on_done, on_progress=on_progress,
            max_memory=max_memory,
        )
    except Interrupted as stop:
        fresh, stopped = stop.finished, stop
    for outcome in fresh:
        cache.put(corpus.sha256, outcome)
        known[outcome.backend.spec] = outcome
    outcomes = [known[b.spec] for b in chosen if b.spec in known]
    if stopped is not None:
        raise Interrupted(outcomes)
    return outcomes


def _count_tokens(corpus: Corpus | CorpusFile, tokenizer: str, bound_bits: int | None) -> Any:
    # Imported here: the model readers pull in gguf (~0.15 s), which plain runs do not need.
    from kbound.models.attach import TokenCount
    from kbound.models.tokens import bits_per_token, count_tokens

    note = None if corpus.chars is not None else "corpus is not valid UTF-8: undecodable bytes were replaced"
    tokens = count_tokens(Path(tokenizer), corpus.data.decode("utf-8", "replace"))
    per_token = None if bound_bits is None else bits_per_token(bound_bits, tokens)
    return TokenCount(tokenizer=tokenizer, tokens=tokens, bits_per_token=per_token, note=note)
