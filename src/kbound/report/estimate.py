"""The estimate (`Report`) as a view: the results and models tables, the sentences, and JSON `kbound/1`.

json: one object, keys and rows in a fixed order; csv: every result row with the JSON fields
(`config` left out: the spec spells it), then, after a blank line, one row per model; lines:
`spec, total bytes, bits/byte[, Δ total bytes]` for each row with a bound, the best first.
"""

from __future__ import annotations

from typing import Any

from kbound.bounds.results import BackendResult, Report
from kbound.report.deltas import baseline_sentence, baseline_to_dict, row_delta
from kbound.report.duplicates import duplicates_blocks, duplicates_to_dict, sources_csv, sources_to_dicts
from kbound.report.models import (
    MODEL_COLUMNS,
    model_csv_records,
    model_rows,
    model_sentences,
    models_to_dicts,
    tokens_to_dict,
)
from kbound.report.plan import plan_blocks, plan_csv, plan_to_dict
from kbound.report.view import Block, Cell, Column, CsvTable, Heading, Paragraph, Row, Sentence, Table, View, rounded
from kbound.report.words import (
    MEANING,
    best_sentence,
    corpus_sentence,
    result_cells,
    result_columns,
    sharding_sentence,
)
from kbound.run.outcome import UNVERIFIED, VERIFIED

_TIMING_KEYS = ("compress_seconds", "decompress_seconds", "cpu_seconds")


def result_to_dict(r: BackendResult, timings: bool = True) -> dict[str, Any]:
    """One result row as JSON-ready data."""
    row: dict[str, Any] = {
        "spec": r.spec,
        "backend": r.backend,
        "library": r.library,
        "version": r.library_version,
        "config": r.config,
        "status": r.status,
        "verified": r.verified,
        "payload_bytes": r.payload_bytes,
        "decoder_bytes": r.decoder_bytes,
        "total_bytes": r.total_bytes,
        "bits_per_byte": rounded(r.bits_per_byte, 6),
        "bits_per_char": rounded(r.bits_per_char, 6),
        "payload_bits_per_byte": rounded(r.payload_bits_per_byte, 6),
        "compress_seconds": rounded(r.compress_seconds, 4),
        "decompress_seconds": rounded(r.decompress_seconds, 4),
        "cpu_seconds": rounded(r.cpu_seconds, 4),
        "decoder_method": r.decoder_method,
        "error": r.error,
        "dedup": r.dedup,
    }
    if timings:
        row["cached"] = r.cached
        row["peak_rss_bytes"] = r.peak_rss_bytes
    else:
        for key in _TIMING_KEYS:
            del row[key]
    return row


def report_to_dict(report: Report, timings: bool = True) -> dict[str, Any]:
    """The whole report as JSON-ready data (the documented `kbound/1` schema)."""
    c = report.corpus
    best = report.best
    settings = dict(report.settings)
    doc = {
        "schema": report.schema,
        "kbound_version": report.kbound_version,
        "settings": settings,
        "corpus": {
            "bytes": c.bytes,
            "chars": c.chars,
            "chars_note": c.chars_note,
            "documents": c.documents,
            "separator": c.separator,
            "sha256": c.sha256,
            "identity": c.identity,
            "sources": list(c.sources),
            "decompressed": list(c.decompressed),
        },
        "results": [result_to_dict(r, timings) for r in report.results],
        "best": None
        if best is None
        else {
            "backend": best.spec,
            "total_bytes": best.total_bytes,
            "total_bits": best.total_bits,
            "selector_bits": best.selector_bits,
            "candidates": best.candidates,
            "bits_per_byte": rounded(best.bits_per_byte, 6),
            "bits_per_char": rounded(best.bits_per_char, 6),
            "verified": best.verified,
        },
        "models": models_to_dicts(report),
        "tokens": tokens_to_dict(report),
        "baseline": baseline_to_dict(report),
        "interrupted": report.interrupted,
    }
    if report.sharding is not None:
        doc["sharding"] = report.sharding
    if (dups := duplicates_to_dict(report)) is not None:
        doc["duplicates"] = dups
    if report.sources:
        doc["sources"] = sources_to_dicts(report)
    if report.plan is not None:
        doc["plan"] = plan_to_dict(report.plan)
    return doc


def _status(r: BackendResult, timings: bool) -> Cell:
    if r.status == VERIFIED:
        # Whether a row was cached varies between runs, like timings; --no-timings hides both.
        return Cell("✓ (cached)" if r.cached and timings else "✓", style="green")
    if r.status == UNVERIFIED:
        return Cell("unverified", style="yellow")
    return Cell(f"✗ {r.error or 'failed'}", style="red")


