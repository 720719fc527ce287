"""One way to run work: an `Executor` runs `Call`s (a module-level function and its arguments) and hears each end.

`LocalExecutor` runs every call in its own worker process, at most `jobs` at once, the longest
expected first, within a memory budget; `DaskExecutor` submits every call to a Dask cluster. The
backend tasks (`kbound.run.engine`), the duplicate index (`kbound.run.dedup`) and the model-loss
worker (`kbound.models.loss`) all run through one of them, so process handling, signals and
failures are written once.

A call that raises becomes a `Failure` with one line; a worker that dies in native code (pyppmd
has crashed the interpreter on bad input) becomes a `Failure` saying so; the run goes on.
Ctrl-C, SIGTERM and SIGHUP (see `kbound.run.signals`) stop every worker and raise `Stopped`
with what finished. With `keep=True` a call's result (a dict) stays where it was made: a
`Handle` to files in the executor's work directory, or a Dask future on a worker; a handle, or
a `Part` of one, given as an argument to a later call is loaded there, never by the client.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from kbound.errors import KboundError
from kbound.run.malloc import return_freed_memory
from kbound.run.outcome import failure_text
from kbound.run.signals import Terminated, die_with_parent

#: What a worker process holds besides its own work: the interpreter, numpy, kbound and a few 1 MiB
#: pieces (the `raw` worker peaks at about 50 MiB of RSS), and, the first time a decoder is
#: measured (then cached), xz -9e's work on its files: `ppmd:4,mem=16m`'s first worker peaked at
#: 107 MiB in `make bench`.
WORKER_BYTES = 128 << 20
_PROGRESS_EVERY = 0.2  # seconds between progress messages from a worker


@dataclass(frozen=True)
class Call:
    """A module-level function and its arguments, with what the scheduler needs to know of it."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    #: How messages name it ("shard 3 of 16").
    label: str = ""
    #: What the scheduler sets aside for it while it runs (worker included).
    memory_bytes: int = WORKER_BYTES
    #: The scheduler's guess at its cost: longer calls start first.
    expected_seconds: float = 0.0
    #: Pass `report=` (a `(done, total)` callable for progress) to `fn`.
    reports: bool = False
    #: Keep the result (a dict) where it was made, as with `run(..., keep=True)`.
    keep: bool = False


@dataclass(frozen=True)
class Failure:
    """A call that produced no result, and why, in one line."""

    message: str


@dataclass(frozen=True)
class Handle:
    """A kept result in the local work directory: one file per key of the result dict."""

    paths: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Part:
    """One key of a kept result (a `Handle` or a Dask future), loaded where the call that takes it runs."""

    of: Any
    key: str


class Stopped(Exception):
    """A signal stopped the run; carries the results (by call index) that finished before it."""

    def __init__(self, finished: dict[int, Any], signum: int) -> None:
        super().__init__("stopped")
        self.finished, self.signum = finished, signum


OnCall = Callable[[int], None]


class Executor(ABC):
    """Runs calls and returns their results in call order (a `Failure` for each that failed)."""

    #: True when calls run on other machines that share nothing with this process but the inputs.
    remote: bool = False

    @abstractmethod
    def run(
        self,
        calls: Sequence[Call],
        *,
        keep: bool = False,
        on_start: OnCall | None = None,
        on_done: Callable[[int, Any], None] | None = None,
        on_progress: Callable[[int, int, int], None] | None = None,
    ) -> list[Any]:
        """Run every call; `on_done(i, result)` as each ends. Raises `Stopped` on Ctrl-C, SIGTERM, SIGHUP."""

    def part(self, kept: Any, key: str) -> Any:
        """One key of a kept result, to pass to a later call without bringing it here."""
        return Part(kept, key)

    def fetch(self, kept: Any, key: str) -> Any:
        """One key of a kept result, brought here (for small values: counts, a task's fields)."""
        return load(Part(kept, key))

    def close(self) -> None:
        """Release what the executor holds (its work directory, its cluster connection)."""


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


def context() -> Any:
    """The multiprocessing context workers start in."""
    # fork starts a worker in milliseconds with kbound already imported; the parent holds no corpus.
    # A process that has loaded a model into llama.cpp (a library user who ran an lm: backend
    # in-process) holds its thread pool, and a forked child of it hangs in its first evaluation.
    methods = multiprocessing.get_all_start_methods()
    lm = sys.modules.get("kbound.backends.lm_model")
    fork = "fork" in methods and sys.platform != "darwin" and not getattr(lm, "MODEL_LOADED", False)
    return multiprocessing.get_context("fork" if fork else "spawn")


class _Reporter:
    """Sends ("progress", (done, total)) over the pipe at most every `_PROGRESS_EVERY` seconds."""

    def __init__(self, conn: Connection) -> None:
        self._conn, self._last = conn, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last >= _PROGRESS_EVERY:
            self._last = now
            self._conn.send(("progress", (done, total)))


