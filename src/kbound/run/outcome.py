"""What a task produced: an `Outcome`, the one rule for whether it gives a bound, and how a run stops early."""

from __future__ import annotations

import errno
import signal
import tempfile
from dataclasses import dataclass

from kbound.backends.base import Backend
from kbound.backends.decoder import Decoder
from kbound.sources.stream import StreamStats

VERIFIED, UNVERIFIED, FAILED = "verified", "unverified", "failed"


@dataclass(frozen=True)
class Outcome:
    """What one backend produced on one selection (or, combined, on every shard), or why it produced nothing."""

    backend: Backend
    payload_bytes: int | None = None
    decoder: Decoder | None = None
    compress_seconds: float | None = None
    decompress_seconds: float | None = None
    #: User + system CPU seconds of the worker process while it ran the task (its helper threads included);
    #: None when not measured (recalled from a cache written before it was kept).
    cpu_seconds: float | None = None
    #: The worker process's peak resident set (pages shared with the parent included); None when not measured.
    peak_rss_bytes: int | None = None
    verified: bool = False
    error: str | None = None
    #: True when the outcome came from the result cache instead of a worker.
    cached: bool = False
    #: The identity of the bytes the task read (for combined shards: their sum, without a sha256).
    stats: StreamStats | None = None
    #: How many shards the payload is made of (1: the selection in one piece).
    shards: int = 1
    #: Repeated chunks coded as references to their first occurrences (the duplicate stage's row).
    dedup: bool = False
    #: For a sharded payload: each shard's payload bytes (the frame around them not included).
    shard_payloads: tuple[int, ...] = ()

    def status(self, verify: bool) -> str:
        """verified, unverified (run with --no-verify) or failed: the one rule for whether a result is a bound."""
        if self.error is not None or self.payload_bytes is None or self.decoder is None:
            return FAILED
        if self.verified:
            return VERIFIED
        return FAILED if verify else UNVERIFIED

    def why_failed(self, verify: bool) -> str | None:
        """The reason a failed outcome gives no bound, else None."""
        if self.status(verify) != FAILED:
            return None
        return self.error or ("round trip not verified" if self.payload_bytes is not None else "no payload")


def failure_text(e: Exception) -> str:
    """A backend's failure as one line: a full temporary disk says which and what to do; anything else, a
    library's own error, its type and message."""
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):  # a payload or the duplicate index
        return (f"no space left in the temporary directory {tempfile.gettempdir()} "
                f"({e.strerror}): set TMPDIR to a larger disk")
    return f"{type(e).__name__}: {e}".rstrip(": ")


class Interrupted(Exception):
    """The run was stopped by a signal (Ctrl-C, SIGTERM, SIGHUP); carries what finished before that."""

    def __init__(self, finished: list[Outcome], signum: int = signal.SIGINT) -> None:
        super().__init__("interrupted")
        self.finished = finished
        self.signum = signum
