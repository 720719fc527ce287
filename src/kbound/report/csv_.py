"""The CSV format: a header and one row per backend, the same fields as JSON's results."""

from __future__ import annotations

import csv
import io

from kbound.bounds import Report
from kbound.report.json_ import result_to_dict


def render_csv(report: Report, timings: bool = True) -> str:
    """Every result row; `config` is left out (the spec already spells it)."""
    rows = [result_to_dict(r, timings) for r in report.results]
    fields = [k for k in (rows[0] if rows else {"spec": ""}) if k != "config"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()
