"""`kbound tradeoff`: each backend across its levels, bound size against (de)compression time, Pareto frontiers."""

from __future__ import annotations

import sys

import click

from kbound.backends.catalog import CATALOG
from kbound.backends.registry import is_slow
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
from kbound.growth.tradeoff import tradeoff
from kbound.report.tradeoff import render_tradeoff
from kbound.run.outcome import FAILED


@click.command("tradeoff", epilog=EXIT_CODES_EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="CORPUS...")
@click.option("-b", "--backend", "choices", multiple=True, metavar="NAME|SPEC",
              help=f"A backend name runs its levels ({', '.join(CATALOG)}); a spec (zstd:19) runs as given. "
                   "Repeat for more [default: the levels of every installed backend but the model-based "
                   f"{', '.join(n for n in CATALOG if is_slow(n))}, which run only when named].")
@click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True,
              help="Run everything this many times and keep each level's fastest times.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Levels run at once (more is faster but makes timings noisier).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Draw size against decompression and compression time to FILE (.png, .svg, .pdf; "
                   "needs kbound[plot]).")
@cache_options
@corpus_options
@output_options
def tradeoff_command(
    inputs: tuple[str, ...], choices: tuple[str, ...], repeat: int, jobs: int, plot_path: str | None,
    cache_dir: str | None, no_cache: bool, glob: str | None, field: str | None, plain: bool, separator: str,
    max_bytes: int | None, fmt: str | None, no_timings: bool, no_progress: bool,
) -> None:
    """Run each backend across its levels on CORPUS and mark the space–time Pareto frontier.

    Every level's payload is decompressed and verified, which measures the decompression time;
    the bound is payload + decoder. A level is on the frontier when no other level is both as
    small and as fast: the trade-off between a big fast description and a small slow one.
    """
    out_format = default_format(fmt)

    def run() -> int:
        check_outputs(inputs, glob, {"--plot": plot_path}, cache_dir)
        if plot_path is not None:
            from kbound.report.plot import check_plot_path

            check_plot_path(plot_path)
        progress = Progress(enabled=not no_progress and sys.stderr.isatty())
        with read_corpus(inputs, glob, field, separator, max_bytes, plain) as corpus, progress:
            report = tradeoff(corpus, list(choices) or None, repeat=repeat, jobs=jobs, cache_dir=cache_dir,
                              use_cache=not no_cache, on_start=progress.start, on_done=progress.done)
        for p in report.points:
            if p.status == FAILED:
                click.echo(f"kbound: {p.spec} failed: {p.error}", err=True)
        if plot_path is not None:
            from kbound.report.plot import image_format, plot_tradeoff, write_plot

            write_plot(plot_path, plot_tradeoff(report, image_format(plot_path)))
        click.echo(render_tradeoff(report, out_format, color=use_color(), timings=not no_timings), nl=False)
        return interrupted_exit(report.signal) if report.interrupted else EXIT_OK

    sys.exit(run_cli(run))
