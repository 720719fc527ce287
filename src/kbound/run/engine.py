"""Running backends: each in its own worker process, at most `jobs` at once, longest expected first.

A worker compresses the corpus, measures the decoder, and (unless told not to) decompresses the
payload and compares its sha256 with the corpus's. A worker that raises, returns the wrong
bytes, or dies in native code (pyppmd has crashed the interpreter on bad input) becomes a failed
outcome for that backend; the run goes on.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

from kbound.backends.base import Backend
from kbound.backends.decoder import Decoder
from kbound.backends.memory import STREAM_BYTES, estimate
from kbound.run.worker import CHUNK, Task, open_binary, run_task

__all__ = [
    "CHUNK", "MIN_MAX_MEMORY", "Interrupted", "Outcome", "Task", "available_memory", "memory_need", "open_binary",
    "run_backends", "run_task", "run_tasks",
]


@dataclass(frozen=True)
class Outcome:
    """What one worker reported (or why it reported nothing)."""

    backend: Backend
    payload_bytes: int | None = None
    decoder: Decoder | None = None
    compress_seconds: float | None = None
    decompress_seconds: float | None = None
    #: The worker process's peak resident set (pages shared with the parent included); None when not measured.
    peak_rss_bytes: int | None = None
    verified: bool = False
    error: str | None = None
    #: True when the outcome came from the result cache instead of a worker.
    cached: bool = False


class Interrupted(Exception):
    """The run was stopped (Ctrl-C); carries the outcomes finished before that."""

    def __init__(self, finished: list[Outcome], by_task: dict[int, Outcome] | None = None) -> None:
        super().__init__("interrupted")
        self.finished = finished
        #: The finished outcomes by task index (from `run_tasks`).
        self.by_task = by_task or {}


def default_jobs() -> int:
    """The number of cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


#: What a worker process holds besides its codec: the interpreter, numpy, kbound and a few 1 MiB
#: chunks (the `raw` worker peaks at about 50 MiB of RSS), and, the first time a decoder is
#: measured (then cached), xz -9e's work on its files: `ppmd:4,mem=16m`'s first worker peaked at
#: 107 MiB in `make bench`.
WORKER_BYTES = 128 << 20
#: The smallest --max-memory that runs anything: one worker of a streaming codec (`raw`, the floor).
MIN_MAX_MEMORY = WORKER_BYTES + STREAM_BYTES


def available_memory() -> int | None:
    """The memory the kernel says can be used without swapping (Linux MemAvailable); None elsewhere."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def memory_need(task: Task) -> int:
    """The memory the scheduler sets aside for a task: its worker plus the codec's own estimate."""
    return WORKER_BYTES + estimate(task.backend, task.size)


def _mib(n: int) -> str:
    return f"{-(-n // (1 << 20)):,} MiB"


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


_PROGRESS_EVERY = 0.2  # seconds between progress messages from a worker


class _Reporter:
    """Sends ("progress", bytes done) over the pipe at most every `_PROGRESS_EVERY` seconds."""

    def __init__(self, conn: Connection) -> None:
        self._conn, self._last = conn, 0.0

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self._last >= _PROGRESS_EVERY:
            self._last = now
            self._conn.send(("progress", done))


