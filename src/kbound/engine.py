"""Running backends: each in its own worker process, at most `jobs` at once, longest expected first.

A worker compresses the corpus, measures the decoder, and (unless told not to) decompresses the
payload and compares its sha256 with the corpus's. A worker that raises, returns the wrong
bytes, or dies in native code (pyppmd has crashed the interpreter on bad input) becomes a failed
outcome for that backend; the run goes on.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from kbound.backends.base import Backend
from kbound.backends.decoder import Decoder
from kbound.errors import RoundTripError


@dataclass(frozen=True)
class Outcome:
    """What one worker reported (or why it reported nothing)."""

    backend: Backend
    payload_bytes: int | None = None
    decoder: Decoder | None = None
    compress_seconds: float | None = None
    decompress_seconds: float | None = None
    verified: bool = False
    error: str | None = None
    #: True when the outcome came from the result cache instead of a worker.
    cached: bool = False


class Interrupted(Exception):
    """The run was stopped (Ctrl-C); carries the outcomes finished before that."""

    def __init__(self, finished: list[Outcome]) -> None:
        super().__init__("interrupted")
        self.finished = finished


def default_jobs() -> int:
    """The number of cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def describe_mismatch(got: bytes, want: bytes) -> str:
    """Say where a decoder's output first differs from the input."""
    n = min(len(got), len(want))
    step = 1 << 16
    block = next((i for i in range(0, n, step) if got[i : min(i + step, n)] != want[i : min(i + step, n)]), None)
    if block is not None:
        first = next(i for i in range(block, min(block + step, n)) if got[i] != want[i])
        where = f"first wrong byte at {first:,}"
    else:
        where = "the bytes it returned are right" if len(got) < len(want) else "then extra bytes"
    return f"round trip failed: decoder returned {len(got):,} of {len(want):,} bytes; {where}"


def _work(backend: Backend, data: bytes, sha256: str, verify: bool, cache_root: str | None, conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    result: dict[str, Any] = {}
    try:
        t0 = time.perf_counter()
        payload = backend.compress(data)
        result["compress_seconds"] = time.perf_counter() - t0
        result["payload_bytes"] = len(payload)
        result["decoder"] = backend.decoder(cache_root)
        if verify:
            t0 = time.perf_counter()
            out = backend.decompress(payload)
            result["decompress_seconds"] = time.perf_counter() - t0
            if hashlib.sha256(out).hexdigest() != sha256:
                raise RoundTripError(describe_mismatch(out, data))
            result["verified"] = True
    except RoundTripError as e:
        result["error"] = str(e)
    except Exception as e:  # a library's own error: report it as this row's failure
        result["error"] = f"{type(e).__name__}: {e}".rstrip(": ")
    conn.send(result)
    conn.close()


def _died(proc: multiprocessing.process.BaseProcess) -> str:
    code = proc.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the backend crashed ({name}) in native code"
    return f"the backend's worker exited with code {code} before reporting"


def _context() -> Any:
    # fork shares the corpus with workers without copying it; elsewhere spawn pickles it.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods and sys.platform != "darwin" else "spawn")


def run_backends(
    backends: Sequence[Backend],
    data: bytes,
    sha256: str,
    *,
    verify: bool = True,
    jobs: int | None = None,
    cache_root: str | None = None,
    on_start: Callable[[Backend], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Run every backend on `data` in worker processes; return outcomes in the order given."""
    ctx = _context()
    limit = max(1, jobs or default_jobs())
    mb = max(len(data), 1) / 1e6
    pending = sorted(range(len(backends)), key=lambda i: -backends[i].seconds_per_mb * mb)
    running: dict[Connection, tuple[Any, int]] = {}
    done: dict[int, Outcome] = {}
    try:
        while pending or running:
            while pending and len(running) < limit:
                i = pending.pop(0)
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(
                    target=_work, args=(backends[i], data, sha256, verify, cache_root, send), daemon=True
                )
                proc.start()
                send.close()  # so the pipe reports EOF if the worker dies
                running[recv] = (proc, i)
                if on_start:
                    on_start(backends[i])
            for ready in wait(list(running)):
                conn = ready if isinstance(ready, Connection) else None
                assert conn is not None
                proc, i = running.pop(conn)
                try:
                    msg: dict[str, Any] | None = conn.recv()
                except (EOFError, OSError):
                    msg = None
                conn.close()
                proc.join()
                outcome = Outcome(backends[i], **msg) if msg is not None else Outcome(backends[i], error=_died(proc))
                done[i] = outcome
                if on_done:
                    on_done(outcome)
    except KeyboardInterrupt:
        for proc, _ in running.values():
            proc.terminate()
        for proc, _ in running.values():
            proc.join()
        raise Interrupted([done[i] for i in sorted(done)]) from None
    return [done[i] for i in range(len(backends))]
