"""The plan: a `--plan` run's section of the estimate (table, JSON, CSV), and the `kbound plan` price view."""

from __future__ import annotations

from typing import Any

from kbound.bounds.results import Report
from kbound.growth.forecast import Forecast
from kbound.growth.plan import RunPlan, Sample
from kbound.growth.price import EffortPrice, Price
from kbound.report.view import (
    Block,
    CsvTable,
    Heading,
    Paragraph,
    Row,
    Sentence,
    Table,
    View,
    emit,
    rounded,
    text_and_numbers,
)
from kbound.units import human_bytes

HOUR = 3600.0


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / HOUR, 6)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * HOUR:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / HOUR:,.1f} h"


def forecast_to_dict(f: Forecast) -> dict[str, Any]:
    """One candidate: its sample points, predictions at the corpus's size, and whether it was kept and why."""
    return {
        "spec": f.spec,
        "kept": f.kept,
        "reason": f.reason,
        "screened_after_sample_bytes": f.screened_bytes,
        "points": [{"sample_bytes": p.sample_bytes, "payload_bytes": p.payload_bytes,
                    "core_seconds": rounded(p.core_seconds, 4), "error": p.error} for p in f.points],
        "decoder_bytes": f.decoder_bytes,
        "predicted_bound_bytes": None if f.bound_bytes is None else round(f.bound_bytes),
        "predicted_bound_low_bytes": None if f.bound_low_bytes is None else round(f.bound_low_bytes),
        "predicted_bound_high_bytes": None if f.bound_high_bytes is None else round(f.bound_high_bytes),
        "predicted_bits_per_byte": rounded(f.bits_per_byte),
        "spread_log": rounded(f.spread_log),
        "predicted_core_seconds": rounded(f.core_seconds, 4),
        "predicted_core_seconds_low": rounded(f.core_seconds_low, 4),
        "predicted_core_seconds_high": rounded(f.core_seconds_high, 4),
        "memory_per_worker_bytes": f.memory_bytes,
        "sample_peak_rss_bytes": f.sample_peak_rss_bytes,
    }


def sample_to_dict(s: Sample) -> dict[str, Any]:
    """How the sample was drawn and what it cost."""
    return {"sampling": s.sampling, "seed": s.seed, "strata": list(s.strata), "sample_bytes": list(s.sample_bytes),
            "sample_documents": list(s.sample_documents), "corpus_bytes": s.corpus_bytes,
            "core_seconds": rounded(s.core_seconds, 4), "wall_seconds": rounded(s.wall_seconds, 4),
            "run_own_part": {"start_core_seconds": rounded(s.overhead.start_core_seconds, 4),
                             "per_task_core_seconds": rounded(s.overhead.per_task_core_seconds, 4),
                             "scan_core_seconds": rounded(s.overhead.scan_core_seconds, 4),
                             "sample_tasks": s.overhead.sample_tasks}}


def plan_to_dict(plan: RunPlan) -> dict[str, Any]:
    """The `plan` object of a `--plan` run's JSON."""
    centre, low, high = plan.predicted_core_seconds()
    every = plan.predicted_core_seconds(kept_only=False)
    return {
        "size_bytes": plan.size_bytes,
        "rule": plan.rule,
        "sample": sample_to_dict(plan.sample),
        "candidates": [forecast_to_dict(f) for f in plan.forecasts],
        "kept": list(plan.kept),
        "dropped": [f.spec for f in plan.forecasts if not f.kept],
        "workers": plan.workers,
        "predicted_core_hours": _hours(centre),
        "predicted_core_hours_low": _hours(low),
        "predicted_core_hours_high": _hours(high),
        "predicted_core_hours_without_plan": _hours(every[0]),
        "predicted_wall_seconds": rounded(plan.predicted_wall_seconds(), 4),
        "measured_core_hours": _hours(plan.measured_core_seconds),
        "measured_by": plan.measured_by,
        "measured_wall_seconds": rounded(plan.measured_wall_seconds, 4),
        "measured_process_cpu_hours": _hours(plan.measured_process_cpu_seconds),
        "sample_core_hours": _hours(plan.sample.core_seconds),
        "recalled": plan.recalled,
    }


def _bpb_band(f: Forecast) -> str:
    if f.bound_bytes is None or f.bound_low_bytes is None or f.bound_high_bytes is None:
        return "-"
    n = f.target_bytes
    return f"{8 * f.bound_bytes / n:.4f} [{8 * f.bound_low_bytes / n:.4f}, {8 * f.bound_high_bytes / n:.4f}]"


