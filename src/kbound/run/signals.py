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
from collections.abc import Iterator
from types import FrameType

_PR_SET_PDEATHSIG = 1


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived (a BaseException, as KeyboardInterrupt is: no `except Exception` swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def handle_termination() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise `Terminated` (SIGHUP only where it is not ignored)."""
    previous = {}
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


def die_with_parent(parent_pid: int) -> None:
    """In a worker: be killed (SIGKILL) when the parent ends; exit at once if it already has (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
