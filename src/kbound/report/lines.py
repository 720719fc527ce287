"""The `lines` format: `spec<TAB>total_bytes<TAB>bits_per_byte`, one row per bound, for shell pipelines."""

from __future__ import annotations

from kbound.bounds import Report


def render_lines(report: Report, timings: bool = True) -> str:
    """Rows with a bound only (failed rows have no numbers; they are reported on stderr by the CLI)."""
    out = []
    for r in report.results:
        if r.has_bound and r.total_bytes is not None:
            bpb = "nan" if r.bits_per_byte is None else f"{r.bits_per_byte:.6f}"
            out.append(f"{r.spec}\t{r.total_bytes}\t{bpb}\n")
    return "".join(out)
