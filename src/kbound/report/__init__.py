"""Renderers: each report kind builds a view (`kbound.report.view`); one emitter per format renders any view."""

from __future__ import annotations

from kbound.bounds.results import Report
from kbound.report.estimate import estimate_view, report_to_dict
from kbound.report.view import FORMATS, emit

__all__ = ["FORMATS", "render", "report_to_dict"]


def render(report: Report, fmt: str, *, color: bool = False, timings: bool = True, width: int = 120) -> str:
    """Render `report` in format `fmt` (one of `FORMATS`); only the table uses colour and width."""
    return emit(estimate_view(report, timings), fmt, color=color, width=width)
