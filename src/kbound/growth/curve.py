"""Growth curves: the bound on nested samples at geometric sizes, a power-law fit per backend, extrapolation.

Points record payload and decoder apart, and the fit is made on payloads only: the decoder is a
constant (hundreds of kB for some backends) that would bend a power law at small n. The decoder
is added once, at the extrapolated size, with ceil(log2 k) bits to say which of k fitted backends
was chosen, so the extrapolated total is comparable with `kbound estimate`'s best bound.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kbound.backends.base import Backend
from kbound.backends.registry import DEFAULT_EFFORT, spec_name
from kbound.bounds.estimate import resolve_backends
from kbound.bounds.results import CorpusSummary
from kbound.errors import KboundError
from kbound.growth.fit import MIN_POINTS, PowerLawFit, fit_power_law
from kbound.models.info import ModelInfo
from kbound.models.verdict import ModelComparison
from kbound.run.batch import Job, RunOptions, identify, run_jobs
from kbound.run.engine import default_jobs
from kbound.run.outcome import FAILED, Interrupted, Outcome
from kbound.run.shards import one
from kbound.sources.corpus import Corpus
from kbound.sources.sampling import SAMPLINGS, geometric_sizes, sample_selections
from kbound.version import kbound_version

SCHEMA = "kbound-curve/1"
DEFAULT_POINTS = 8
#: Each point runs every backend on a sample: 100 is already a point every 0.1 in ln n over 4 decades and more.
MAX_POINTS = 100
DEFAULT_MIN_BYTES = 16_000
DEFAULT_SEED = 0

ASSUMPTION = (
    "Extrapolation assumes the rest of the data behaves like this sample: the same kind of text, "
    "as repetitive, in the same proportions. A fit to {points} points up to {measured} bytes says "
    "nothing certain about {target} bytes; the band covers only the scatter of these points."
)


@dataclass(frozen=True)
class CurvePoint:
    """One backend on one sample: the payload (what the fit uses) and the decoder, or why it failed."""

    sample_bytes: int
    documents: int
    #: "verified", "unverified" (--no-verify) or "failed".
    status: str
    payload_bytes: int | None
    decoder_bytes: int | None
    compress_seconds: float | None
    decompress_seconds: float | None
    error: str | None

    @property
    def total_bytes(self) -> int | None:
        """Payload plus decoder: the bound on this sample alone."""
        if self.payload_bytes is None or self.decoder_bytes is None:
            return None
        return self.payload_bytes + self.decoder_bytes


@dataclass(frozen=True)
class Projection:
    """One backend's fitted bound at a target size: payload from the fit plus the measured decoder."""

    spec: str
    target_bytes: int
    payload_bytes: float
    payload_low_bytes: float
    payload_high_bytes: float
    decoder_bytes: int
    #: ceil(log2 k) bits to name the backend among the k with a fit (0 in per-backend rows).
    selector_bits: int = 0

    @property
    def total_bits(self) -> float:
        """The extrapolated bound in bits: 8·(fitted payload + decoder) + selector bits."""
        return 8 * (self.payload_bytes + self.decoder_bytes) + self.selector_bits

    @property
    def total_low_bits(self) -> float:
        """The low end of the 95% band, in bits."""
        return 8 * (self.payload_low_bytes + self.decoder_bytes) + self.selector_bits

    @property
    def total_high_bits(self) -> float:
        """The high end of the 95% band, in bits."""
        return 8 * (self.payload_high_bytes + self.decoder_bytes) + self.selector_bits

    @property
    def bits_per_byte(self) -> float:
        """The extrapolated bound per byte of the target size."""
        return self.total_bits / self.target_bytes


@dataclass(frozen=True)
class BackendCurve:
    """One backend's points at every sample size and its fit (None, with `fit_note`, below 3 good points)."""

    spec: str
    backend: str
    library: str
    library_version: str
    points: tuple[CurvePoint, ...]
    fit: PowerLawFit | None
    fit_note: str | None
    projection: Projection | None = None

    @property
    def decoder_bytes(self) -> int | None:
        """The decoder's size (the same at every size), from the first point that measured it."""
        return next((p.decoder_bytes for p in self.points if p.decoder_bytes is not None), None)