def load(arg: Any) -> Any:
    """An argument as the function sees it: kept results (handles, parts) read from the work directory."""
    if isinstance(arg, Part):
        whole = arg.of
        if isinstance(whole, Handle):
            with open(whole.paths[arg.key], "rb") as f:
                return pickle.load(f)
        return whole[arg.key]
    if isinstance(arg, Handle):
        return {k: load(Part(arg, k)) for k in arg.paths}
    if isinstance(arg, list):
        return [load(a) for a in arg]
    if isinstance(arg, tuple):
        return tuple(load(a) for a in arg)
    return arg


#: The signals that stop a run (`kbound.run.signals`).
_STOPPING = frozenset({signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])})


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """The signals that stop a run wait while a worker is forked and recorded as running, then arrive.

    Raised inside fork's own hooks (logging's lock release after a fork), a `Terminated` or
    KeyboardInterrupt is printed as "Exception ignored" and lost, and the run went on to the end;
    raised between the fork and the record, it left that worker out of the ones stopped.
    """
    if not hasattr(signal, "pthread_sigmask"):  # not on Windows, which does not fork
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _work(call: Call, keep_dir: str | None, parent: int, conn: Connection) -> None:
    die_with_parent(parent)
    return_freed_memory()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):  # forked (or spawned) while the parent held them: `_signals_held`
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)
    try:
        args = load(call.args)
        kwargs = {"report": _Reporter(conn)} if call.reports else {}
        result = call.fn(*args, **kwargs)
        if keep_dir is not None:
            result = _store(result, keep_dir)
    except KboundError as e:
        result = Failure(str(e))
    except Exception as e:  # a library's own error or a full temporary disk: this call's failure, in one line
        result = Failure(failure_text(e))
    conn.send(("done", result))
    conn.close()


def _store(result: Any, directory: str) -> Handle:
    """Write a result dict, one file per key, to a fresh subdirectory of the work directory."""
    if not isinstance(result, dict):
        raise TypeError("a kept result must be a dict")
    own = tempfile.mkdtemp(dir=directory)
    paths: dict[str, str] = {}
    for key, value in result.items():
        path = os.path.join(own, f"{len(paths)}.pickle")
        with open(path, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        paths[str(key)] = path
    return Handle(paths)


def _died(proc: multiprocessing.process.BaseProcess) -> str:
    code = proc.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the worker crashed ({name}) in native code"
    return f"the worker exited with code {code} before reporting"


def _mib(n: int) -> str:
    return f"{-(-n // (1 << 20)):,} MiB"


class LocalExecutor(Executor):
    """Worker processes on this machine: at most `jobs` at once, within a memory budget, longest first.

    Memory: calls run together only while the sum of their `memory_bytes` stays within the budget.
    Given `max_memory`, the budget is a hard cap: a call that cannot fit even alone is not
    started, and its result is a `Failure` saying what it would need. Without it, the budget is
    the memory available now (no limit where that is unknown) and only orders the work: a call
    too big for it runs alone, since the estimates are upper envelopes.
    """

    def __init__(self, jobs: int | None = None, max_memory: int | None = None) -> None:
        self.jobs = max(1, jobs or default_jobs())
        self.max_memory = max_memory
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def _keep_dir(self) -> str:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="kbound-work-")
        return self._dir.name

    def close(self) -> None:
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def run(
        self,
        calls: Sequence[Call],
        *,
        keep: bool = False,
        on_start: OnCall | None = None,
        on_done: Callable[[int, Any], None] | None = None,
        on_progress: Callable[[int, int, int], None] | None = None,
    ) -> list[Any]:
        ctx = context()
        keep_dir = self._keep_dir() if keep or any(c.keep for c in calls) else None
        budget = self.max_memory if self.max_memory is not None else available_memory()
        need = [c.memory_bytes for c in calls]
        # sorted() is stable: equal guesses keep the order given.
        pending = sorted(range(len(calls)), key=lambda i: -calls[i].expected_seconds)
        running: dict[Connection, tuple[Any, int]] = {}
        done: dict[int, Any] = {}

        def finish(i: int, result: Any) -> None:
            done[i] = result
            if on_done:
                on_done(i, result)

        if self.max_memory is not None:
            for i in [i for i in pending if need[i] > self.max_memory]:
                pending.remove(i)
                finish(i, Failure(f"needs about {_mib(need[i])} of memory, more than the "
                                  f"{_mib(self.max_memory)} this run may use (--max-memory)"))
        in_use = 0
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    # The longest call that fits beside the running ones; none fits: wait for one to end
                    # (with nothing running, only a call larger than the automatic budget is left: it runs alone).
                    pick = next((k for k, i in enumerate(pending) if budget is None or in_use + need[i] <= budget),
                                None)
                    if pick is None and running:
                        break
                    i = pending.pop(pick or 0)
                    in_use += need[i]
                    where = keep_dir if keep or calls[i].keep else None
                    with _signals_held():
                        recv, send = ctx.Pipe(duplex=False)
                        proc = ctx.Process(target=_work, args=(calls[i], where, os.getpid(), send), daemon=True)
                        proc.start()
                        send.close()  # so the pipe reports EOF if the worker dies
                        running[recv] = (proc, i)
                    if on_start:
                        on_start(i)
                for ready in wait(list(running)):
                    assert isinstance(ready, Connection)
                    proc, i = running[ready]
                    try:
                        kind, msg = ready.recv()
                    except (EOFError, OSError):
                        kind, msg = "died", None
                    if kind == "progress":
                        if on_progress:
                            on_progress(i, *msg)
                        continue
                    del running[ready]
                    in_use -= need[i]
                    ready.close()
                    proc.join()
                    finish(i, msg if kind == "done" else Failure(_died(proc)))
        except (KeyboardInterrupt, Terminated) as stop:
            _stop(running)
            raise Stopped(done, stop.signum if isinstance(stop, Terminated) else signal.SIGINT) from None
        except BaseException:
            _stop(running)
            raise
        return [done[i] for i in range(len(calls))]


