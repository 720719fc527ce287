"""What every command shares: exit codes and turning errors into one line and a code."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import click

from kbound.errors import KboundError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_THRESHOLD, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 3, 130, 141


def run_cli(fn: Callable[[], int]) -> int:
    """Run a command body: `KboundError` becomes one line and exit 1, Ctrl-C 130, a closed pipe 141."""
    try:
        return fn()
    except KboundError as e:
        click.echo(f"kbound: error: {e}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("kbound: interrupted", err=True)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        quiet_stdout()
        return EXIT_BROKEN_PIPE


def quiet_stdout() -> None:
    """Point stdout at devnull after the reader went away."""
    # Python flushes stdout at exit; point it at devnull so that flush cannot fail again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