def _core_band(f: Forecast) -> str:
    if f.core_seconds is None:
        return "-"
    return f"{_duration(f.core_seconds)} [{_duration(f.core_seconds_low)}, {_duration(f.core_seconds_high)}]"


def _forecast_table(forecasts: tuple[Forecast, ...]) -> Table:
    columns = text_and_numbers(("candidate", "predicted bpb [band]", "predicted core time [band]",
                                "memory/worker", "plan"), status_last=True)
    rows = [Row((f.spec, _bpb_band(f), _core_band(f), human_bytes(f.memory_bytes),
                 f.reason if f.screened_bytes is not None else ("kept: " if f.kept else "dropped: ") + f.reason),
                style=None if f.kept else "dim")
            for f in forecasts]
    return Table(columns, tuple(rows), blank_before=True)


def sample_sentence(s: Sample, size: int) -> str:
    """How the sample was drawn, in one line."""
    if s.sampling == "none":
        return (f"Plan ({human_bytes(size)}): the corpus ({s.corpus_bytes:,} bytes) is at most twice SIZE, so it was "
                "not sampled: every candidate runs.")
    how = (f"seeded ({s.seed}) whole documents, stratified by source over {len(s.strata)} sources"
           if s.strata else f"seeded ({s.seed}) whole documents" if s.sampling == "documents"
           else "prefixes (the corpus is one document)")
    sizes = ", ".join(f"{n:,}" for n in s.sample_bytes)
    cost = (f"the sample took {_duration(s.core_seconds)} of core time, {_duration(s.wall_seconds)} wall"
            if s.core_seconds else "the sample's results were recalled from the cache")
    return f"Plan ({human_bytes(size)}): nested samples of {sizes} bytes of {s.corpus_bytes:,} ({how}); {cost}."


def plan_sentences(plan: RunPlan) -> list[Sentence]:
    """What the plan predicted and kept, and what the run measured."""
    centre, low, high = plan.predicted_core_seconds()
    every = plan.predicted_core_seconds(kept_only=False)[0]
    dropped = [f.spec for f in plan.forecasts if not f.kept]
    out = [Sentence(sample_sentence(plan.sample, plan.size_bytes)),
           Sentence(f"Kept {len(plan.kept)} of {len(plan.forecasts)}: {', '.join(plan.kept) or 'none'}"
                    + (f"; dropped {', '.join(dropped)}." if dropped else ".")),
           Sentence(f"Predicted for the kept backends over the corpus: {centre / HOUR:.4f} core-hours "
                    f"[{low / HOUR:.4f}, {high / HOUR:.4f}], {_duration(plan.predicted_wall_seconds())} wall on "
                    f"{plan.workers} worker{'s' if plan.workers != 1 else ''} (every candidate: "
                    f"{every / HOUR:.4f} core-hours)." if plan.sample.sample_bytes else "Nothing was predicted.")]
    if plan.measured_core_seconds is not None:
        note = " (the kept rows recalled from the cache)" if plan.recalled else ""
        how = "this process and its workers" if plan.measured_by == "process tree" else "the rows' own seconds"
        out.append(Sentence(f"Measured over the corpus: {plan.measured_core_seconds / HOUR:.4f} core-hours ({how})"
                            f"{note}, {_duration(plan.measured_wall_seconds)} wall; the sample: "
                            f"{plan.sample.core_seconds / HOUR:.4f} core-hours, "
                            f"{_duration(plan.sample.wall_seconds)} wall."))
    out.append(Sentence(f"Rule: {plan.rule}. The bound above is the whole corpus, verified; the sample only "
                        "chose the backends.", style="dim"))
    return out


def plan_blocks(report: Report) -> list[Block]:
    """The estimate's plan section, when `--plan` chose its backends."""
    plan: RunPlan | None = report.plan
    if plan is None:
        return []
    return [Heading("Plan"), _forecast_table(plan.forecasts), Paragraph(tuple(plan_sentences(plan)))]


def plan_csv(report: Report) -> CsvTable | None:
    """One record per candidate of a `--plan` run."""
    plan: RunPlan | None = report.plan
    if plan is None:
        return None
    records = []
    for f in plan.forecasts:
        row = {k: v for k, v in forecast_to_dict(f).items() if k != "points"}
        records.append({"plan": "candidate", **row})
    return CsvTable(tuple(records[0]) if records else ("plan",), tuple(records))


