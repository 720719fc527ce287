"""`kbound compare A B`: what B adds to A: C(B | A) ≈ C(A·B) − C(A), NCD(A, B), and B's new share."""

from __future__ import annotations

import sys

import click

from kbound.cli.common import EXIT_OK, interrupted_exit, run_cli
from kbound.cli.options import (
    EXIT_CODES_EPILOG,
    cache_options,
    check_outputs,
    corpus_options,
    default_format,
    output_options,
    read_corpus,
    use_color,
)
from kbound.cli.progress import Progress
from kbound.growth.compare import conditional
from kbound.report.compare import render_conditional
from kbound.run.outcome import FAILED


@click.command("compare", epilog=EXIT_CODES_EPILOG)
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("-b", "--backend", "specs", multiple=True, metavar="SPEC",
              help="Backend spec (repeat for more) [default: zstd long mode, xz and ppmd sized to A·B, brotli].")
@click.option("--no-verify", is_flag=True, help="Skip the round-trip check of each payload.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Backends run at once [default: cores].")
@cache_options
@corpus_options
@output_options
def compare_command(
    a: str, b: str, specs: tuple[str, ...], no_verify: bool, jobs: int | None, cache_dir: str | None,
    no_cache: bool, glob: str | None, field: str | None, plain: bool, separator: str, max_bytes: int | None,
    fmt: str | None,
    no_timings: bool, no_progress: bool,
) -> None:
    """Estimate how much information B adds to A (each a file, a directory, or -).

    Every backend compresses A, B and A·B, verified; C(B|A) ≈ C(A·B) − C(A) is an estimate (a
    difference of bounds), NCD(A, B) is near 0 for the same text and near 1 for unrelated text.
    Backends whose window cannot see A while coding B are left out with a warning. Uses: what a
    dataset's new version adds; overlap of a test set with a training set.
    """
    if a == b == "-":
        raise click.UsageError("standard input (-) is given as both A and B; it can be read only once")
    out_format = default_format(fmt)

    def run() -> int:
        check_outputs((a, b), glob, {}, cache_dir)
        progress = Progress(enabled=not no_progress and sys.stderr.isatty())
        with read_corpus((a,), glob, field, separator, max_bytes, plain) as corpus_a, \
                read_corpus((b,), glob, field, separator, max_bytes, plain) as corpus_b, progress:
            report = conditional(corpus_a, corpus_b, list(specs) or None, verify=not no_verify, jobs=jobs,
                                 cache_dir=cache_dir, use_cache=not no_cache, on_start=progress.start,
                                 on_done=progress.done)
        if out_format in ("lines", "json", "csv"):
            for warning in report.warnings:
                click.echo(f"kbound: warning: {warning}", err=True)
        for r in report.rows:
            if r.status == FAILED:
                click.echo(f"kbound: {r.spec} failed: {r.note}", err=True)
        click.echo(render_conditional(report, out_format, color=use_color()), nl=False)
        return interrupted_exit(report.signal) if report.interrupted else EXIT_OK

    sys.exit(run_cli(run))
