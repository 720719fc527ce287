"""A growth curve (`CurveReport`, schema `kbound-curve/1`) as a view; pure functions that never measure.

json: the whole result; csv: one row per backend and sample; lines: one row per fitted backend
(`spec, β, a, residual[, target bytes, extrapolated total bytes]`); md and table: the points,
the fits, and the sentences that say what β and the extrapolation mean.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from kbound.bounds.results import CorpusSummary
from kbound.growth.curve import BackendCurve, CurvePoint, CurveReport, Projection
from kbound.report.view import CsvTable, Paragraph, Row, Table, View, emit, rounded, text_and_numbers
from kbound.units import human_bytes

_POINT_FIELDS = (
    "spec", "sample_bytes", "documents", "status", "payload_bytes", "decoder_bytes", "total_bytes",
    "compress_seconds", "decompress_seconds", "error",
)
_TIMING_KEYS = ("compress_seconds", "decompress_seconds")


def point_to_dict(spec: str, p: CurvePoint, timings: bool = True) -> dict[str, Any]:
    """One point as JSON-ready data."""
    row = {
        "spec": spec, "sample_bytes": p.sample_bytes, "documents": p.documents, "status": p.status,
        "payload_bytes": p.payload_bytes, "decoder_bytes": p.decoder_bytes, "total_bytes": p.total_bytes,
        "compress_seconds": rounded(p.compress_seconds, 4), "decompress_seconds": rounded(p.decompress_seconds, 4),
        "error": p.error,
    }
    if not timings:
        for key in _TIMING_KEYS:
            del row[key]
    return row


def projection_to_dict(p: Projection | None) -> dict[str, Any] | None:
    """A bound at the target size as JSON-ready data (bits unrounded, bytes rounded up)."""
    if p is None:
        return None
    return {
        "backend": p.spec, "target_bytes": p.target_bytes,
        "payload_bytes": round(p.payload_bytes), "payload_low_bytes": round(p.payload_low_bytes),
        "payload_high_bytes": round(p.payload_high_bytes), "decoder_bytes": p.decoder_bytes,
        "selector_bits": p.selector_bits, "total_bits": round(p.total_bits),
        "total_bytes": math.ceil(p.total_bits / 8), "total_low_bytes": math.ceil(p.total_low_bits / 8),
        "total_high_bytes": math.ceil(p.total_high_bits / 8), "bits_per_byte": round(p.bits_per_byte, 6),
    }


def _curve_to_dict(c: BackendCurve, timings: bool) -> dict[str, Any]:
    fit = c.fit
    return {
        "spec": c.spec, "backend": c.backend, "library": c.library, "version": c.library_version,
        "decoder_bytes": c.decoder_bytes,
        "fit": None if fit is None else {
            "a": fit.a, "beta": round(fit.beta, 6), "points": fit.points, "residual_log": round(fit.residual_log, 6),
            "r_squared": round(fit.r_squared, 8),
        },
        "fit_note": c.fit_note,
        "at_target": projection_to_dict(c.projection),
        "points": [point_to_dict(c.spec, p, timings) for p in c.points],
    }


def curve_to_dict(report: CurveReport, timings: bool = True) -> dict[str, Any]:
    """The whole growth curve as JSON-ready data (schema `kbound-curve/1`)."""
    c = report.corpus
    return {
        "schema": report.schema, "kbound_version": report.kbound_version, "settings": dict(report.settings),
        "corpus": {"bytes": c.bytes, "chars": c.chars, "documents": c.documents, "sha256": c.sha256,
                   "sources": list(c.sources)},
        "sampling": report.sampling, "seed": report.seed, "sample_bytes": list(report.sample_bytes),
        "curves": [_curve_to_dict(cv, timings) for cv in report.curves],
        "extrapolation": projection_to_dict(report.extrapolation),
        "assumption": report.assumption,
        "model": None if report.model is None else dataclasses.asdict(report.model),
        "interrupted": report.interrupted,
    }


def growth_sentence(report: CurveReport) -> str:
    """What β says, for the backend with the smallest payload on the largest sample."""
    fitted = [cv for cv in report.curves if cv.fit is not None and cv.points]
    if not fitted:
        return "No backend has enough verified points for a fit (3 are needed)."
    cv = min(fitted, key=lambda c: (c.points[-1].payload_bytes or math.inf, c.spec))
    assert cv.fit is not None
    beta = cv.fit.beta
    if beta < 0.98:
        how = "sublinearly: new text keeps repeating what was seen, and each byte costs less than the last"
    elif beta <= 1.02:
        how = "about linearly: each new byte costs about as much as the ones before"
    else:
        how = "superlinearly (more than in proportion; a sign that the sample is not homogeneous)"
    return (
        f"Growth: with {cv.spec}, C(n) ≈ {cv.fit.a:.4g}·n^{beta:.4f} (residual {cv.fit.residual_log:.4f} in ln, "
        f"{cv.fit.points} points): the bound grows {how}."
    )


def extrapolation_sentence(report: CurveReport) -> str | None:
    """The extrapolated bound at --to with its band, or None when none was asked for."""
    p = report.extrapolation
    if p is None:
        if report.settings.get("to_bytes") is not None:
            return "No extrapolation: no backend has a fit."
        return None
    low, high = math.ceil(p.total_low_bits / 8), math.ceil(p.total_high_bits / 8)
    return (
        f"Extrapolated to {human_bytes(p.target_bytes)}: K <~ {human_bytes(p.total_bits / 8)} with {p.spec} "
        f"({p.bits_per_byte:.4f} bits/byte; 95% band {human_bytes(low)} – {human_bytes(high)}; fitted payload "
        f"+ decoder {p.decoder_bytes:,} bytes + {p.selector_bits} bit{'' if p.selector_bits == 1 else 's'} to choose "
        "the backend). This is a "
        "projection, not a verified bound."
    )


def model_sentence(report: CurveReport) -> str | None:
    """The model comparison at the extrapolated size, in words."""
    m = report.model
    if m is None:
        return None
    text = (
        f"Model {m.model_source} ({human_bytes(m.model_bits / 8)}) vs the extrapolated bound "
        f"({human_bytes(m.bound_bits / 8)} at {human_bytes(m.corpus_bytes)}): ratio {m.ratio:,.3f}; {m.verdict}; "
        f"storing the bound at {m.bits_per_param:g} bits per parameter would take {m.parameters_needed:,} parameters."
    )
    tp = m.two_part
    if tp is not None:
        shorter = "shorter" if tp.beats_bound else "longer"
        text += (
            f" Two-part code (model + {tp.loss_bits_per_byte:.4f} bits/byte of loss): "
            f"{human_bytes(tp.code_length_bits / 8)} = {tp.bits_per_byte:.4f} bits/byte, {shorter} than the "
            "extrapolated bound."
        )
    return text


def _sentences(report: CurveReport) -> list[str]:
    lines = [growth_sentence(report)]
    lines += [s for s in (extrapolation_sentence(report), report.assumption, model_sentence(report)) if s]
    if report.interrupted:
        lines.append("Interrupted: only the sample sizes above finished.")
    return lines


def _corpus_line(c: CorpusSummary, report: CurveReport) -> str:
    how = "prefixes" if report.sampling == "prefix" else f"random document subsets (seed {report.seed})"
    return (
        f"Corpus: {c.bytes:,} bytes, {c.documents:,} document(s), sha256 {(c.sha256 or '-')[:16]}…; "
        f"{len(report.sample_bytes)} samples ({how}); points are payload bytes (decoder counted once, below)."
    )


def _cell(p: CurvePoint | None) -> str:
    if p is None:
        return "-"
    return f"{p.payload_bytes:,}" if p.payload_bytes is not None else "✗ failed"


def _table(head: list[str], rows: list[list[str]]) -> Table:
    return Table(text_and_numbers(head), tuple(Row(tuple(row)) for row in rows))


def _grid(report: CurveReport) -> Table:
    head = ["sample B", *[cv.spec for cv in report.curves]]
    rows = []
    for size in report.sample_bytes:
        by = [next((p for p in cv.points if p.sample_bytes == size), None) for cv in report.curves]
        rows.append([f"{size:,}", *[_cell(p) for p in by]])
    return _table(head, rows)


def _fits(report: CurveReport) -> Table:
    to = report.settings.get("to_bytes")
    head = ["backend", "β", "a", "resid (ln)", "R²", "decoder B"]
    if to is not None:
        head += [f"bound at {human_bytes(to)}", "95% band"]
    rows = []
    for cv in report.curves:
        fit = cv.fit
        row = [cv.spec, *(["-", "-", "-", "-"] if fit is None else [
            f"{fit.beta:.4f}", f"{fit.a:.4g}", f"{fit.residual_log:.4f}", f"{fit.r_squared:.6f}"])]
        row.append("-" if cv.decoder_bytes is None else f"{cv.decoder_bytes:,}")
        if to is not None:
            p = cv.projection
            row += ["-", cv.fit_note or "-"] if p is None else [
                human_bytes(p.total_bits / 8),
                f"{human_bytes(p.total_low_bits / 8)} – {human_bytes(p.total_high_bits / 8)}",
            ]
        elif fit is None:
            row[1] = f"no fit: {cv.fit_note}"
        rows.append(row)
    return _table(head, rows)


def _lines(report: CurveReport) -> tuple[tuple[str, ...], ...]:
    out = []
    for cv in report.curves:
        if cv.fit is None:
            continue
        line = [cv.spec, f"{cv.fit.beta:.6f}", f"{cv.fit.a:.6g}", f"{cv.fit.residual_log:.6f}"]
        if cv.projection is not None:
            line += [str(cv.projection.target_bytes), str(math.ceil(cv.projection.total_bits / 8))]
        out.append(tuple(line))
    return tuple(out)


def curve_view(report: CurveReport, timings: bool = True) -> View:
    """The growth curve in every format: the points and the fits as tables, then the sentences."""
    fields = tuple(f for f in _POINT_FIELDS if timings or f not in _TIMING_KEYS)
    points = tuple(point_to_dict(cv.spec, p, timings) for cv in report.curves for p in cv.points)
    blocks = (Paragraph((_corpus_line(report.corpus, report),)), _grid(report), _fits(report),
              Paragraph(tuple(_sentences(report))))
    return View(blocks, curve_to_dict(report, timings), (CsvTable(fields, points),), _lines(report))


def render_curve(report: CurveReport, fmt: str, *, color: bool = False, timings: bool = True, width: int = 120) -> str:
    """Render a growth curve in `fmt` (one of `kbound.report.view.FORMATS`)."""
    return emit(curve_view(report, timings), fmt, color=color, width=width)