def _results_table(report: Report, timings: bool) -> Table:
    columns = (
        Column("backend", no_wrap=True),
        *(Column(name, "right", no_wrap=True) for name in result_columns(report, timings)),
        Column("verified", fold=True),
    )
    best = report.best.spec if report.best else None
    rows = []
    for r in report.results:
        is_best = r.spec == best
        spec = Cell(f"{r.spec} ◀ best" if is_best else r.spec, md=f"`{r.spec}`")
        rows.append(Row((spec, *result_cells(report, r, timings), _status(r, timings)),
                        style="bold green" if is_best else None, strong=is_best))
    return Table(columns, tuple(rows))


def _models_table(report: Report) -> Table:
    widest = min(48, max(len(m.info.source) for m in report.models))
    first, *rest = MODEL_COLUMNS
    columns = (Column(first, fold=True, min_width=widest), *(Column(n, "right", no_wrap=True, fold=True) for n in rest))
    return Table(columns, tuple(Row(row) for row in model_rows(report)), blank_before=True)


def _blocks(report: Report, timings: bool) -> list[Block]:
    outcome: list[str | Sentence] = []
    if report.interrupted:
        outcome.append(Sentence("Interrupted: only the backends above finished.", style="yellow", markdown=False))
    outcome.append(best_sentence(report))
    if (shard_line := sharding_sentence(report)) is not None:
        outcome.append(Sentence(shard_line, markdown=False))
    if (line := baseline_sentence(report)) is not None:
        outcome.append(line)
    blocks: list[Block] = [
        Paragraph((corpus_sentence(report),)), _results_table(report, timings), Paragraph(tuple(outcome)),
        Paragraph((Sentence(MEANING, style="dim"),)),
        *duplicates_blocks(report),
        *plan_blocks(report),
    ]
    if report.models or report.tokens is not None:
        blocks.append(Heading("Models"))
    if report.models:
        blocks.append(_models_table(report))
    notes = [Sentence(s, style="dim" if "Assumption:" in s else None) for s in model_sentences(report)]
    return [*blocks, Paragraph(tuple(notes), bullets=True)]


def _csv(report: Report, timings: bool) -> tuple[CsvTable, ...]:
    rows = [result_to_dict(r, timings) for r in report.results]
    if report.baseline is not None:
        for row in rows:
            d = row_delta(report, row["spec"])
            row["baseline_total_bytes"] = None if d is None else d.total_bytes_before
            row["delta_bytes"] = None if d is None else d.delta_bytes
            row["delta_bits_per_byte"] = None if d is None else rounded(d.delta_bits_per_byte)
    fields = tuple(k for k in (rows[0] if rows else {"spec": ""}) if k != "config")
    tables = [CsvTable(fields, tuple(rows))]
    if report.models:
        models = model_csv_records(report)
        tables.append(CsvTable(tuple(models[0]), tuple(models)))
    if (sources := sources_csv(report)) is not None:
        tables.append(sources)
    if (plan := plan_csv(report)) is not None:
        tables.append(plan)
    return tuple(tables)


def _lines(report: Report) -> tuple[tuple[str, ...], ...]:
    # Rows with a bound only (failed rows have no numbers; the CLI reports them on stderr), the best first
    # as the bound itself, with the bits that choose it (so `| head -1` says what `-q` and JSON's best
    # say); bits/byte is `-` for an empty corpus, as JSON gives null.
    best = report.best
    rows = sorted((r for r in report.results if r.has_bound and r.total_bytes is not None),
                  key=lambda r: best is None or r.spec != best.spec)
    out = []
    for r in rows:
        total, bpb, delta = r.total_bytes, r.bits_per_byte, row_delta(report, r.spec)
        if best is not None and r.spec == best.spec:
            total, bpb = best.total_bytes, best.bits_per_byte
            delta = report.baseline.best if report.baseline is not None else None
        line = [r.spec, str(total), "-" if bpb is None else f"{bpb:.6f}"]
        if report.baseline is not None:
            line.append("-" if delta is None else str(delta.delta_bytes))  # `-`: a backend the baseline did not run
        out.append(tuple(line))
    return tuple(out)


def estimate_view(report: Report, timings: bool = True) -> View:
    """The estimate in every format; `timings=False` leaves out what varies between runs (times, cache hits)."""
    return View(tuple(_blocks(report, timings)), report_to_dict(report, timings), _csv(report, timings),
                _lines(report))
