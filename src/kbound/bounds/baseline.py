"""Comparing a report with an earlier one (same schema) and checking CI thresholds."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kbound.bounds.results import SCHEMA, Report
from kbound.errors import BaselineError


@dataclass(frozen=True)
class RowDelta:
    """One backend's bound now and in the baseline; deltas are now minus then."""

    spec: str
    total_bytes_before: int
    total_bytes: int
    bits_per_byte_before: float | None
    bits_per_byte: float | None

    @property
    def delta_bytes(self) -> int:
        """Growth of the bound in bytes (negative: it shrank)."""
        return self.total_bytes - self.total_bytes_before

    @property
    def delta_bits_per_byte(self) -> float | None:
        """Change in bits per byte, when both sides have a rate."""
        if self.bits_per_byte is None or self.bits_per_byte_before is None:
            return None
        return self.bits_per_byte - self.bits_per_byte_before

    @property
    def growth_percent(self) -> float | None:
        """Growth of the bound as a percentage of the baseline's."""
        return None if not self.total_bytes_before else 100.0 * self.delta_bytes / self.total_bytes_before


@dataclass(frozen=True)
class BaselineComparison:
    """This report against a baseline: the best bound's change and each common backend's."""

    source: str
    corpus_sha256_before: str
    corpus_changed: bool
    best: RowDelta | None
    rows: tuple[RowDelta, ...]


def load_baseline(path: str) -> dict[str, Any]:
    """Read an earlier JSON report; `BaselineError` unless it is a readable `kbound/1` report."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such baseline file") from None
    except OSError as e:
        raise BaselineError(f"{path}: cannot read baseline ({e.strerror or e})") from None
    except ValueError as e:
        raise BaselineError(f"{path}: baseline is not JSON ({e})") from None
    except RecursionError:  # json.loads recurses once per level of nesting
        raise BaselineError(f"{path}: baseline is not a kbound report (JSON nested too deeply)") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise BaselineError(f"{path}: baseline schema is {found!r}, expected {SCHEMA!r}")
    if not isinstance(doc.get("results"), list) or not isinstance(doc.get("corpus"), dict):
        raise BaselineError(f"{path}: baseline has no results or corpus section")
    # Checked before the run, so a bad baseline costs no compression time.
    bounded = [(f"results[{r.get('spec')}]", r) for r in doc["results"] if isinstance(r, dict)]
    best = doc.get("best")
    if isinstance(best, dict):
        bounded.append(("best", best))
    elif best is not None:  # null is a run without a best bound; anything else is not a report's
        raise BaselineError(f"{path}: best is {_shown(best)}, not an object or null")
    for where, row in bounded:
        if row.get("total_bytes") is not None:
            _total_bytes(row["total_bytes"], path, where)
            _rate(row.get("bits_per_byte"), path, where)
    return doc


def _number(value: Any) -> bool:
    """A finite JSON number (not a boolean; not the NaN or Infinity that Python's json reads, or 1e400)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _shown(value: Any) -> str:
    """A value as the baseline spells it, cut short (one line however large)."""
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _total_bytes(value: Any, source: str, where: str) -> int:
    """A baseline's bound in bytes: a whole number above 0 (a zero or negative one would let any growth pass)."""
    if not _number(value) or value != int(value) or value <= 0:
        raise BaselineError(f"{source}: {where}.total_bytes is {_shown(value)}, not a whole number of bytes > 0")
    return int(value)


def _rate(value: Any, source: str, where: str) -> float | None:
    if value is not None and (not _number(value) or value < 0):
        raise BaselineError(f"{source}: {where}.bits_per_byte is {_shown(value)}, not a number >= 0")
    return None if value is None else float(value)


def compare_with_baseline(report: Report, doc: dict[str, Any], source: str) -> BaselineComparison:
    """Per-backend and best deltas against a baseline report.

    `doc` is what `load_baseline` returned (its bounds checked). Only backends run in both with a
    bound are compared. A backend whose library version differs makes its delta meaningless
    (the size would change with the library, not the data), so that is an error naming the
    backend and both versions; so is having no backend in common.
    """
    before = {r["spec"]: r for r in doc["results"]
              if isinstance(r, dict) and isinstance(r.get("spec"), str) and r.get("total_bytes") is not None}
    changed = [
        f"{r.spec} ({r.library} {before[r.spec].get('version')} in the baseline, {r.library_version} now)"
        for r in report.results
        if r.spec in before and before[r.spec].get("version") != r.library_version
    ]
    if changed:
        raise BaselineError(
            f"{source}: library versions differ for {', '.join(changed)}; re-measure the baseline"
        )
    rows = tuple(
        RowDelta(r.spec, int(before[r.spec]["total_bytes"]), r.total_bytes, before[r.spec].get("bits_per_byte"),
                 r.bits_per_byte)
        for r in report.results
        if r.spec in before and r.total_bytes is not None
    )
    if not rows:
        raise BaselineError(f"{source}: no backend has a bound in both this run and the baseline")
    old_best = doc.get("best")
    best = None
    if report.best is not None and isinstance(old_best, dict) and old_best.get("total_bytes") is not None:
        best = RowDelta(report.best.spec, int(old_best["total_bytes"]), report.best.total_bytes,
                        old_best.get("bits_per_byte"), report.best.bits_per_byte)
    old_sha = str(doc["corpus"].get("sha256", ""))
    return BaselineComparison(source, old_sha, old_sha != report.corpus.sha256, best, rows)


def threshold_breaches(
    report: Report, *, max_bpb: float | None = None, max_growth: float | None = None
) -> list[str]:
    """One line for each limit the report breaks (empty when it keeps them all)."""
    out: list[str] = []
    best = report.best
    if max_bpb is not None:
        if best is None or best.bits_per_byte is None:  # a limit that cannot be checked must not pass
            out.append(f"--max-bpb {max_bpb:g} cannot be checked: this run has no best bound")
        elif best.bits_per_byte > max_bpb:
            out.append(f"best bound {best.bits_per_byte:.6f} bits/byte exceeds --max-bpb {max_bpb:g}")
    if max_growth is not None:
        comparison = report.baseline
        growth = None if comparison is None or comparison.best is None else comparison.best.growth_percent
        if growth is None:  # a limit that cannot be checked must not pass
            out.append(f"--max-growth {max_growth:g}% cannot be checked: the baseline or this run has no best bound")
        elif growth > max_growth:
            out.append(f"best bound grew {growth:+.3f}% over the baseline, more than --max-growth {max_growth:g}%")
    return out
