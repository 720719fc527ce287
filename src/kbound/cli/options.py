"""Options the growth commands (curve, tradeoff, compare) share: how to read a corpus, output, plot.

`estimate` shares the size type and the separator parsing, so a corpus is read the same way
everywhere; this module imports no command module (`kbound.cli.estimate`, `curve`, … import it).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from kbound.report.view import FORMATS
from kbound.sources.corpus import PLAIN_WITH_FIELD, Corpus, open_corpus
from kbound.sources.stream import DEFAULT_SEPARATOR
from kbound.units import parse_size


class Size(click.ParamType):  # type: ignore[type-arg]
    """A byte size: `100MB`, `4GiB`, `2TB`, `256m`; at least `min` bytes."""

    name = "SIZE"

    def __init__(self, min: int = 0) -> None:
        self.min = min

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            size = value if isinstance(value, int) else parse_size(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)
        if size < self.min:
            self.fail(f"{value!r} is less than {self.min:,} byte{'s' if self.min != 1 else ''}", param, ctx)
        return size


class ModelLoss(click.ParamType):  # type: ignore[type-arg]
    """--model-loss: a number >= 0, or `measure` (score the corpus with the GGUF model)."""

    name = "VALUE|measure"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float | str:
        if isinstance(value, float) or value == "measure":
            return value  # type: ignore[no-any-return]
        try:
            number = float(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number nor 'measure'", param, ctx)
        if not number >= 0 or number == float("inf"):
            self.fail(f"{value!r} is not a finite number >= 0", param, ctx)
        return number


def check_inputs(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """Standard input can be read only once."""
    if value.count("-") > 1:
        raise click.BadParameter("standard input (-) is given more than once; it can be read only once")
    return value


def check_outputs(inputs: Sequence[str], glob: str | None, outputs: dict[str, str | None],
                  cache_root: str | None) -> None:
    """Refuse (usage error, exit 2) an output that is an input, and a cache directory inside a walked input directory.

    `outputs` maps an option (`--output`, `--plot`) to its path. An output is an input when it is
    the same file (st_dev and st_ino: through a symbolic or hard link too) as one the corpus
    reads; writing it would replace the user's data with a report. The cache directory is
    refused when the walk of an input directory would enter it (its files would become corpus).
    """
    from kbound.cache_dir import cache_dir
    from kbound.sources.inputs import local_tree

    existing: dict[tuple[str, str], os.stat_result] = {}
    for option, path in outputs.items():
        if path is not None:
            with contextlib.suppress(OSError):  # not there yet: it is no input
                existing[option, path] = os.stat(path)
    files, dirs = local_tree(inputs, glob, files_too=bool(existing))
    for (option, path), st in existing.items():
        if (st.st_dev, st.st_ino) in files:
            raise click.UsageError(f"{option} {path} is one of the inputs: kbound does not write over what it reads")
    if not dirs:
        return
    cache = os.path.abspath(cache_dir(cache_root))
    below: list[str] = []  # the parts of the cache path that do not exist yet
    while True:
        try:
            st = os.stat(cache)
            break
        except OSError:
            parent, name = os.path.split(cache)
            if parent == cache:
                return
            cache, below = parent, [name, *below]
    # The walk skips hidden names, so a cache to be made under a hidden name is never read.
    if (st.st_dev, st.st_ino) in dirs and not any(part.startswith(".") for part in below):
        raise click.UsageError(f"the cache directory {os.path.join(cache, *below)} is inside an input directory, so "
                               "its files would be read as corpus: put it elsewhere (--cache-dir or $KBOUND_CACHE_DIR)")


def separator_bytes(text: str) -> bytes:
    """A --separator value with backslash escapes (`\\n`, `\\x1e`) as bytes."""
    return text.encode("utf-8").decode("unicode_escape").encode("utf-8", "surrogatepass")


def check_separator(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A --separator whose escapes do not parse (`\\x` without two hex digits) is a usage error, not a traceback."""
    try:
        separator_bytes(value)
    except UnicodeError as e:
        raise click.BadParameter(f"'{value}': {getattr(e, 'reason', e)}") from None
    return value


def corpus_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--glob, --field, --plain, --separator, --max-bytes: how inputs become one corpus, the same in every command."""
    for option in reversed((
        click.option("--glob", metavar="PATTERN",
                     help="In directories, read only files whose name matches (e.g. '*.txt')."),
        click.option("--field", metavar="NAME",
                     help="The text of each document: a JSON-lines file's NAME string per line, a Parquet file's NAME "
                          "column per row."),
        click.option("--plain", is_flag=True,
                     help="Read every input as text as it is: no decompression or Parquet by its first bytes (a text "
                          "that begins with BZh or PAR1)."),
        click.option("--separator", default=DEFAULT_SEPARATOR.decode(), show_default="\\x1e, ASCII record separator",
                     callback=check_separator,
                     help="Joins documents (backslash escapes allowed)."),
        click.option("--max-bytes", type=Size(min=1), default=None,
                     help="Stop with an error once the corpus passes SIZE bytes of text (checked while reading) "
                          "[default: no limit]."),
    )):
        fn = option(fn)
    return fn


def check_plain(plain: bool, field: str | None) -> None:
    """--plain and --field together are a usage error (exit 2), before anything is read."""
    if plain and field is not None:
        raise click.UsageError(PLAIN_WITH_FIELD)


def read_corpus(inputs: Sequence[str], glob: str | None, field: str | None, separator: str,
                max_bytes: int | None, plain: bool = False) -> contextlib.AbstractContextManager[Corpus]:
    """Open inputs the way every command does (a context: a spooled stdin is removed at its end)."""
    check_plain(plain, field)
    return open_corpus(list(inputs), glob=glob, field=field, separator=separator_bytes(separator),
                       max_bytes=max_bytes, plain=plain)


def cache_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--cache-dir and --no-cache, the same in every command that runs backends."""
    for option in reversed((
        click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
                     help="Result cache directory [default: $KBOUND_CACHE_DIR or the user cache dir]."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write cached results."),
    )):
        fn = option(fn)
    return fn


def output_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """-f/--format, --no-timings, --no-progress."""
    for option in reversed((
        click.option("-f", "--format", "fmt", type=click.Choice(list(FORMATS)), default=None,
                     help="Output format [default: table on a terminal, else lines]."),
        click.option("--no-timings", is_flag=True, help="Leave timings out (diffable output)."),
        click.option("--no-progress", is_flag=True, help="No progress display on stderr."),
    )):
        fn = option(fn)
    return fn


def default_format(fmt: str | None) -> str:
    """The chosen format, else table on a terminal and lines in a pipe."""
    return fmt or ("table" if sys.stdout.isatty() else "lines")


def use_color() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


EXIT_CODES_EPILOG = """\b
Exit codes:
  0    success
  1    error (bad input, unknown backend, missing library or matplotlib, every row
       failed; curve: no backend could be fitted)
  2    usage error (bad option or argument)
  129  hung up (SIGHUP); what finished is printed
  130  interrupted (Ctrl-C, SIGINT); what finished is printed
  141  standard output was closed early
  143  terminated (SIGTERM); what finished is printed"""
