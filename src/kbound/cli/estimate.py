"""`kbound estimate` (and plain `kbound INPUTS...`): bound K(corpus) with many verified compressors."""

from __future__ import annotations

import dataclasses
import signal
import sys
from typing import Any

import click

from kbound.backends.registry import DEFAULT_EFFORT, EFFORTS
from kbound.bounds.baseline import compare_with_baseline, load_baseline, threshold_breaches
from kbound.bounds.estimate import DEDUP_MODES, SOURCE_FIELD_NEEDS_DEDUP, estimate
from kbound.bounds.results import Report
from kbound.cli.common import EXIT_ERROR, EXIT_OK, EXIT_THRESHOLD, describe_models, interrupted_exit, run_cli
from kbound.cli.options import (
    ModelLoss,
    Size,
    check_inputs,
    check_outputs,
    check_plain,
    corpus_options,
    default_format,
    separator_bytes,
    use_color,
)
from kbound.cli.progress import Progress
from kbound.dedup.chunking import Chunking
from kbound.models.loss_windows import SCHEMES
from kbound.report import FORMATS, render
from kbound.report.files import write_output
from kbound.run.outcome import FAILED
from kbound.run.shards import MIN_SHARD_BYTES
from kbound.run.signals import Terminated

EXIT_CODES_HELP = """\b
Exit codes:
  0    success
  1    error (bad input, unknown backend, missing library, an output that cannot be written)
  2    usage error (bad option or argument)
  3    a threshold was breached (--max-bpb, --max-growth); one line says which
  129  hung up (SIGHUP); results finished so far are printed
  130  interrupted (Ctrl-C, SIGINT); results finished so far are printed
  141  standard output was closed early (e.g. piped into head); nothing is printed
  143  terminated (SIGTERM, as kill and timeout send); results finished so far are printed"""


def run_planned(inputs: tuple[str, ...], specs: list[str] | None, effort: str, size: int, seed: int,
                progress: Progress, common: dict[str, Any]) -> Report:
    """`--plan`: the sample's bars are named as such, and the run's bars carry the plan's prediction."""
    from kbound.growth.plan import RunPlan, planned_estimate
    from kbound.run.outcome import Interrupted

    def planned(plan: RunPlan) -> None:
        progress.sampling(False)
        progress.expect({f.spec: f.core_seconds for f in plan.forecasts if f.kept})

    progress.sampling(True)
    try:
        report: Report = planned_estimate(inputs, specs, effort=effort, size=size, seed=seed, on_plan=planned,
                                          on_sample_start=progress.start, on_sample_done=progress.done, **common)
    except Interrupted as stop:
        raise SampleInterrupted(stop.signum) from None
    return report


class SampleInterrupted(Exception):
    """A signal stopped `--plan`'s sample: nothing ran over the corpus, so there is nothing to print."""

    def __init__(self, signum: int) -> None:
        super().__init__("interrupted while sampling for --plan")
        self.signum = signum