def _price_row(e: EffortPrice) -> Row:
    centre, low, high = e.core_seconds()
    dominant = ", ".join(f"{s} {100 * share:.0f} %" for s, share in e.dominant)
    return Row((e.effort, f"{centre / HOUR:,.4f} [{low / HOUR:,.4f}, {high / HOUR:,.4f}]",
                _duration(e.wall_seconds()), human_bytes(e.memory_per_worker_bytes), dominant))


def _planned_row(e: EffortPrice) -> Row:
    best = e.best
    pc, pl, ph = e.core_seconds(planned=True)
    kept = [f.spec for f in e.forecasts if f.kept]
    return Row((e.effort, "-" if best is None else f"{best.spec} {_bpb_band(best)}",
                f"{pc / HOUR:,.4f} [{pl / HOUR:,.4f}, {ph / HOUR:,.4f}]", _duration(e.wall_seconds(planned=True)),
                ", ".join(kept)))


def _effort_dict(e: EffortPrice) -> dict[str, Any]:
    centre, low, high = e.core_seconds()
    pc, pl, ph = e.core_seconds(planned=True)
    best = e.best
    return {
        "effort": e.effort,
        "core_hours": _hours(centre), "core_hours_low": _hours(low), "core_hours_high": _hours(high),
        "wall_seconds": rounded(e.wall_seconds(), 4), "workers": e.workers,
        "memory_per_worker_bytes": e.memory_per_worker_bytes,
        "dominant": [{"spec": s, "share": rounded(share, 4)} for s, share in e.dominant],
        "best": None if best is None else best.spec,
        "best_bits_per_byte": None if best is None else rounded(best.bits_per_byte),
        "planned_kept": [f.spec for f in e.forecasts if f.kept],
        "planned_core_hours": _hours(pc), "planned_core_hours_low": _hours(pl), "planned_core_hours_high": _hours(ph),
        "planned_wall_seconds": rounded(e.wall_seconds(planned=True), 4),
        "candidates": [forecast_to_dict(f) for f in e.forecasts],
    }


def price_view(p: Price) -> View:
    """`kbound plan`: each effort's predicted price on the whole corpus, and every backend's forecast."""
    price = text_and_numbers(("effort", "core-hours [band]", f"wall on {p.workers}", "memory/worker",
                              "dominated by"), status_last=True)
    planned = text_and_numbers(("effort", "predicted best, bpb [band]", "--plan core-hours [band]",
                                f"--plan wall on {p.workers}", "--plan keeps"), status_last=True)
    forecasts = {f.spec: f for e in p.efforts for f in e.forecasts}
    own = p.sample.overhead
    blocks: list[Block] = [
        Paragraph((sample_sentence(p.sample, p.size_bytes),)),
        Heading("Every backend of each effort over the whole corpus"),
        Table(price, tuple(_price_row(e) for e in p.efforts)),
        Heading("With --plan at this sample size (the sample included)"),
        Table(planned, tuple(_planned_row(e) for e in p.efforts), blank_before=True),
        Heading("Each backend's forecast"),
        _forecast_table(tuple(forecasts.values())),
        Paragraph((Sentence("Nothing was run over the whole corpus: these are predictions from the sample. "
                            "Each effort's core-hours include the run's own part, measured by the sample: "
                            f"{own.start_core_seconds:.2f} s to start, {own.per_task_core_seconds:.3f} s a task "
                            f"beside the tasks' own. Rule of --plan: {p.rule}.", style="dim"),)),
    ]
    data = {"schema": "kbound-plan/1", "kbound_version": p.kbound_version, "settings": p.settings,
            "rule": p.rule, "sample": sample_to_dict(p.sample), "efforts": [_effort_dict(e) for e in p.efforts]}
    records = []
    for e in p.efforts:
        d = _effort_dict(e)
        d.pop("candidates")
        d["dominant"] = " ".join(f"{x['spec']}={x['share']}" for x in d["dominant"])
        d["planned_kept"] = " ".join(d["planned_kept"])
        records.append(d)
    lines = tuple((e.effort, f"{e.core_seconds()[0] / HOUR:.6f}", f"{e.wall_seconds():.1f}",
                   str(e.memory_per_worker_bytes)) for e in p.efforts)
    return View(tuple(blocks), data, (CsvTable(tuple(records[0]), tuple(records)),) if records else (), lines)


def render_price(p: Price, fmt: str, *, color: bool = False, width: int = 120) -> str:
    """`kbound plan`'s output in `fmt`."""
    return emit(price_view(p), fmt, color=color, width=width)
