"""`kbound plan`: the price of each effort on the whole corpus, predicted from a sample, before running it."""

from __future__ import annotations

import sys

import click

from kbound.backends.registry import EFFORTS
from kbound.cli.common import EXIT_OK, interrupted_exit, run_cli
from kbound.cli.options import (
    EXIT_CODES_EPILOG,
    Size,
    cache_options,
    check_outputs,
    corpus_options,
    default_format,
    output_options,
    read_corpus,
    use_color,
)
from kbound.cli.progress import Progress
from kbound.growth.plan import DEFAULT_PLAN_SEED
from kbound.run.outcome import Interrupted

DEFAULT_SAMPLE = "4MB"


@click.command("plan", epilog=EXIT_CODES_EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="CORPUS...")
@click.option("-e", "--effort", "efforts", type=click.Choice(list(EFFORTS)), multiple=True,
              help="An effort to price; repeat for more [default: every effort].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Predict the wall time on this many workers (one backend a worker) [default: cores].")
@click.option("--sample", "sample_bytes", type=Size(min=1), default=DEFAULT_SAMPLE, show_default=True,
              help="The largest sample (the others are 1/4 and 1/16 of it), as --plan SIZE draws it.")
@click.option("--seed", type=int, default=DEFAULT_PLAN_SEED, show_default=True, help="Seed of the sample.")
@click.option("--no-verify", is_flag=True, help="Skip the round-trip check of each sample payload.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Backends run at once on the sample [default: cores].")
@cache_options
@corpus_options
@output_options
def plan_command(
    inputs: tuple[str, ...], efforts: tuple[str, ...], workers: int | None, sample_bytes: int, seed: int,
    no_verify: bool, jobs: int | None, cache_dir: str | None, no_cache: bool, glob: str | None,
    field: str | None, plain: bool, separator: str, max_bytes: int | None, fmt: str | None, no_timings: bool,
    no_progress: bool,
) -> None:
    """Predict what each effort would cost on the whole of CORPUS, from a sample, without running it.

    Runs every backend of the efforts on nested seeded samples of whole documents (stratified by
    source, as `--plan` draws them), and prints for each effort the predicted core-hours with
    their band, the wall time on --workers, the memory one worker needs, the backends that
    dominate the cost, the predicted best bound, and what `kbound --plan` would keep and cost.
    """
    from kbound.growth.plan import process_cpu_seconds
    from kbound.growth.price import price
    from kbound.report.plan import render_price
    from kbound.run.batch import RunOptions
    from kbound.run.engine import default_jobs
    from kbound.version import kbound_version

    out_format = default_format(fmt)

    def run() -> int:
        check_outputs(inputs, glob, {}, cache_dir)
        progress = Progress(enabled=not no_progress and sys.stderr.isatty())
        progress.sampling(True)
        with read_corpus(inputs, glob, field, separator, max_bytes, plain) as corpus, progress:
            options = RunOptions(verify=not no_verify, jobs=jobs, cache_dir=cache_dir, use_cache=not no_cache,
                                 limit=corpus.max_bytes, kbound_version=kbound_version())
            try:
                # What this process spent so far (start, imports, the corpus listed) a run would spend too.
                priced = price(corpus, efforts or tuple(EFFORTS), sample_bytes, seed, workers or default_jobs(),
                               options, start_core_seconds=process_cpu_seconds() or 0.0, on_start=progress.start,
                               on_done=progress.done)
            except Interrupted as stop:
                click.echo("kbound: interrupted while sampling: nothing to price", err=True)
                return interrupted_exit(stop.signum)
        click.echo(render_price(priced, out_format, color=use_color()), nl=False)
        return EXIT_OK

    sys.exit(run_cli(run))
