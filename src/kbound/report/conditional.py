"""Rendering a comparison (`ConditionalReport`) in every format; pure functions that never measure.

json: the whole result; csv: one row per backend; lines: `spec, C(B|A) bytes, NCD, new share`
for the rows that ran; md and table: the rows, the headline sentence, warnings and meaning.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from rich.console import Console
from rich.table import Table

from kbound.growth.conditional import MEANING, ConditionalReport, ConditionalRow
from kbound.report.files import dumps_json

_FIELDS = (
    "spec", "status", "window_bytes", "a_payload_bytes", "b_payload_bytes", "ab_payload_bytes",
    "conditional_bytes", "ncd", "new_fraction", "verified", "note",
)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def row_to_dict(r: ConditionalRow) -> dict[str, Any]:
    """One backend's row as JSON-ready data."""
    return {
        "spec": r.spec, "status": r.status, "window_bytes": r.window_bytes, "a_payload_bytes": r.a_payload_bytes,
        "b_payload_bytes": r.b_payload_bytes, "ab_payload_bytes": r.ab_payload_bytes,
        "conditional_bytes": r.conditional_bytes, "ncd": _r(r.ncd), "new_fraction": _r(r.new_fraction),
        "verified": r.verified, "note": r.note, "backend": r.backend, "version": r.library_version,
    }


def conditional_to_dict(report: ConditionalReport, timings: bool = True) -> dict[str, Any]:
    """The comparison as JSON-ready data (schema `kbound-compare/1`; it carries no timings)."""
    def corpus(c: Any) -> dict[str, Any]:
        return {"bytes": c.bytes, "documents": c.documents, "sha256": c.sha256, "sources": list(c.sources)}

    return {
        "schema": report.schema, "kbound_version": report.kbound_version, "settings": dict(report.settings),
        "a": corpus(report.a), "b": corpus(report.b), "joined_bytes": report.joined_bytes,
        "rows": [row_to_dict(r) for r in report.rows], "best": report.best, "warnings": list(report.warnings),
        "meaning": MEANING, "interrupted": report.interrupted,
    }


def render_conditional_json(report: ConditionalReport, timings: bool = True) -> str:
    """Indented JSON ending in a newline."""
    return dumps_json(conditional_to_dict(report))


def render_conditional_csv(report: ConditionalReport, timings: bool = True) -> str:
    """One row per backend, skipped and failed ones included."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(_FIELDS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in report.rows:
        writer.writerow({k: "" if v is None else v for k, v in row_to_dict(r).items()})
    return buf.getvalue()


def render_conditional_lines(report: ConditionalReport, timings: bool = True) -> str:
    """`spec<TAB>C(B|A) bytes<TAB>NCD<TAB>new share` for each backend that ran."""
    return "".join(
        f"{r.spec}\t{r.conditional_bytes}\t{r.ncd:.6f}\t{r.new_fraction:.6f}\n"
        for r in report.rows
        if r.status == "ok" and r.ncd is not None and r.new_fraction is not None
    )


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


def render_conditional_markdown(report: ConditionalReport, timings: bool = True) -> str:
    """A Markdown table of the rows, then the sentences."""
    lines = [_sources(report), "", "| " + " | ".join(_HEAD) + " |", "|---|" + "---:|" * (len(_HEAD) - 2) + "---|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(r)) + " |" for r in report.rows]
    return "\n".join([*lines, "", *_footer(report)]) + "\n"


def render_conditional_table(
    report: ConditionalReport, *, color: bool = False, timings: bool = True, width: int = 120
) -> str:
    """The rows as a terminal table, then the sentences."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None, highlight=False, emoji=False)
    console.print(_sources(report), soft_wrap=True)
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for i, name in enumerate(_HEAD):
        table.add_column(name, justify="left" if i in (0, len(_HEAD) - 1) else "right", no_wrap=0 < i < len(_HEAD) - 1)
    for r in report.rows:
        table.add_row(*_cells(r), style="bold green" if r.spec == report.best else None)
    console.print(table)
    for line in _footer(report):
        console.print(line, soft_wrap=True)
    return buf.getvalue()


CONDITIONAL_FORMATS = {
    "table": render_conditional_table, "json": render_conditional_json, "csv": render_conditional_csv,
    "md": render_conditional_markdown, "lines": render_conditional_lines,
}


def render_conditional(
    report: ConditionalReport, fmt: str, *, color: bool = False, timings: bool = True, width: int = 120
) -> str:
    """Render a comparison in `fmt` (a key of `CONDITIONAL_FORMATS`)."""
    if fmt == "table":
        return render_conditional_table(report, color=color, width=width)
    text: str = CONDITIONAL_FORMATS[fmt](report)  # type: ignore[operator]
    return text
