"""Rendering a space–time trade-off (`TradeoffReport`) in every format; pure functions that never measure.

Rows are sorted by total bytes, smallest first. `D` marks the decompression-time Pareto frontier,
`C` the compression-time one. lines: `spec, total bytes, decompress s, compress s, frontiers`.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from rich.console import Console
from rich.table import Table

from kbound.growth.tradeoff import TradeoffPoint, TradeoffReport
from kbound.report.files import dumps_json

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
        "compress_seconds": None if p.compress_seconds is None else round(p.compress_seconds, 6),
        "decompress_seconds": None if p.decompress_seconds is None else round(p.decompress_seconds, 6),
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


def render_tradeoff_json(report: TradeoffReport, timings: bool = True) -> str:
    """Indented JSON ending in a newline."""
    return dumps_json(tradeoff_to_dict(report, timings))


def render_tradeoff_csv(report: TradeoffReport, timings: bool = True) -> str:
    """One row per point."""
    rows = [point_to_dict(p, timings) for p in _sorted(report)]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[k for k in point_to_dict(report.points[0], timings)] if rows else ["spec"],
                            lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()


def render_tradeoff_lines(report: TradeoffReport, timings: bool = True) -> str:
    """`spec<TAB>total<TAB>decompress s<TAB>compress s<TAB>frontiers` (times `-` with --no-timings)."""
    out = []
    for p in _sorted(report):
        if p.total_bytes is None:
            continue
        d = f"{p.decompress_seconds:.6f}" if timings and p.decompress_seconds is not None else "-"
        c = f"{p.compress_seconds:.6f}" if timings and p.compress_seconds is not None else "-"
        out.append(f"{p.spec}\t{p.total_bytes}\t{d}\t{c}\t{_flags(p) or '-'}\n")
    return "".join(out)


def _cells(report: TradeoffReport, p: TradeoffPoint, timings: bool) -> list[str]:
    def n(v: int | None) -> str:
        return "-" if v is None else f"{v:,}"

    bpb = "-" if p.total_bytes is None or not report.corpus.bytes else f"{8 * p.total_bytes / report.corpus.bytes:.3f}"
    cells = [p.spec, n(p.payload_bytes), n(p.decoder_bytes), n(p.total_bytes), bpb]
    if timings:
        cells += ["-" if p.compress_seconds is None else f"{p.compress_seconds:.4f}",
                  "-" if p.decompress_seconds is None else f"{p.decompress_seconds:.4f}"]
    cells.append(_flags(p) if p.status == "verified" else f"✗ {p.error or 'failed'}")
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


def render_tradeoff_markdown(report: TradeoffReport, timings: bool = True) -> str:
    """A Markdown table sorted by total size, then the sentences."""
    head = _head(timings)
    lines = [_summary(report)[0], "", "| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 2) + "---|"]
    lines += ["| " + " | ".join(_cells(report, p, timings)).replace("|", "\\|").replace(" \\| ", " | ") + " |"
              for p in _sorted(report)]
    return "\n".join([*lines, "", *_summary(report)[1:], MEANING]) + "\n"


def render_tradeoff_table(
    report: TradeoffReport, *, color: bool = False, timings: bool = True, width: int = 120
) -> str:
    """A terminal table sorted by total size, frontier rows in bold."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None, highlight=False, emoji=False)
    head = _head(timings)
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for i, name in enumerate(head):
        table.add_column(name, justify="left" if i in (0, len(head) - 1) else "right", no_wrap=0 < i < len(head) - 1)
    for p in _sorted(report):
        table.add_row(*_cells(report, p, timings), style="bold" if p.on_decompress_frontier else None)
    console.print(_summary(report)[0], soft_wrap=True)
    console.print(table)
    for line in [*_summary(report)[1:], MEANING]:
        console.print(line, soft_wrap=True)
    return buf.getvalue()


TRADEOFF_FORMATS = {
    "table": render_tradeoff_table, "json": render_tradeoff_json, "csv": render_tradeoff_csv,
    "md": render_tradeoff_markdown, "lines": render_tradeoff_lines,
}


def render_tradeoff(report: TradeoffReport, fmt: str, *, color: bool = False, timings: bool = True,
                    width: int = 120) -> str:
    """Render a trade-off in `fmt` (a key of `TRADEOFF_FORMATS`)."""
    if fmt == "table":
        return render_tradeoff_table(report, color=color, timings=timings, width=width)
    text: str = TRADEOFF_FORMATS[fmt](report, timings=timings)  # type: ignore[operator]
    return text
