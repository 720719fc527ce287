"""What every command shares: exit codes and turning errors into one line and a code."""

from __future__ import annotations

import os
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import click

from kbound.errors import InputWarning, KboundError
from kbound.run.cache import CacheWarning
from kbound.run.signals import Terminated, handle_termination, late_signal

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_THRESHOLD, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 3, 130, 141


def run_cli(fn: Callable[[], int]) -> int:
    """Run a command body: `KboundError` becomes one line and exit 1; Ctrl-C, SIGTERM and SIGHUP end it with
    one line and 128 + the signal (130, 143, 129), after the body has printed what finished; a closed pipe 141;
    standard output that cannot be written (a full disk) one line and exit 1."""
    try:
        with handle_termination(), warnings.catch_warnings():
            warnings.simplefilter("always", InputWarning)  # every input left out is named, not only the first
            warnings.showwarning = _show_warning
            code = fn()
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not in Python's flush at exit
            late = late_signal()
            if late is not None and code < 128:  # a signal whose Terminated a finalizer swallowed
                return interrupted_exit(late)
            return code
    except KboundError as e:
        click.echo(f"kbound: error: {e}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return interrupted_exit(signal.SIGINT)
    except Terminated as stop:
        return interrupted_exit(stop.signum)
    except BrokenPipeError:
        quiet_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as e:
        if e.filename is not None:  # the readers name their files; this is a last resort for the rest
            click.echo(f"kbound: error: {e.filename}: {e.strerror or e}", err=True)
            return EXIT_ERROR
        # An error without a file name is a write to standard output (a full disk, /dev/full, an I/O error).
        quiet_stdout()
        click.echo(f"kbound: error: cannot write standard output ({e.strerror or e})", err=True)
        return EXIT_ERROR


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """Print a kbound warning as one line; anything else the way Python would."""
    if issubclass(category, (InputWarning, CacheWarning)):
        click.echo(f"kbound: warning: {message}", err=True)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def interrupted_exit(signum: int | None) -> int:
    """Say which signal stopped the run, in one line, and return its exit code (128 + the signal)."""
    sig = signal.Signals(signum or signal.SIGINT)
    what = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated", signal.SIGHUP: "hung up"}.get(sig, "stopped")
    click.echo(f"kbound: {what} ({sig.name})", err=True)
    return 128 + int(sig)


def describe_models(models: Sequence[str]) -> list[Any]:
    """Read every model argument by its headers now, so a bad one fails before any compression."""
    if not models:
        return []
    from kbound.models import describe_model

    return [describe_model(m) for m in models]


def quiet_stdout() -> None:
    """Point stdout at devnull after the reader went away."""
    # Python flushes stdout at exit; point it at devnull so that flush cannot fail again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
