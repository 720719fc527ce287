"""Baseline deltas as every format shows them."""

from __future__ import annotations

from typing import Any

from kbound.bounds.baseline import BaselineComparison, RowDelta
from kbound.bounds.results import Report
from kbound.report.view import rounded


def row_delta(report: Report, spec: str) -> RowDelta | None:
    """The baseline delta of one backend's row, if the run had a baseline with that backend."""
    comparison: BaselineComparison | None = report.baseline
    if comparison is None:
        return None
    return next((d for d in comparison.rows if d.spec == spec), None)


def signed(n: int | None) -> str:
    """A byte delta with its sign and thousands separators, or a dash."""
    return "-" if n is None else f"{n:+,}"


def delta_to_dict(d: RowDelta) -> dict[str, Any]:
    """One delta as JSON-ready data."""
    return {
        "spec": d.spec,
        "total_bytes_before": d.total_bytes_before,
        "total_bytes": d.total_bytes,
        "delta_bytes": d.delta_bytes,
        "growth_percent": rounded(d.growth_percent),
        "bits_per_byte_before": d.bits_per_byte_before,
        "delta_bits_per_byte": rounded(d.delta_bits_per_byte),
    }


def baseline_to_dict(report: Report) -> dict[str, Any] | None:
    """The baseline section of the JSON report (None without a baseline)."""
    c: BaselineComparison | None = report.baseline
    if c is None:
        return None
    return {
        "source": c.source,
        "corpus_sha256": c.corpus_sha256_before,
        "corpus_changed": c.corpus_changed,
        "best": None if c.best is None else delta_to_dict(c.best),
        "results": [delta_to_dict(d) for d in c.rows],
    }


def baseline_sentence(report: Report) -> str | None:
    """One line: how the best bound moved since the baseline."""
    c: BaselineComparison | None = report.baseline
    if c is None:
        return None
    corpus = "corpus changed" if c.corpus_changed else "same corpus"
    if c.best is None:
        return f"Baseline {c.source} ({corpus}): no best bound to compare."
    b = c.best
    rate = ""
    if b.delta_bits_per_byte is not None and b.bits_per_byte_before is not None and b.bits_per_byte is not None:
        rate = f", {b.bits_per_byte_before:.3f} -> {b.bits_per_byte:.3f} bits/byte ({b.delta_bits_per_byte:+.3f})"
    growth = "" if b.growth_percent is None else f", {b.growth_percent:+.2f}%"
    return (
        f"Baseline {c.source} ({corpus}): best bound {b.total_bytes_before:,} -> {b.total_bytes:,} bytes "
        f"({b.delta_bytes:+,}{growth}){rate}."
    )
