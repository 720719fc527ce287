"""The Markdown format: the results table and the best-bound sentence, for READMEs and CI summaries."""

from __future__ import annotations

from kbound.bounds.results import Report
from kbound.report.deltas import baseline_sentence
from kbound.report.models import MODEL_COLUMNS, model_rows, model_sentences
from kbound.report.words import MEANING, best_sentence, corpus_sentence, result_cells, result_columns


def render_markdown(report: Report, timings: bool = True) -> str:
    """A GitHub-flavoured Markdown table; the best row is in bold."""
    head = ["backend", *result_columns(report, timings), "verified"]
    align = ["---" if h in ("backend", "verified") else "---:" for h in head]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    best = report.best.spec if report.best else None
    for r in report.results:
        cells = [f"`{r.spec}`", *result_cells(report, r, timings), _status(r.status, r.error, r.cached and timings)]
        if r.spec == best:
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    extra = [s for s in (baseline_sentence(report),) if s]
    body = [corpus_sentence(report), "", *lines, "", best_sentence(report), *extra, "", MEANING]
    if report.models or report.tokens is not None:
        body += ["", "**Models**", ""]
        if report.models:
            body += ["| " + " | ".join(MODEL_COLUMNS) + " |", "|---" + "|---:" * (len(MODEL_COLUMNS) - 1) + "|"]
            body += ["| " + " | ".join(row) + " |" for row in model_rows(report)]
            body += [""]
        body += [f"- {line.strip()}" for line in model_sentences(report)]
    return "\n".join(body) + "\n"


def _status(status: str, error: str | None, cached: bool = False) -> str:
    if status == "verified":
        return "✓ (cached)" if cached else "✓"
    if status == "unverified":
        return "unverified"
    return f"✗ {error or 'failed'}".replace("|", "\\|")
