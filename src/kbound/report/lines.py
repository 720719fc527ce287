"""The `lines` format: `spec<TAB>total_bytes<TAB>bits_per_byte`, one row per bound, for shell pipelines."""

from __future__ import annotations

from kbound.bounds.results import Report
from kbound.report.deltas import row_delta


def render_lines(report: Report, timings: bool = True) -> str:
    """Rows with a bound only (failed rows have no numbers; the CLI reports them on stderr), the best
    first (so `| head -1` is the bound), then the rest in the order they ran. bits/byte is `-` for an
    empty corpus, as JSON gives null.

    With a baseline, a fourth column gives the change in total bytes (`-` for a new backend).
    """
    best = report.best.spec if report.best is not None else None
    rows = sorted((r for r in report.results if r.has_bound and r.total_bytes is not None),
                  key=lambda r: r.spec != best)
    out = []
    for r in rows:
        bpb = "-" if r.bits_per_byte is None else f"{r.bits_per_byte:.6f}"
        line = f"{r.spec}\t{r.total_bytes}\t{bpb}"
        if report.baseline is not None:
            d = row_delta(report, r.spec)
            line += "\t" + ("-" if d is None else str(d.delta_bytes))
        out.append(line + "\n")
    return "".join(out)
