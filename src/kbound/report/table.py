"""The terminal table: one row per backend, the best bound highlighted, and what it means."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kbound.bounds.results import BackendResult, Report
from kbound.report.deltas import baseline_sentence
from kbound.report.models import MODEL_COLUMNS, model_rows, model_sentences
from kbound.report.words import (
    MEANING,
    best_sentence,
    corpus_sentence,
    result_cells,
    result_columns,
    sharding_sentence,
)


def _status(r: BackendResult, timings: bool) -> Text:
    if r.status == "verified":
        # Whether a row was cached varies between runs, like timings; --no-timings hides both.
        return Text("✓ (cached)" if r.cached and timings else "✓", style="green")
    if r.status == "unverified":
        return Text("unverified", style="yellow")
    return Text(f"✗ {r.error or 'failed'}", style="red")


def build_table(report: Report, timings: bool = True) -> Table:
    """The rich Table object (used by `render_table`, and by the live progress display)."""
    table = Table(title=None, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("backend", no_wrap=True)
    for name in result_columns(report, timings):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("verified", overflow="fold")
    best = report.best.spec if report.best else None
    for r in report.results:
        spec = f"{r.spec} ◀ best" if r.spec == best else r.spec
        cells: list[str | Text] = [spec, *result_cells(report, r, timings), _status(r, timings)]
        table.add_row(*cells, style="bold green" if r.spec == best else None)
    return table


def render_table(report: Report, *, color: bool = False, timings: bool = True, width: int = 120) -> str:
    """The table as text; ANSI colour only when `color` (the CLI passes True on a TTY without NO_COLOR)."""
    buf = io.StringIO()
    console = Console(
        file=buf, width=width, force_terminal=color, no_color=not color, color_system="standard" if color else None,
        highlight=False, emoji=False,
    )
    console.print(corpus_sentence(report), soft_wrap=True)
    console.print(build_table(report, timings))
    if report.interrupted:
        console.print("Interrupted: only the backends above finished.", style="yellow")
    console.print(best_sentence(report), soft_wrap=True)
    if (shard_line := sharding_sentence(report)) is not None:
        console.print(shard_line, soft_wrap=True)
    if (line := baseline_sentence(report)) is not None:
        console.print(line, soft_wrap=True)
    console.print(MEANING, soft_wrap=True, style="dim")
    if report.models:
        models = Table(show_edge=False, pad_edge=False, header_style="bold")
        widest = min(48, max(len(m.info.source) for m in report.models))
        for i, name in enumerate(MODEL_COLUMNS):
            models.add_column(name, justify="left" if i == 0 else "right", no_wrap=i > 0, overflow="fold",
                              min_width=widest if i == 0 else None)
        for row in model_rows(report):
            models.add_row(*row)
        console.print()
        console.print(models)
    for line in model_sentences(report):
        console.print(line, soft_wrap=True, style="dim" if "Assumption:" in line else None)
    return buf.getvalue()