@dataclass(frozen=True)
class CurveReport:
    """A growth curve run: the corpus, the samples, every backend's curve and fit, and the extrapolation."""

    corpus: CorpusSummary
    sampling: str
    seed: int | None
    sample_bytes: tuple[int, ...]
    curves: tuple[BackendCurve, ...]
    #: The best backend's bound at `--to` (the smallest extrapolated total), with the selector bits.
    extrapolation: Projection | None
    assumption: str | None
    settings: dict[str, Any]
    kbound_version: str
    #: `--model` compared with the extrapolated bound.
    model: ModelComparison | None = None
    interrupted: bool = False
    schema: str = field(default=SCHEMA)
    #: The signal that stopped an interrupted run (2 for Ctrl-C, 15 for SIGTERM, 1 for SIGHUP), as `Report.signal`.
    signal: int | None = None


def _point(outcome: Outcome, sample_bytes: int, documents: int, verify: bool) -> CurvePoint:
    status = outcome.status(verify)
    return CurvePoint(
        sample_bytes=sample_bytes,
        documents=documents,
        status=status,
        payload_bytes=None if status == FAILED else outcome.payload_bytes,
        decoder_bytes=None if outcome.decoder is None else outcome.decoder.decoder_bytes,
        compress_seconds=outcome.compress_seconds,
        decompress_seconds=outcome.decompress_seconds,
        error=outcome.why_failed(verify),
    )


def fit_points(points: Sequence[CurvePoint]) -> tuple[PowerLawFit | None, str | None]:
    """Fit the points that have a payload; None and the reason when fewer than 3 (or one size) remain."""
    good = [p for p in points if p.payload_bytes is not None and p.status != FAILED and p.sample_bytes > 0]
    if len(good) < MIN_POINTS:
        failed = sum(p.status == FAILED for p in points)
        why = f" ({failed} failed)" if failed else ""
        return None, f"{len(good)} usable point(s){why}; a fit needs {MIN_POINTS}"
    try:
        return fit_power_law([p.sample_bytes for p in good], [p.payload_bytes or 0 for p in good]), None
    except ValueError as e:
        return None, str(e)


def project(curve: BackendCurve, target_bytes: int) -> Projection | None:
    """The curve's fitted payload at `target_bytes` plus its decoder; None without a fit or a decoder size."""
    if curve.fit is None or curve.decoder_bytes is None:
        return None
    low, high = curve.fit.band_bytes(target_bytes)
    return Projection(curve.spec, target_bytes, curve.fit.predict_bytes(target_bytes), low, high, curve.decoder_bytes)


def best_projection(projections: Sequence[Projection]) -> Projection | None:
    """The smallest extrapolated total, charged ceil(log2 k) bits for the choice among k."""
    if not projections:
        return None
    winner = min(projections, key=lambda p: (p.total_bits, p.spec))
    k = len(projections)
    return Projection(
        winner.spec, winner.target_bytes, winner.payload_bytes, winner.payload_low_bytes, winner.payload_high_bytes,
        winner.decoder_bytes, math.ceil(math.log2(k)) if k > 1 else 0,
    )


