"""The JSON format (`"schema": "kbound/1"`): one object, keys and rows in a fixed order."""

from __future__ import annotations

from typing import Any

from kbound.bounds.results import BackendResult, Report
from kbound.report.deltas import baseline_to_dict
from kbound.report.files import dumps_json
from kbound.report.models import models_to_dicts, tokens_to_dict

_TIMING_KEYS = ("compress_seconds", "decompress_seconds")


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


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
        "bits_per_byte": _round(r.bits_per_byte, 6),
        "bits_per_char": _round(r.bits_per_char, 6),
        "payload_bits_per_byte": _round(r.payload_bits_per_byte, 6),
        "compress_seconds": _round(r.compress_seconds, 4),
        "decompress_seconds": _round(r.decompress_seconds, 4),
        "decoder_method": r.decoder_method,
        "error": r.error,
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
            "bits_per_byte": _round(best.bits_per_byte, 6),
            "bits_per_char": _round(best.bits_per_char, 6),
            "verified": best.verified,
        },
        "models": models_to_dicts(report),
        "tokens": tokens_to_dict(report),
        "baseline": baseline_to_dict(report),
        "interrupted": report.interrupted,
    }
    if report.sharding is not None:
        doc["sharding"] = report.sharding
    return doc


def render_json(report: Report, timings: bool = True) -> str:
    """The report as indented JSON, ending in a newline."""
    return dumps_json(report_to_dict(report, timings))
