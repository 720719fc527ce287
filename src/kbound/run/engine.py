"""Running tasks locally: each in its own worker process, at most `jobs` at once, longest expected first.

A worker that raises, returns the wrong bytes, or dies in native code (pyppmd has crashed the
interpreter on bad input) becomes a failed outcome for that task; the run goes on. Input that
cannot be read stops the run: every backend would measure less than the corpus. Ctrl-C,
SIGTERM and SIGHUP (see `kbound.run.signals`) stop every worker and raise `Interrupted` with
what finished; workers also die with the parent if it is killed outright.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

from kbound.backends.catalog import STREAM_BYTES
from kbound.backends.registry import memory_bytes, seconds_per_mb
from kbound.errors import CorpusError
from kbound.run.outcome import Interrupted, Outcome
from kbound.run.signals import Terminated, die_with_parent
from kbound.run.worker import Task, run_task

#: What a worker process holds besides its codec: the interpreter, numpy, kbound and a few 1 MiB
#: pieces (the `raw` worker peaks at about 50 MiB of RSS), and, the first time a decoder is
#: measured (then cached), xz -9e's work on its files: `ppmd:4,mem=16m`'s first worker peaked at
#: 107 MiB in `make bench`.
WORKER_BYTES = 128 << 20
#: The smallest --max-memory that runs anything: one worker of a streaming codec (`raw`, the floor).
MIN_MAX_MEMORY = WORKER_BYTES + STREAM_BYTES

OnTask = Callable[[Task], None]


def default_jobs() -> int:
    """The number of cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


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
    return WORKER_BYTES + memory_bytes(task.backend, task.size)


def expected_seconds(task: Task) -> float:
    """The scheduler's guess at a task's cost: the backend's seconds per MB times the MB it reads."""
    return seconds_per_mb(task.backend) * max(task.size, 1) / 1e6


def _mib(n: int) -> str:
    return f"{-(-n // (1 << 20)):,} MiB"


_PROGRESS_EVERY = 0.2  # seconds between progress messages from a worker


class _Reporter:
    """Sends ("progress", done, total) over the pipe at most every `_PROGRESS_EVERY` seconds."""

    def __init__(self, conn: Connection) -> None:
        self._conn, self._last = conn, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last >= _PROGRESS_EVERY:
            self._last = now
            self._conn.send(("progress", (done, total)))


def _work(task: Task, options: dict[str, Any], parent: int, conn: Connection) -> None:
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    result = run_task(task, report=_Reporter(conn), **options)
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
    # fork starts a worker in milliseconds with kbound already imported; the parent holds no corpus.
    # A process that has loaded a model into llama.cpp (a library user who ran an lm: backend
    # in-process) holds its thread pool, and a forked child of it hangs in its first evaluation.
    methods = multiprocessing.get_all_start_methods()
    lm = sys.modules.get("kbound.backends.lm_model")
    fork = "fork" in methods and sys.platform != "darwin" and not getattr(lm, "MODEL_LOADED", False)
    return multiprocessing.get_context("fork" if fork else "spawn")


def outcome_of(task: Task, fields: dict[str, Any]) -> Outcome:
    """An `Outcome` from a worker's result fields (without `fatal`, which the caller handles)."""
    fields = {k: v for k, v in fields.items() if k != "fatal"}
    return Outcome(task.backend, **fields)


def run_tasks(
    tasks: Sequence[Task],
    *,
    verify: bool = True,
    jobs: int | None = None,
    cache_root: str | None = None,
    write_cache: bool = True,
    limit: int | None = None,
    on_start: OnTask | None = None,
    on_done: Callable[[Task, Outcome], None] | None = None,
    on_progress: Callable[[Task, int, int], None] | None = None,
    max_memory: int | None = None,
) -> list[Outcome]:
    """Run tasks in worker processes, at most `jobs` at once, the longest expected first; outcomes in task order.

    Memory: tasks run together only while the sum of their `memory_need` stays within the budget.
    Given `max_memory`, the budget is a hard cap: a task that cannot fit even alone is not
    started, and its outcome says what it would need. Without it, the budget is the memory
    available now (no limit where that is unknown) and only orders the work: a task too big for
    it runs alone, since the estimates are upper envelopes.

    `on_progress(task, done, total)` hears bytes done of the task's expected total (compressed,
    then decompressed). A task whose input cannot be read raises `CorpusError` (naming the task)
    after stopping the others. Ctrl-C, SIGTERM and SIGHUP terminate every worker (payloads are
    anonymous temporary files, so nothing is left behind) and raise `Interrupted` with the
    outcomes finished so far.
    """
    ctx = _context()
    width = max(1, jobs or default_jobs())
    budget = max_memory if max_memory is not None else available_memory()
    need = [memory_need(t) for t in tasks]
    # sorted() is stable: equal guesses keep the order given.
    pending = sorted(range(len(tasks)), key=lambda i: -expected_seconds(tasks[i]))
    running: dict[Connection, tuple[Any, int]] = {}
    done: dict[int, Outcome] = {}
    options = {"verify": verify, "cache_root": cache_root, "write_cache": write_cache, "limit": limit}
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
            while pending and len(running) < width:
                # The longest task that fits beside the running ones; none fits: wait for one to end
                # (with nothing running, only a task larger than the automatic budget is left: it runs alone).
                pick = next((k for k, i in enumerate(pending) if budget is None or in_use + need[i] <= budget), None)
                if pick is None and running:
                    break
                i = pending.pop(pick or 0)
                in_use += need[i]
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_work, args=(tasks[i], options, os.getpid(), send), daemon=True)
                proc.start()
                send.close()  # so the pipe reports EOF if the worker dies
                running[recv] = (proc, i)
                if on_start:
                    on_start(tasks[i])
            for ready in wait(list(running)):
                assert isinstance(ready, Connection)
                proc, i = running[ready]
                try:
                    kind, msg = ready.recv()
                except (EOFError, OSError):
                    kind, msg = "done", None
                if kind == "progress":
                    if on_progress:
                        on_progress(tasks[i], *msg)
                    continue
                del running[ready]
                in_use -= need[i]
                ready.close()
                proc.join()
                if msg is not None and msg.get("fatal"):
                    label = f"{tasks[i].label}: " if tasks[i].label else ""
                    raise CorpusError(f"{label}{msg['fatal']}")
                outcome = outcome_of(tasks[i], msg) if msg is not None else Outcome(tasks[i].backend, error=_died(proc))
                done[i] = outcome
                if on_done:
                    on_done(tasks[i], outcome)
    except (KeyboardInterrupt, Terminated) as stop:
        _stop(running)
        signum = stop.signum if isinstance(stop, Terminated) else signal.SIGINT
        raise Interrupted([done[i] for i in sorted(done)], dict(done), signum) from None
    except BaseException:
        _stop(running)
        raise
    return [done[i] for i in range(len(tasks))]


def _stop(running: dict[Connection, tuple[Any, int]]) -> None:
    for proc, _ in running.values():
        proc.terminate()
    for proc, _ in running.values():
        proc.join()
