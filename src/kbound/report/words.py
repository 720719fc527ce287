"""The sentences every format shares: what the best bound is and what it means."""

from __future__ import annotations

from kbound.bounds.results import STREAM_IDENTITY, BackendResult, Best, Report
from kbound.report.deltas import row_delta, signed

MEANING = (
    "This is an upper bound on the Kolmogorov complexity K(corpus), up to an additive constant for "
    "the reference machine (CPython with NumPy): a program of this size prints the corpus. The true K may be "
    "far lower; no program can compute it."
)


def rate(value: float | None, digits: int = 3) -> str:
    """A rate for prose and tables, or a dash when there is none."""
    return "-" if value is None else f"{value:.{digits}f}"


def seconds(value: float | None) -> str:
    """Seconds with two decimals, or a dash."""
    return "-" if value is None else f"{value:.2f}"


def count(value: int | None) -> str:
    """A byte count with thousands separators, or a dash."""
    return "-" if value is None else f"{value:,}"


def result_columns(report: Report, timings: bool) -> list[str]:
    """The numeric columns of a result row, between the backend and its status."""
    columns = ["payload B", "decoder B", "total B", "bpb", "bpc"]
    if timings:
        columns += ["comp s", "decomp s"]
    if report.baseline is not None:
        columns.append("Δ total B")
    return columns


def result_cells(report: Report, r: BackendResult, timings: bool) -> list[str]:
    """One result row's numeric cells, in the order of `result_columns`."""
    cells = [
        count(r.payload_bytes), count(r.decoder_bytes), count(r.total_bytes),
        rate(r.bits_per_byte), rate(r.bits_per_char),
    ]
    if timings:
        cells += [seconds(r.compress_seconds), seconds(r.decompress_seconds)]
    if report.baseline is not None:
        d = row_delta(report, r.spec)
        cells.append(signed(None if d is None else d.delta_bytes))
    return cells


def best_row(report: Report) -> BackendResult | None:
    """The result row the best bound comes from."""
    if report.best is None:
        return None
    return next((r for r in report.results if r.spec == report.best.spec), None)


def best_sentence(report: Report) -> str:
    """One sentence: the best bound in bytes and bits per byte/char, its parts, and whether it was verified."""
    best: Best | None = report.best
    if best is None:
        return "No backend produced a bound (every row failed)."
    row = best_row(report)
    parts = ""
    if row is not None and row.payload_bytes is not None and row.decoder_bytes is not None:
        parts = f"payload {row.payload_bytes:,} + decoder {row.decoder_bytes:,} bytes"
        if best.selector_bits:
            unit = "bit" if best.selector_bits == 1 else "bits"
            parts += f" + {best.selector_bits} {unit} to choose among {best.candidates} backends"
        parts = f" ({parts})"
    if not report.corpus.bytes:
        rates = "rates undefined for an empty corpus"
    elif report.corpus.chars is None:
        rates = f"{rate(best.bits_per_byte)} bits/byte; bits/char not given: {report.corpus.chars_note}"
    else:
        rates = f"{rate(best.bits_per_byte)} bits/byte, {rate(best.bits_per_char)} bits/char"
    label = "verified" if best.verified else "UNVERIFIED (run without --no-verify to check it)"
    return f"Best bound: K(corpus) <= {best.total_bytes:,} bytes with {best.spec}{parts}; {rates}; {label}."


def corpus_sentence(report: Report) -> str:
    """One line describing the corpus: size, characters, documents and how they were joined."""
    c = report.corpus
    chars = f"{c.chars:,} UTF-8 chars" if c.chars is not None else f"bits/char not given: {c.chars_note}"
    docs = f"{c.documents:,} document" + ("s" if c.documents != 1 else "")
    if c.documents > 1:
        docs += f" joined with '{c.separator.encode('unicode_escape').decode()}'"
    what = "sha256" if c.identity == STREAM_IDENTITY else "shard-manifest sha256"
    return f"Corpus: {c.bytes:,} bytes, {chars}, {docs}, {what} {(c.sha256 or '-')[:16]}…"


def sharding_sentence(report: Report) -> str | None:
    """For a sharded run: how the corpus was cut and what sharding cost on the sample, per backend."""
    s = report.sharding
    if s is None:
        return None
    size = (", one per source" if s.get("by_source") and s.get("automatic") else
            f" of about {s['shard_bytes_target']:,} bytes{', none spanning two sources' if s.get('by_source') else ''}")
    why = ""
    if s.get("reason") == "duplicate index":
        why = " so that the duplicate index a worker holds follows its shard"
    text = (
        f"Sharded{why}: {s['shards']:,} shard(s){size} (largest {s['largest_shard_bytes']:,}); payloads include "
        "their framing."
    )
    costs = [f"{spec} {100 * c:+.2f} %" for spec, c in s["cost"].items() if c is not None]
    if s["sample_bytes"] and costs:
        text += f" Sharding cost on a {s['sample_bytes']:,}-byte sample (2 shards vs 1 piece): {', '.join(costs)}."
    return text
