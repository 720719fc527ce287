"""The `kbound` command group and its entry point; each command lives in its own module."""

from __future__ import annotations

import contextlib
import sys

import click

from kbound.cli.backends import backends_command
from kbound.cli.common import EXIT_BROKEN_PIPE, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, quiet_stdout
from kbound.cli.compare import compare_command
from kbound.cli.curve import curve_command
from kbound.cli.estimate import estimate_command
from kbound.cli.plan import plan_command
from kbound.cli.tradeoff import tradeoff_command
from kbound.version import kbound_version


class DefaultGroup(click.Group):
    """A group whose first argument, when it is not a command name, goes to `estimate`: `kbound corpus.txt`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["estimate", *args]
        try:
            return super().parse_args(ctx, args)  # --help and --version print here
        except BrokenPipeError:
            raise StdoutClosed from None

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)  # a command's --help prints here
        except BrokenPipeError:
            raise StdoutClosed from None


class StdoutClosed(Exception):
    """Standard output's reader went away (`kbound --help | true`); not an OSError, which click makes exit 1."""


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(kbound_version(), "--version", prog_name="kbound")
def cli() -> None:
    """Honest upper bounds on the Kolmogorov complexity of a text corpus.

    `kbound INPUTS...` is `kbound estimate INPUTS...`: see `kbound estimate --help`.
    """


cli.add_command(estimate_command)
cli.add_command(backends_command)
cli.add_command(curve_command)
cli.add_command(compare_command)
cli.add_command(tradeoff_command)
cli.add_command(plan_command)


def main() -> None:
    """Console entry point. A closed pipe (`kbound x | head -1`) ends quietly with 141 in every command, `--help`
    included; standard output that cannot be written (a full disk) is one line and exit 1."""
    # A terminal or pipe whose encoding cannot spell a character (PYTHONIOENCODING=latin-1 and a `…`) gets an
    # escape (`\u2026`) instead of a traceback; in JSON that escape is the same string.
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    try:
        try:
            code = cli.main(prog_name="kbound", standalone_mode=False)
        except click.ClickException as e:
            e.show()
            code = e.exit_code
        except click.exceptions.Abort:
            click.echo("kbound: interrupted", err=True)
            code = EXIT_INTERRUPTED
        except StdoutClosed:
            raise BrokenPipeError from None
        sys.stdout.flush()  # `--help` and `--version` print outside the commands' own handling
    except BrokenPipeError:
        quiet_stdout()
        code = EXIT_BROKEN_PIPE
    except OSError as e:  # a command handles its own errors: only writing --help or --version gets here
        quiet_stdout()
        click.echo(f"kbound: error: cannot write standard output ({e.strerror or e})", err=True)
        code = EXIT_ERROR
    sys.exit(code if isinstance(code, int) else EXIT_OK)