def check_max_memory(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """--max-memory below one streaming worker would refuse every backend, `raw` included."""
    from kbound.run.engine import MIN_MAX_MEMORY

    if value is not None and value < MIN_MAX_MEMORY:
        raise click.BadParameter(f"{value:,} bytes runs nothing: one worker needs {MIN_MAX_MEMORY >> 20} MiB")
    return value


@click.command("estimate", epilog=EXIT_CODES_HELP)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUTS...", callback=check_inputs)
@click.option("-b", "--backend", "specs", multiple=True, metavar="SPEC",
              help="Backend spec such as zstd:19, xz:9e, ppmd:o=8,mem=1g; repeat for more "
                   "(default: the effort preset).")
@click.option("-e", "--effort", type=click.Choice(list(EFFORTS)), default=DEFAULT_EFFORT, show_default=True,
              help="Preset set of backends when no -b is given.")
@click.option("--no-verify", is_flag=True,
              help="Skip decompressing and hash-checking each payload (rows are labelled unverified).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Backends run at once [default: cores].")
@click.option("--shard-size", type=Size(min=MIN_SHARD_BYTES), default=None,
              help="Cut the corpus into independent shards of about SIZE of text (runs of whole files, or parts of "
                   "a larger file), for every backend; the bound adds the shard payloads, their framing and the "
                   "decoder once [default: only a backend that holds its input and could not fit the corpus in "
                   "memory is sharded].")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Run the tasks on a Dask cluster (tcp://host:8786; pip install 'kbound[dask]'); its workers read "
                   "the inputs themselves (a shared file system or fsspec URLs).")
@click.option("--max-memory", type=Size(), default=None, callback=check_max_memory,
              help="Run at once only the backends whose memory estimates fit in SIZE together; refuse any that "
                   "cannot fit alone [default: the memory available at the start, and none refused].")
@click.option("--dedup", type=click.Choice(list(DEDUP_MODES)), default="auto", show_default=True,
              help="Code chunks that repeat earlier content (anywhere in the corpus, across shards) once, as "
                   "references, in extra rows SPEC+dedup beside the plain ones, and report what repeats; auto: "
                   "unless the corpus is a single text document.")
@click.option("--chunk-size", type=Size(min=256), default=None, metavar="SIZE",
              help="Average content-defined chunk size of --dedup, a power of two (chunks are 1/4 to 8 times "
                   "it) [default: 1KiB].")
@click.option("--by-source", is_flag=True,
              help="Per-source accounting: shards never span two sources (the top-level subdirectories of an "
                   "input directory; a file named alone is its own); each source's documents, repeats within it "
                   "and against the sources before it, and the payload bytes it adds.")
@click.option("--source-field", metavar="PATH", default=None,
              help="Per-source accounting with each document's source named by a field of its own (with --field; "
                   "a dotted path into nested objects or Parquet structs, e.g. meta.source): each source's documents, "
                   "bytes, and repeats within it and against the sources before it. Implies --by-source; needs the "
                   "duplicate stage.")
@click.option("--plan", "plan_size", type=Size(min=1), default=None, metavar="SIZE",
              help="Run the candidates (the effort's, or -b) on a seeded sample of whole documents of about SIZE "
                   "(stratified by source), predict each one's bound and cost on the whole corpus, and run over "
                   "it only those whose bound could still be the smallest (docs/engine.md); the report shows "
                   "the plan.")
@click.option("--plan-seed", type=int, default=0, show_default=True, help="Seed of --plan's sample.")
@corpus_options
@click.option("-f", "--format", "fmt", type=click.Choice(list(FORMATS)), default=None,
              help="Output format [default: table on a terminal, else lines].")
@click.option("--no-timings", is_flag=True, help="Leave timing columns out (diffable output).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the best bound's total in bytes.")
@click.option("--no-progress", is_flag=True, help="No progress display on stderr.")
@click.option("-o", "--output", type=click.Path(), default=None, metavar="FILE",
              help="Also write the JSON report to FILE (atomically: a temporary file, then a rename).")
@click.option("--baseline", type=click.Path(dir_okay=False), default=None,
              help="Compare with an earlier JSON report: per-backend and best deltas.")
@click.option("--max-bpb", type=float, default=None,
              help="Exit 3 if the best bound exceeds this many bits per byte.")
@click.option("--max-growth", type=float, default=None, metavar="PCT",
              help="Exit 3 if the best bound grew more than PCT percent over --baseline.")
@click.option("-m", "--model", "models", multiple=True, metavar="PATH|SIZE",
              help="Compare with a model: .safetensors, sharded index/dir, .gguf, PyTorch zip .bin/.pt, a model "
                   "directory, or a typed size (13GB, 500GiB, 7B, 70B:q4_k, 8B:fp16). Repeatable. Never unpickled.")
@click.option("--bits-per-param", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True,
              help="Storage rate for 'parameters a lossless copy would need' (Allen-Zhu & Li 2024).")
@click.option("--model-loss", type=ModelLoss(), default=None, metavar="VALUE|measure",
              help="The model's loss on this corpus: bits per byte, or nats per token when --tokens or "
                   "--tokenizer gives a token count; or 'measure' to score the corpus with the --model GGUF "
                   "file through llama.cpp (pip install 'kbound[llm]'). Adds a two-part code (model + loss).")
@click.option("--loss-windows", type=click.Choice(SCHEMES), default=None,
              help="How --model-loss measure windows the text: 'sliding' slides a window over the corpus stream by "
                   "--loss-stride new tokens (the lm backend's scheme); 'disjoint' scores each document in "
                   "lm-eval's rolling windows (each window predicts --loss-window new tokens after one token of "
                   "context) [default: sliding].")
@click.option("--loss-window", type=click.IntRange(min=2), default=None,
              help="Tokens per evaluation for --model-loss measure (BOS, left context, new tokens) "
                   "[default: 1024, or the model's context length if shorter].")
@click.option("--loss-stride", type=click.IntRange(min=1), default=None,
              help="New tokens scored per sliding window; the rest of the window is left context [default: half].")
@click.option("--loss-sample", type=Size(min=1), default=None,
              help="Score a seeded random sample of whole documents of about SIZE instead of the whole corpus.")
@click.option("--loss-seed", type=int, default=0, show_default=True, help="Seed of --loss-sample.")
@click.option("--tokens", type=click.IntRange(min=1), default=None, help="The corpus's token count.")
@click.option("--tokenizer", type=click.Path(dir_okay=False), default=None,
              help="A local tokenizer.json: count the corpus's tokens, report bits per token.")
@click.option("--corpus-size", type=Size(), default=None,
              help="Scale the model comparison to a corpus of this size (e.g. 2TB): the payload at its bits per "
                   "byte, the decoder counted once.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Result cache directory [default: $KBOUND_CACHE_DIR or the user cache dir].")
@click.option("--no-cache", is_flag=True, help="Neither read nor write cached results.")
def estimate_command(
    inputs: tuple[str, ...], specs: tuple[str, ...], effort: str, no_verify: bool, jobs: int | None,
    shard_size: int | None, scheduler: str | None, max_memory: int | None, glob: str | None,
    field: str | None, plain: bool,
    separator: str, max_bytes: int | None, fmt: str | None, no_timings: bool,
    quiet: bool, no_progress: bool, output: str | None, baseline: str | None, max_bpb: float | None,
    max_growth: float | None, models: tuple[str, ...], bits_per_param: float, model_loss: float | str | None,
    loss_windows: str | None, loss_window: int | None, loss_stride: int | None, loss_sample: int | None, loss_seed: int,
    tokens: int | None, tokenizer: str | None, corpus_size: int | None, cache_dir: str | None, no_cache: bool,
    dedup: str, chunk_size: int | None, by_source: bool, source_field: str | None, plan_size: int | None,
    plan_seed: int,
) -> None:
    """Bound K(corpus) from above with many verified compressors.

    INPUTS are files, directories (read recursively, sorted), fsspec URLs or - for standard
    input; gzip, bzip2, xz and zstd inputs (known by their first bytes) are read decompressed,
    JSON lines and Parquet with --field, and every input as it is with --plain. Inputs are
    streamed, never held in memory. Each backend's payload is decompressed
    and checked against the input's sha256; its decoder size is counted beside the payload.
    """
    if max_growth is not None and baseline is None:
        raise click.UsageError("--max-growth needs --baseline")
    check_plain(plain, field)
    if source_field is not None:
        if field is None:
            raise click.UsageError("--source-field names a field of JSON lines or Parquet rows: give --field too")
        if dedup == "off":
            raise click.UsageError(SOURCE_FIELD_NEEDS_DEDUP)
    if model_loss is not None and len(models) != 1:
        raise click.UsageError("--model-loss needs exactly one --model")
    measure = model_loss == "measure"
    if measure and "-" in inputs:
        raise click.UsageError("--model-loss measure reads the corpus again: give files, not standard input (-)")
    if measure and tokens is not None:
        raise click.UsageError("--model-loss measure counts the tokens itself: leave out --tokens")
    if not measure and (loss_windows or loss_window or loss_stride or loss_sample):
        raise click.UsageError("--loss-windows, --loss-window, --loss-stride and --loss-sample go with "
                               "--model-loss measure")
    if loss_windows == "disjoint" and loss_stride is not None:
        raise click.UsageError("--loss-stride goes with --loss-windows sliding: disjoint windows do not overlap")
    if (corpus_size is not None or tokens is not None) and not models:
        raise click.UsageError("--corpus-size and --tokens compare with a model: add --model")
    chunking = None
    if chunk_size is not None:
        try:
            chunking = Chunking(chunk_size // 4, chunk_size, chunk_size * 8)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--chunk-size") from None
    out_format = default_format(fmt)
    show_progress = not (quiet or no_progress) and sys.stderr.isatty()

    def run() -> int:
        check_outputs(inputs, glob, {"--output": output}, cache_dir)
        baseline_doc = load_baseline(baseline) if baseline else None
        # Every model is read (by its headers) before anything is compressed: a bad one fails at once.
        infos = describe_models(models)
        if measure and infos[0].kind != "gguf":
            raise click.UsageError(f"--model-loss measure runs a GGUF model; {models[0]} is {infos[0].kind}")
        progress = Progress(enabled=show_progress)
        common: dict[str, Any] = dict(
            verify=not no_verify, jobs=jobs, cache_dir=cache_dir,
            use_cache=not no_cache, tokenizer=tokenizer, on_start=progress.start, on_done=progress.done,
            on_progress=progress.advance, shard_size=shard_size, scheduler=scheduler, max_memory=max_memory,
            glob=glob, field=field, plain=plain,
            separator=separator_bytes(separator), max_bytes=max_bytes,
            dedup=dedup, by_source=by_source, chunking=chunking, source_field=source_field,
        )
        with progress:
            if plan_size is None:
                report = estimate(inputs, list(specs) or None, effort=effort, **common)
            else:
                report = run_planned(inputs, list(specs) or None, effort, plan_size, plan_seed, progress, common)
        measured = None
        # A run a signal stopped goes straight to printing what finished: scoring takes minutes.
        if measure and report.best is not None and not report.interrupted:
            from kbound.models.loss import measure_loss
            from kbound.sources.corpus import open_corpus

            try:
                with open_corpus(inputs, glob=glob, field=field, separator=separator_bytes(separator),
                                 max_bytes=max_bytes, plain=plain) as corpus:
                    measured = measure_loss(models[0], corpus.selection(), windows=loss_windows or "sliding",
                                            window=loss_window, stride=loss_stride,
                                            sample_bytes=loss_sample, seed=loss_seed)
            except (KeyboardInterrupt, Terminated) as stop:
                # The rows stand: print them without the model's loss, and exit with the signal's code.
                signum = stop.signum if isinstance(stop, Terminated) else signal.SIGINT
                report = dataclasses.replace(report, interrupted=True, signal=signum)
        if infos:
            from kbound.models.attach import with_models

            try:
                given = None if isinstance(model_loss, str) else model_loss
                report = with_models(report, infos, bits_per_param=bits_per_param,
                                     model_loss=measured if measured is not None else given,
                                     tokens=tokens, corpus_size_bytes=corpus_size)
            except ValueError as e:
                raise click.UsageError(str(e)) from None
        if baseline_doc is not None and baseline is not None:
            report = dataclasses.replace(report, baseline=compare_with_baseline(report, baseline_doc, baseline))
        for r in report.results:
            if (r.status == FAILED and out_format in ("lines",)) or (quiet and r.status == FAILED):
                click.echo(f"kbound: {r.spec} failed: {r.error}", err=True)
        if quiet:
            if report.best is not None:
                click.echo(report.best.total_bytes)
        else:
            if report.models and out_format == "lines":  # the default when piped: say where the verdict went
                click.echo("kbound: the --model comparison is not in the lines format (a row per backend);"
                           " -f table, md or json shows it", err=True)
            click.echo(render(report, out_format, color=use_color(), timings=not no_timings), nl=False)
        if output:
            # After stdout: an output file that cannot be written costs one line and exit 1, not the results.
            sys.stdout.flush()
            write_output(output, render(report, "json", timings=not no_timings).encode("utf-8"))
        if report.interrupted:
            return interrupted_exit(report.signal)
        breaches = threshold_breaches(report, max_bpb=max_bpb, max_growth=max_growth)
        for line in breaches:
            click.echo(f"kbound: threshold breached: {line}", err=True)
        if breaches:
            return EXIT_THRESHOLD
        if report.best is None:  # every row failed: printed above, but a run without a bound is not a success
            click.echo("kbound: error: no backend produced a bound (every row failed)", err=True)
            return EXIT_ERROR
        return EXIT_OK

    def run_or_stop() -> int:
        try:
            return run()
        except SampleInterrupted as stop:
            click.echo(f"kbound: {stop}", err=True)
            return interrupted_exit(stop.signum)

    sys.exit(run_cli(run_or_stop))