def _work(task: Task, path: str, verify: bool, cache_root: str | None, conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    result = run_task(task, path, verify=verify, cache_root=cache_root, report=_Reporter(conn))
    if resource is not None:  # ru_maxrss is in KiB on Linux
        result["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    conn.send(("done", result))
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


@contextlib.contextmanager
def corpus_file(source: bytes | str | os.PathLike[str]) -> Iterator[str]:
    """A path workers can read: the file itself, or the bytes spooled to a temporary file removed on every exit."""
    if not isinstance(source, bytes):
        yield os.fspath(source)
        return
    with tempfile.TemporaryDirectory(prefix="kbound-") as tmp:
        path = os.path.join(tmp, "corpus")
        with open(path, "wb") as f:
            f.write(source)
        yield path


def run_backends(
    backends: Sequence[Backend],
    source: bytes | str | os.PathLike[str],
    sha256: str,
    *,
    verify: bool = True,
    jobs: int | None = None,
    cache_root: str | None = None,
    on_start: Callable[[Backend], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    on_progress: Callable[[Backend, int, int], None] | None = None,
    max_memory: int | None = None,
) -> list[Outcome]:
    """Run every backend on the corpus (its bytes, or the path of a file holding exactly them).

    Returns outcomes in the order given. `on_progress(backend, done, total)` hears how many bytes
    a worker has compressed (then, when verifying, compressed plus decompressed, out of twice the size).
    """
    with corpus_file(source) as path:
        with open_binary(path) as f:
            size = f.seek(0, os.SEEK_END)
        tasks = [Task(b, 0, size, sha256) for b in backends]
        return run_tasks(
            tasks, path, verify=verify, jobs=jobs, cache_root=cache_root,
            on_start=(lambda t: on_start(t.backend)) if on_start else None,
            on_done=(lambda t, o: on_done(o)) if on_done else None,
            on_progress=(lambda t, n: on_progress(t.backend, n, size * (2 if verify else 1))) if on_progress else None,
            max_memory=max_memory,
        )


def expected_seconds(task: Task) -> float:
    """The scheduler's guess at a task's cost: the backend's seconds per MB times the MB it reads."""
    return task.backend.expected_seconds_per_mb() * max(task.size, 1) / 1e6


def run_tasks(
    tasks: Sequence[Task],
    path: str,
    *,
    verify: bool = True,
    jobs: int | None = None,
    cache_root: str | None = None,
    on_start: Callable[[Task], None] | None = None,
    on_done: Callable[[Task, Outcome], None] | None = None,
    on_progress: Callable[[Task, int], None] | None = None,
    max_memory: int | None = None,
) -> list[Outcome]:
    """Run tasks in worker processes, at most `jobs` at once, the longest expected first.

    Memory: tasks run together only while the sum of their `memory_need` stays within the budget.
    Given `max_memory`, the budget is a hard cap: a task that cannot fit even alone is not
    started, and its outcome says what it would need. Without it, the budget is the memory
    available now (no limit where that is unknown) and only orders the work: a task too big for
    it runs alone, since the estimates are upper envelopes and it ran before there was a budget.

    Ctrl-C terminates every worker (their payloads are anonymous temporary files, so nothing is
    left behind) and raises `Interrupted` carrying the outcomes finished so far, in task order.
    """
    ctx = _context()
    limit = max(1, jobs or default_jobs())
    budget = max_memory if max_memory is not None else available_memory()
    need = [memory_need(t) for t in tasks]
    # sorted() is stable: equal guesses keep the order given.
    pending = sorted(range(len(tasks)), key=lambda i: -expected_seconds(tasks[i]))
    running: dict[Connection, tuple[Any, int]] = {}
    done: dict[int, Outcome] = {}
    if max_memory is not None:
        for i in [i for i in pending if need[i] > max_memory]:
            pending.remove(i)
            done[i] = Outcome(tasks[i].backend, error=(
                f"needs about {_mib(need[i])} of memory for {tasks[i].size:,} bytes, more than the "
                f"{_mib(max_memory)} this run may use (--max-memory)"
            ))
            if on_done:
                on_done(tasks[i], done[i])
    in_use = 0
    try:
        while pending or running:
            while pending and len(running) < limit:
                # The longest task that fits beside the running ones; none fits: wait for one to end
                # (with nothing running, only a task larger than the automatic budget is left: it runs alone).
                pick = next((k for k, i in enumerate(pending) if budget is None or in_use + need[i] <= budget), None)
                if pick is None and running:
                    break
                pick = pick or 0
                i = pending.pop(pick)
                in_use += need[i]
                t = tasks[i]
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(
                    target=_work, args=(t, path, verify, cache_root, send),
                    daemon=True,
                )
                proc.start()
                send.close()  # so the pipe reports EOF if the worker dies
                running[recv] = (proc, i)
                if on_start:
                    on_start(t)
            for ready in wait(list(running)):
                assert isinstance(ready, Connection)
                proc, i = running[ready]
                try:
                    kind, msg = ready.recv()
                except (EOFError, OSError):
                    kind, msg = "done", None
                if kind == "progress":
                    if on_progress:
                        on_progress(tasks[i], msg)
                    continue
                del running[ready]
                in_use -= need[i]
                ready.close()
                proc.join()
                backend = tasks[i].backend
                outcome = Outcome(backend, **msg) if msg is not None else Outcome(backend, error=_died(proc))
                done[i] = outcome
                if on_done:
                    on_done(tasks[i], outcome)
    except KeyboardInterrupt:
        for proc, _ in running.values():
            proc.terminate()
        for proc, _ in running.values():
            proc.join()
        raise Interrupted([done[i] for i in sorted(done)], dict(done)) from None
    return [done[i] for i in range(len(tasks))]
