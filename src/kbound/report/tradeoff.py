"""A space–time trade-off (`TradeoffReport`, schema `kbound-tradeoff/1`) as a view; pure, never measures.

Rows are sorted by total bytes, smallest first. `D` marks the decompression-time Pareto frontier,
`C` the compression-time one. lines: `spec, total bytes, decompress s, compress s, frontiers`.
"""

from __future__ import annotations

from typing import Any

from kbound.growth.tradeoff import TradeoffPoint, TradeoffReport
from kbound.report.view import CsvTable, Paragraph, Row, Table, View, emit, rounded, text_and_numbers
from kbound.run.outcome import VERIFIED

_TIMING_KEYS = ("compress_seconds", "decompress_seconds")
MEANING = (
    "D: on the decompression-time Pareto frontier (no other level is as small and as fast to decode); "
    "C: the same for compression time. Sizes are payload + decoder, verified; times are wall seconds on "
    "this machine."
)


def _sorted(report: TradeoffReport) -> list[TradeoffPoint]:
    return sorted(report.points, key=lambda p: (p.total_bytes is None, p.total_bytes or 0, p.spec))


def _flags(p: TradeoffPoint) -> str:
    return ("D" if p.on_decompress_frontier else "") + ("C" if p.on_compress_frontier else "")


def point_to_dict(p: TradeoffPoint, timings: bool = True) -> dict[str, Any]:
    """One point as JSON-ready data."""
    row = {
        "spec": p.spec, "backend": p.backend, "status": p.status, "payload_bytes": p.payload_bytes,
        "decoder_bytes": p.decoder_bytes, "total_bytes": p.total_bytes,
        "compress_seconds": rounded(p.compress_seconds),
        "decompress_seconds": rounded(p.decompress_seconds),
        "on_decompress_frontier": p.on_decompress_frontier, "on_compress_frontier": p.on_compress_frontier,
        "error": p.error,
    }
    if not timings:
        for key in _TIMING_KEYS:
            del row[key]
    return row


def tradeoff_to_dict(report: TradeoffReport, timings: bool = True) -> dict[str, Any]:
    """The trade-off as JSON-ready data (schema `kbound-tradeoff/1`)."""
    c = report.corpus
    return {
        "schema": report.schema, "kbound_version": report.kbound_version, "settings": dict(report.settings),
        "corpus": {"bytes": c.bytes, "documents": c.documents, "sha256": c.sha256, "sources": list(c.sources)},
        "points": [point_to_dict(p, timings) for p in _sorted(report)], "interrupted": report.interrupted,
    }


def _lines(report: TradeoffReport, timings: bool) -> tuple[tuple[str, ...], ...]:
    out = []
    for p in _sorted(report):
        if p.total_bytes is None:
            continue
        d = f"{p.decompress_seconds:.6f}" if timings and p.decompress_seconds is not None else "-"
        c = f"{p.compress_seconds:.6f}" if timings and p.compress_seconds is not None else "-"
        out.append((p.spec, str(p.total_bytes), d, c, _flags(p) or "-"))
    return tuple(out)


def _cells(report: TradeoffReport, p: TradeoffPoint, timings: bool) -> list[str]:
    def n(v: int | None) -> str:
        return "-" if v is None else f"{v:,}"

    bpb = "-" if p.total_bytes is None or not report.corpus.bytes else f"{8 * p.total_bytes / report.corpus.bytes:.3f}"
    cells = [p.spec, n(p.payload_bytes), n(p.decoder_bytes), n(p.total_bytes), bpb]
    if timings:
        cells += ["-" if p.compress_seconds is None else f"{p.compress_seconds:.4f}",
                  "-" if p.decompress_seconds is None else f"{p.decompress_seconds:.4f}"]
    cells.append(_flags(p) if p.status == VERIFIED else f"✗ {p.error or 'failed'}")
    return cells


def _head(timings: bool) -> list[str]:
    return ["backend", "payload B", "decoder B", "total B", "bpb",
            *(["comp s", "decomp s"] if timings else []), "frontier"]


def _summary(report: TradeoffReport) -> list[str]:
    c = report.corpus
    frontier = [p.spec for p in _sorted(report) if p.on_decompress_frontier]
    lines = [f"Corpus: {c.bytes:,} bytes, sha256 {(c.sha256 or '-')[:16]}…; {len(report.points)} backend levels."]
    if frontier:
        lines.append(f"Decompression frontier, smallest to fastest: {', '.join(frontier)}.")
    if report.interrupted:
        lines.append("Interrupted: only the levels above finished.")
    return lines


def _table(report: TradeoffReport, timings: bool) -> Table:
    rows = tuple(Row(tuple(_cells(report, p, timings)), style="bold" if p.on_decompress_frontier else None)
                 for p in _sorted(report))
    return Table(text_and_numbers(_head(timings), status_last=True), rows)


def tradeoff_view(report: TradeoffReport, timings: bool = True) -> View:
    """The trade-off in every format: the levels sorted by total size (the decompression frontier in bold),
    then the sentences."""
    points = tuple(point_to_dict(p, timings) for p in _sorted(report))
    records = CsvTable(tuple(points[0]) if points else ("spec",), points)
    summary = _summary(report)
    blocks = (Paragraph((summary[0],)), _table(report, timings), Paragraph((*summary[1:], MEANING)))
    return View(blocks, tradeoff_to_dict(report, timings), (records,), _lines(report, timings))


def render_tradeoff(report: TradeoffReport, fmt: str, *, color: bool = False, timings: bool = True,
                    width: int = 120) -> str:
    """Render a trade-off in `fmt` (one of `kbound.report.view.FORMATS`)."""
    return emit(tradeoff_view(report, timings), fmt, color=color, width=width)