def growth_curve(
    corpus: Corpus,
    backends: Sequence[str] | None = None,
    *,
    effort: str = DEFAULT_EFFORT,
    points: int = DEFAULT_POINTS,
    min_bytes: int = DEFAULT_MIN_BYTES,
    sampling: str = "prefix",
    seed: int = DEFAULT_SEED,
    target_bytes: int | None = None,
    verify: bool = True,
    jobs: int | None = None,
    cache_dir: str | None = None,
    use_cache: bool = True,
    on_start: Callable[[Backend], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> CurveReport:
    """Compress nested samples of `corpus` at geometric sizes with every backend; fit and extrapolate.

    `sampling` is "prefix" (the first n bytes) or "documents" (random document subsets from a
    shuffle seeded with `seed`). Samples run smallest first; if interrupted, the report holds the
    sizes that finished and says so. `target_bytes` asks for the extrapolated bound at that size.
    Verified points are cached by sample sha256 like `estimate`'s rows (`use_cache=False` to recompute).
    """
    if target_bytes is not None and target_bytes <= 0:
        raise KboundError(f"--to must be a size above 0 bytes, not {target_bytes}")
    if sampling not in SAMPLINGS:
        raise KboundError(f"unknown sampling {sampling!r} (choose prefix or documents)")
    # The raw floor's curve is n itself; it is drawn only when asked for by name.
    asked_raw = any(spec_name(s) == "raw" for s in backends or ())
    chosen = [b for b in resolve_backends(backends, effort) if asked_raw or b.name != "raw"]
    options = RunOptions(verify=verify, jobs=jobs, cache_dir=cache_dir, use_cache=use_cache, limit=corpus.max_bytes,
                         kbound_version=kbound_version())
    whole = corpus.selection()
    stats = identify(whole, options)
    sizes = geometric_sizes(stats.bytes, points, min_bytes)
    if not sizes:
        raise KboundError("the corpus is empty: there is no curve to draw")
    by_spec: dict[str, list[CurvePoint]] = {b.spec: [] for b in chosen}
    done_sizes: list[int] = []
    interrupted, signum = False, None
    for selection, size in zip(sample_selections(whole, stats, sizes, sampling, seed), sizes, strict=True):
        try:
            batch = run_jobs([Job(b, one(selection, size)) for b in chosen], options, on_start=on_start,
                             on_done=on_done)
        except Interrupted as stop:
            interrupted, signum = True, stop.signum
            break
        read = next((o.stats for o in batch.outcomes if o.stats is not None), None)
        if read is None or (done_sizes and read.bytes == done_sizes[-1]):
            continue  # a document sample that came out the size of the one before adds no point
        for o in batch.outcomes:
            by_spec[o.backend.spec].append(_point(o, read.bytes, read.documents, verify))
        done_sizes.append(read.bytes)
    curves = []
    for b in chosen:
        pts = tuple(by_spec[b.spec])
        fit, note = fit_points(pts)
        curve = BackendCurve(b.spec, b.name, b.library, b.library_version(), pts, fit, note)
        if target_bytes is not None:
            curve = dataclasses.replace(curve, projection=project(curve, target_bytes))
        curves.append(curve)
    projections = [c.projection for c in curves if c.projection is not None]
    best = best_projection(projections) if target_bytes is not None else None
    assumption = None
    if best is not None:
        fitted = next(c.fit for c in curves if c.spec == best.spec)
        assert fitted is not None
        assumption = ASSUMPTION.format(
            points=fitted.points, measured=f"{max(done_sizes):,}", target=f"{best.target_bytes:,}"
        )
    return CurveReport(
        corpus=CorpusSummary.of(corpus, stats),
        sampling=sampling,
        seed=seed if sampling == "documents" else None,
        sample_bytes=tuple(done_sizes),
        curves=tuple(curves),
        extrapolation=best,
        assumption=assumption,
        settings={
            "backends": [b.spec for b in chosen],
            "effort": None if backends else effort,
            "points": points,
            "min_bytes": min_bytes,
            "sampling": sampling,
            "seed": seed if sampling == "documents" else None,
            "to_bytes": target_bytes,
            "verify": verify,
            "jobs": jobs or default_jobs(),
            "cache": use_cache,
            "fit": "least squares of ln(payload bytes) on ln(sample bytes); decoder added once at --to",
            "band": "95% prediction interval (Student's t) of the log-log fit",
        },
        kbound_version=kbound_version(),
        interrupted=interrupted,
        signal=signum,
    )


def with_model(
    report: CurveReport, model_arg: ModelInfo | str, bits_per_param: float, model_loss: float | None = None,
    tokens: int | None = None, token_bytes: int | None = None,
) -> CurveReport:
    """Attach `--model`'s comparison with the extrapolated bound (a plain number of bits at --to bytes).

    With `tokens` (counted on `token_bytes` bytes), `model_loss` is in nats per token.
    """
    from kbound.models import compare, describe_model

    if report.extrapolation is None:
        raise KboundError("no extrapolated bound to compare the model with: no backend has a fit")
    p = report.extrapolation
    try:
        comparison = compare(
            model_arg if isinstance(model_arg, ModelInfo) else describe_model(model_arg),
            bound_bits=round(p.total_bits), corpus_bytes=p.target_bytes,
            bits_per_param=bits_per_param,
            model_loss_bpb=None if tokens is not None else model_loss,
            loss_nats_per_token=model_loss if tokens is not None else None, tokens=tokens, token_bytes=token_bytes,
        )
    except ValueError as e:
        raise KboundError(str(e)) from None
    return dataclasses.replace(report, model=comparison)
