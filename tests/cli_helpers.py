"""Running kbound's CLI in-process for tests: exit code, stdout and stderr, at a fixed terminal width."""

from __future__ import annotations

from click.testing import CliRunner

from kbound.cli import cli


def run(*args: str, input: bytes | None = None, width: int = 100) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, prog_name="kbound", terminal_width=width)
    return result.exit_code, result.stdout, result.stderr
