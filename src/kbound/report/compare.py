"""A comparison (`ConditionalReport`, schema `kbound-compare/1`) as a view; pure functions that never measure.

json: the whole result; csv: one row per backend; lines: `spec, C(B|A) bytes, NCD, new share`
for the rows that ran; md and table: the rows, the headline sentence, warnings and meaning.
"""

from __future__ import annotations

from typing import Any

from kbound.growth.compare import MEANING, ConditionalReport, ConditionalRow
from kbound.report.view import CsvTable, Paragraph, Row, Table, View, emit, rounded, text_and_numbers

_FIELDS = (
    "spec", "status", "window_bytes", "a_payload_bytes", "b_payload_bytes", "ab_payload_bytes",
    "conditional_bytes", "ncd", "new_fraction", "verified", "note",
)


def row_to_dict(r: ConditionalRow) -> dict[str, Any]:
    """One backend's row as JSON-ready data."""
    return {
        "spec": r.spec, "status": r.status, "window_bytes": r.window_bytes, "a_payload_bytes": r.a_payload_bytes,
        "b_payload_bytes": r.b_payload_bytes, "ab_payload_bytes": r.ab_payload_bytes,
        "conditional_bytes": r.conditional_bytes, "ncd": rounded(r.ncd), "new_fraction": rounded(r.new_fraction),
        "verified": r.verified, "note": r.note, "backend": r.backend, "version": r.library_version,
    }


def conditional_to_dict(report: ConditionalReport) -> dict[str, Any]:
    """The comparison as JSON-ready data (schema `kbound-compare/1`; it carries no timings)."""
    def corpus(c: Any) -> dict[str, Any]:
        return {"bytes": c.bytes, "documents": c.documents, "sha256": c.sha256, "sources": list(c.sources)}

    return {
        "schema": report.schema, "kbound_version": report.kbound_version, "settings": dict(report.settings),
        "a": corpus(report.a), "b": corpus(report.b), "joined_bytes": report.joined_bytes,
        "rows": [row_to_dict(r) for r in report.rows], "best": report.best, "warnings": list(report.warnings),
        "meaning": MEANING, "interrupted": report.interrupted,
    }


def headline(report: ConditionalReport) -> str:
    """One sentence: what B adds to A, from the backend whose estimate of C(B|A) is smallest."""
    row = next((r for r in report.rows if r.spec == report.best), None)
    if row is None or row.conditional_bytes is None or row.ncd is None or row.new_fraction is None:
        return "No backend gave an estimate (every row was left out or failed)."
    return (
        f"C(B|A) ≈ {row.conditional_bytes:,} bytes with {row.spec} (C(B) = {row.b_payload_bytes:,}, "
        f"C(A) = {row.a_payload_bytes:,}, C(A·B) = {row.ab_payload_bytes:,} payload bytes): "
        f"{100 * row.new_fraction:.1f}% of B is new given A; NCD(A, B) = {row.ncd:.4f}."
    )


def _sources(report: ConditionalReport) -> str:
    return (f"A: {', '.join(report.a.sources)} ({report.a.bytes:,} bytes); "
            f"B: {', '.join(report.b.sources)} ({report.b.bytes:,} bytes)")


def _cells(r: ConditionalRow) -> list[str]:
    def n(v: int | None) -> str:
        return "-" if v is None else f"{v:,}"

    if r.status != "ok":
        state = "left out" if r.status == "skipped" else f"✗ {r.note or 'failed'}"
        return [r.spec, n(r.window_bytes), "-", "-", "-", "-", "-", "-", state]
    return [
        r.spec, n(r.window_bytes), n(r.a_payload_bytes), n(r.b_payload_bytes), n(r.ab_payload_bytes),
        n(r.conditional_bytes), f"{r.ncd:.4f}" if r.ncd is not None else "-",
        f"{100 * r.new_fraction:.1f}%" if r.new_fraction is not None else "-", "✓" if r.verified else "unverified",
    ]


_HEAD = ["backend", "window B", "C(A) B", "C(B) B", "C(A·B) B", "C(B|A) B", "NCD", "new in B", "verified"]


def _footer(report: ConditionalReport) -> list[str]:
    out = [headline(report), *[f"Warning: {w}" for w in report.warnings]]
    if report.interrupted:
        out.append("Interrupted: the rows without numbers did not finish.")
    return [*out, MEANING]


def _table(report: ConditionalReport) -> Table:
    rows = tuple(Row(tuple(_cells(r)), style="bold green" if r.spec == report.best else None) for r in report.rows)
    return Table(text_and_numbers(_HEAD, status_last=True), rows)


def _lines(report: ConditionalReport) -> tuple[tuple[str, ...], ...]:
    return tuple(
        (r.spec, str(r.conditional_bytes), f"{r.ncd:.6f}", f"{r.new_fraction:.6f}")
        for r in report.rows
        if r.status == "ok" and r.ncd is not None and r.new_fraction is not None
    )


def conditional_view(report: ConditionalReport) -> View:
    """The comparison in every format: the rows (the headline's in bold), then the sentences."""
    records = CsvTable(_FIELDS, tuple(row_to_dict(r) for r in report.rows))
    blocks = (Paragraph((_sources(report),)), _table(report), Paragraph(tuple(_footer(report))))
    return View(blocks, conditional_to_dict(report), (records,), _lines(report))


def render_conditional(
    report: ConditionalReport, fmt: str, *, color: bool = False, timings: bool = True, width: int = 120
) -> str:
    """Render a comparison in `fmt` (one of `kbound.report.view.FORMATS`); `timings` is accepted as by the
    other kinds' renderers, and changes nothing: a comparison carries no timings."""
    return emit(conditional_view(report), fmt, color=color, width=width)
