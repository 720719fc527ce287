"""Renderers: pure functions from a `Report` to text, one module per format; none of them measures."""

from __future__ import annotations

from collections.abc import Callable

from kbound.bounds.results import Report
from kbound.report.csv_ import render_csv
from kbound.report.json_ import render_json, report_to_dict
from kbound.report.lines import render_lines
from kbound.report.markdown import render_markdown
from kbound.report.table import render_table

FORMATS: dict[str, Callable[..., str]] = {
    "table": render_table,
    "json": render_json,
    "csv": render_csv,
    "md": render_markdown,
    "lines": render_lines,
}

__all__ = ["FORMATS", "render", "report_to_dict"]


def render(report: Report, fmt: str, *, color: bool = False, timings: bool = True, width: int = 120) -> str:
    """Render `report` in format `fmt` (one of `FORMATS`); only the table uses colour and width."""
    if fmt == "table":
        return render_table(report, color=color, timings=timings, width=width)
    return FORMATS[fmt](report, timings=timings)