def _stop(running: dict[Connection, tuple[Any, int]]) -> None:
    for proc, _ in running.values():
        proc.terminate()
    for proc, _ in running.values():
        proc.join()


class DaskExecutor(Executor):
    """A Dask cluster (`pip install kbound[dask]`): every call one Dask task, longer ones first.

    Workers need kbound and the backends' libraries installed, and read the inputs themselves (a
    shared file system or fsspec URLs). A call that fails on the cluster (a worker died, an
    exception) is a `Failure` naming the reason; kept results stay on the workers as futures.
    """

    remote = True

    def __init__(self, scheduler: Any) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise KboundError("--scheduler needs Dask: pip install 'kbound[dask]'") from None
        self._owned = not isinstance(scheduler, Client)
        try:
            self.client = scheduler if not self._owned else Client(scheduler, timeout="30s")
        except (OSError, TimeoutError, ValueError) as e:
            raise KboundError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
        self.address = scheduler

    def close(self) -> None:
        if self._owned:
            with _quiet_cluster_logs():
                self.client.close()

    def part(self, kept: Any, key: str) -> Any:
        import operator

        return self.client.submit(operator.getitem, kept, key, pure=False)

    def fetch(self, kept: Any, key: str) -> Any:
        return self.part(kept, key).result()

    def run(
        self,
        calls: Sequence[Call],
        *,
        keep: bool = False,
        on_start: OnCall | None = None,
        on_done: Callable[[int, Any], None] | None = None,
        on_progress: Callable[[int, int, int], None] | None = None,
    ) -> list[Any]:
        from distributed import as_completed

        # The futures not yet taken: one whose result is here is released at once, so the cluster
        # does not recompute it when the worker holding it dies.
        live: dict[int, Any] = {}
        done: dict[int, Any] = {}
        with _quiet_cluster_logs():
            try:
                for i, c in enumerate(calls):
                    live[i] = self.client.submit(
                        _guarded, keep or c.keep, c.fn, *c.args, key=f"kbound-{os.getpid()}-{time.monotonic_ns()}-{i}",
                        priority=int(c.expected_seconds), pure=False,
                    )
                    if on_start:
                        on_start(i)
                index = {f.key: i for i, f in live.items()}
                for future in as_completed(list(live.values())):
                    i = index[future.key]
                    del live[i]
                    try:
                        # A kept value stays on its worker; only a failure comes here.
                        kept = keep or calls[i].keep
                        result = future if kept and future.status != "error" else future.result()
                    except Exception as e:  # the worker died, or the call could not run there
                        # Dask's messages run over several lines ("…connection-lost.\nClient lost…"): one.
                        said = " ".join(str(e).split())
                        result = Failure(f"failed on the cluster: {type(e).__name__}: {said}".rstrip(": "))
                    if result is not future:
                        future.release()
                    done[i] = result
                    if on_done:
                        on_done(i, result)
            except (KeyboardInterrupt, Terminated) as stop:
                self.client.cancel(list(live.values()))
                raise Stopped(done, stop.signum if isinstance(stop, Terminated) else signal.SIGINT) from None
            except BaseException:
                self.client.cancel(list(live.values()))
                raise
        return [done[i] for i in range(len(calls))]


@contextlib.contextmanager
def _quiet_cluster_logs() -> Iterator[None]:
    """Dask's own loggers at CRITICAL while kbound talks to the cluster, as they were after.

    A lost scheduler or worker is reported by kbound in one line (a failed call, or the run's
    error); Dask's client logs the same event as a 30-line traceback on standard error first.
    """
    loggers = [logging.getLogger(name) for name, obj in list(logging.root.manager.loggerDict.items())
               if (name == "distributed" or name.startswith("distributed.")) and isinstance(obj, logging.Logger)]
    before = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in before:
            lg.setLevel(level)


def _guarded(keep: bool, fn: Callable[..., Any], *args: Any) -> Any:
    """What a Dask worker runs: the call, with kbound's own errors as one-line failures (as locally).

    A kept result is not brought to the client, so its failure must show as the task's error.
    """
    try:
        return fn(*args)
    except KboundError as e:
        if keep:
            raise RuntimeError(str(e)) from None
        return Failure(str(e))


def executor_for(scheduler: Any = None, *, jobs: int | None = None, max_memory: int | None = None) -> Executor:
    """Dask when a scheduler is given, else worker processes on this machine."""
    return DaskExecutor(scheduler) if scheduler is not None else LocalExecutor(jobs, max_memory)
