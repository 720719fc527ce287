"""Signals: SIGTERM and SIGHUP end a run the way Ctrl-C does, and workers die with their parent.

`handle_termination()` (the CLI installs it for the length of a command) turns SIGTERM and
SIGHUP into `Terminated`, which unwinds like KeyboardInterrupt: workers are stopped, temporary
files removed, finished rows printed, and the process exits 128 + the signal number.
`die_with_parent()` asks Linux to kill a worker when the process that started it ends, even by
SIGKILL, so no worker is ever left burning CPU.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Iterator
from types import FrameType

_PR_SET_PDEATHSIG = 1


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived (a BaseException, as KeyboardInterrupt is: no `except Exception` swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


#: The signals `_raise` turned into `Terminated` in the current block (see `late_signal`).
_received: list[int] = []


def _raise(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise Terminated(signum)


def late_signal() -> int | None:
    """A signal that arrived in the block, whether or not its `Terminated` reached the code that handles it.

    Python runs a signal handler wherever the main thread is: inside a finalizer (`__del__`, a
    weakref callback, a lock released at garbage collection) the exception cannot propagate, and
    Python would print it and go on. The CLI asks this after the command's body, so a run that
    such a signal reached still ends as terminated, with its exit code.
    """
    return _received[-1] if _received else None


def _unraisable(previous: object) -> object:
    def hook(args: object) -> None:
        if isinstance(getattr(args, "exc_value", None), Terminated):
            return  # recorded by `_raise`; the run ends by its exit code, not by a traceback
        previous(args)  # type: ignore[operator]

    return hook


@contextlib.contextmanager
def handle_termination() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise `Terminated` (SIGHUP only where it is not ignored)."""
    previous = {}
    _received.clear()
    hook = sys.unraisablehook
    sys.unraisablehook = _unraisable(hook)  # type: ignore[assignment]
    for sig in (signal.SIGTERM, signal.SIGHUP):
        current = signal.getsignal(sig)
        if sig == signal.SIGHUP and current == signal.SIG_IGN:
            continue  # started under nohup: keep ignoring hangups
        previous[sig] = current
        signal.signal(sig, _raise)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.unraisablehook = hook


def die_with_parent(parent_pid: int) -> None:
    """In a worker: be killed (SIGKILL) when the parent ends; exit at once if it already has (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
