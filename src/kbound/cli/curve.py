"""`kbound curve`: how the bound grows with the corpus, a power-law fit, and extrapolation to a size (--to)."""

from __future__ import annotations

import sys

import click

from kbound.backends.registry import DEFAULT_EFFORT, EFFORTS
from kbound.cli.common import EXIT_ERROR, EXIT_OK, describe_models, interrupted_exit, run_cli
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
from kbound.growth.curve import (
    DEFAULT_MIN_BYTES,
    DEFAULT_POINTS,
    DEFAULT_SEED,
    MAX_POINTS,
    growth_curve,
    with_model,
)
from kbound.report.curve import render_curve
from kbound.run.outcome import FAILED
from kbound.sources.sampling import SAMPLINGS


@click.command("curve", epilog=EXIT_CODES_EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="CORPUS...")
@click.option("-b", "--backend", "specs", multiple=True, metavar="SPEC",
              help="Backend spec (repeat for more) [default: the effort preset, without raw].")
@click.option("-e", "--effort", type=click.Choice(list(EFFORTS)), default=DEFAULT_EFFORT, show_default=True,
              help="Preset set of backends when no -b is given.")
@click.option("--points", type=click.IntRange(min=1, max=MAX_POINTS), default=DEFAULT_POINTS, show_default=True,
              help=f"Sample sizes, geometric from --min-size to the whole corpus (at most {MAX_POINTS}).")
@click.option("--min-size", "min_bytes", type=Size(), default=DEFAULT_MIN_BYTES, show_default="16kB",
              help="The smallest sample.")
@click.option("--sample", "sampling", type=click.Choice(SAMPLINGS), default="prefix", show_default=True,
              help="prefix: the first n bytes; documents: nested random document subsets (--seed).")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Shuffle seed for --sample documents.")
@click.option("--to", "to_bytes", type=Size(min=1), default=None,
              help="Extrapolate the best backend's bound to this size (e.g. 2TB), with a 95% band.")
@click.option("--model", "model_arg", metavar="MODEL", default=None,
              help="Compare a model (weights file, directory, or a size such as 500GB or 70B) with the "
                   "extrapolated bound; needs --to.")
@click.option("--bits-per-param", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True,
              help="Storage rate for the parameters a copy of the bound would need (with --model).")
@click.option("--model-loss", type=click.FloatRange(min=0), default=None, metavar="VALUE",
              help="The model's loss on text like this, in bits per byte (or nats per token with --tokens): "
                   "adds the two-part code (model + loss) at the --to size.")
@click.option("--tokens", type=click.IntRange(min=1), default=None,
              help="CORPUS's token count: --model-loss is then nats per token, taken at the same tokens per "
                   "byte at the --to size.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Draw the curves and the extrapolation to FILE (.png, .svg, .pdf; needs kbound[plot]).")
@click.option("--no-verify", is_flag=True, help="Skip the round-trip check of each payload.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Backends run at once [default: cores].")
@cache_options
@corpus_options
@output_options
def curve_command(
    inputs: tuple[str, ...], specs: tuple[str, ...], effort: str, points: int, min_bytes: int, sampling: str,
    seed: int, to_bytes: int | None, model_arg: str | None, bits_per_param: float, model_loss: float | None,
    tokens: int | None, plot_path: str | None,
    no_verify: bool, jobs: int | None, cache_dir: str | None, no_cache: bool, glob: str | None,
    field: str | None, plain: bool, separator: str, max_bytes: int | None,
    fmt: str | None, no_timings: bool, no_progress: bool,
) -> None:
    """Compress samples of CORPUS at geometric sizes and fit C(n) = a·n^β per backend.

    β < 1 means the bound grows sublinearly: new text keeps repeating what was seen. Points are
    payload bytes, verified as in `kbound estimate`; the fit is least squares in log–log space
    and the decoder is added once, at the extrapolated size. `--to 2TB` projects the best
    backend's bound to that size with a 95% band; extrapolation assumes the rest of the data
    behaves like this sample.
    """
    if model_arg is not None and to_bytes is None:
        raise click.UsageError("--model needs --to SIZE (the corpus size to compare the model with)")
    if model_loss is not None and model_arg is None:
        raise click.UsageError("--model-loss needs --model")
    if tokens is not None and model_loss is None:
        raise click.UsageError("--tokens gives --model-loss in nats per token: add --model-loss")
    out_format = default_format(fmt)

    def run() -> int:
        check_outputs(inputs, glob, {"--plot": plot_path}, cache_dir)
        if plot_path is not None:
            from kbound.report.plot import check_plot_path

            check_plot_path(plot_path)
        # The model is read (by its headers) before anything is compressed: a bad one fails at once.
        infos = describe_models([model_arg] if model_arg else [])
        progress = Progress(enabled=not no_progress and sys.stderr.isatty())
        with read_corpus(inputs, glob, field, separator, max_bytes, plain) as corpus, progress:
            report = growth_curve(
                corpus, list(specs) or None, effort=effort, points=points, min_bytes=min_bytes, sampling=sampling,
                seed=seed, target_bytes=to_bytes, verify=not no_verify, jobs=jobs, cache_dir=cache_dir,
                use_cache=not no_cache, on_start=progress.start,
                on_done=progress.done,
            )
        if infos:
            report = with_model(report, infos[0], bits_per_param, model_loss, tokens, report.corpus.bytes)
        for cv in report.curves:
            for p in cv.points:
                if p.status == FAILED:
                    click.echo(f"kbound: {cv.spec} failed at {p.sample_bytes:,} bytes: {p.error}", err=True)
        if plot_path is not None:
            from kbound.report.plot import image_format, plot_curve, write_plot

            write_plot(plot_path, plot_curve(report, image_format(plot_path)))
        click.echo(render_curve(report, out_format, color=use_color(), timings=not no_timings), nl=False)
        if report.interrupted:
            return interrupted_exit(report.signal)
        if not any(cv.fit is not None for cv in report.curves):
            notes = "; ".join(f"{cv.spec}: {cv.fit_note}" for cv in report.curves if cv.fit_note)
            click.echo(f"kbound: error: no backend could be fitted ({notes or 'no points'})", err=True)
            return EXIT_ERROR
        return EXIT_OK

    sys.exit(run_cli(run))
