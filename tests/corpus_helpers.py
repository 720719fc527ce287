"""Helpers for tests that need a corpus from files: described, or read whole into memory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kbound.backends.base import Backend
from kbound.run.batch import Job, RunOptions, run_jobs
from kbound.run.outcome import Outcome
from kbound.run.shards import whole
from kbound.sources import Corpus, StreamStats, open_corpus
from kbound.sources.sizes import text_bytes


def corpus_of(*paths: Path | str, **options: Any) -> Corpus:
    """A corpus of files (a file corpus stays valid after `open_corpus`'s block: only spools go)."""
    with open_corpus([str(p) for p in paths], **options) as corpus:
        return corpus


def read_all(*paths: Path | str, **options: Any) -> tuple[bytes, StreamStats]:
    """The corpus's bytes and identity, read whole."""
    with open_corpus([str(p) for p in paths], **options) as corpus:
        return corpus.read()


def run_on(backends: Sequence[Backend], *paths: Path | str, verify: bool = True, jobs: int | None = None,
           **options: Any) -> list[Outcome]:
    """Run backends on files as one piece each, no caches: the outcomes, in order."""
    corpus = corpus_of(*paths)
    size = sum(text_bytes(corpus.sources))
    jobs_ = [Job(b, whole(corpus, size)) for b in backends]
    return run_jobs(jobs_, RunOptions(verify=verify, jobs=jobs, use_cache=False, **options)).outcomes
