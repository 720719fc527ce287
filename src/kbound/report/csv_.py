"""The CSV format: a header and one row per backend, the same fields as JSON's results."""

from __future__ import annotations

import csv
import io
from typing import Any

from kbound.bounds.results import Report
from kbound.report.deltas import row_delta
from kbound.report.json_ import result_to_dict
from kbound.report.models import models_to_dicts


def render_csv(report: Report, timings: bool = True) -> str:
    """Every result row; `config` is left out (the spec already spells it)."""
    rows = [result_to_dict(r, timings) for r in report.results]
    if report.baseline is not None:
        for row in rows:
            d = row_delta(report, row["spec"])
            row["baseline_total_bytes"] = None if d is None else d.total_bytes_before
            row["delta_bytes"] = None if d is None else d.delta_bytes
            row["delta_bits_per_byte"] = None if d is None or d.delta_bits_per_byte is None else round(
                d.delta_bits_per_byte, 6
            )
    fields = [k for k in (rows[0] if rows else {"spec": ""}) if k != "config"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    if report.models:
        # A second table after a blank line: one row per model, the comparison's numbers flattened.
        buf.write("\n")
        flat = [_flatten(m) for m in models_to_dicts(report)]
        model_writer = csv.DictWriter(buf, fieldnames=list(flat[0]), lineterminator="\n")
        model_writer.writeheader()
        for m in flat:
            model_writer.writerow({k: "" if v is None else v for k, v in m.items()})
    return buf.getvalue()


def _flatten(model: dict[str, Any]) -> dict[str, Any]:
    c = model["comparison"]
    tp = c["two_part"] or {}
    out = {k: v for k, v in model.items() if k not in ("comparison", "dtypes", "note")}
    out.update({k: v for k, v in c.items() if k not in ("two_part", "assumptions")})
    for key in ("loss_bits_per_byte", "code_length_bits", "bits_per_byte", "beats_bound", "break_even_bytes"):
        out[f"two_part_{key}"] = tp.get(key)
    return out
