"""Running kbound's CLI for tests: in-process (exit code, stdout and stderr, at a fixed terminal width), and the
workers of one started as a process."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kbound.cli import cli


def run(*args: str, input: bytes | None = None, width: int = 100) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, prog_name="kbound", terminal_width=width)
    return result.exit_code, result.stdout, result.stderr


def children(pid: int) -> list[int]:
    """The process ids of `pid`'s children (its workers), from /proc; none where it cannot be read."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
