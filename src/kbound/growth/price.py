"""`kbound plan`: what each effort would cost on the whole corpus, predicted from one sample, without running it.

One sample run measures every backend of the asked efforts (`kbound.growth.plan.run_sample`);
each effort then gets the sum of its backends' predicted core-seconds (with the band's sum),
the wall time on N workers (longest first, one backend a worker), the memory a worker needs (the
largest catalog estimate among its backends at the corpus's size), the backends that dominate
its cost, its predicted best bound, and what `--plan` would keep and cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kbound.bounds.estimate import resolve_backends
from kbound.growth.forecast import RULE, Forecast, Overhead, makespan, run_core_seconds
from kbound.growth.plan import Sample, run_sample, staged
from kbound.run.batch import RunOptions
from kbound.sources.corpus import Corpus

#: The backends named as dominating an effort's cost: the largest, until they make this share of it.
DOMINANT_SHARE = 0.8


@dataclass(frozen=True)
class EffortPrice:
    """One effort on the whole corpus: predicted cost, wall, memory, who dominates, and its plan."""

    effort: str
    forecasts: tuple[Forecast, ...]
    workers: int
    #: The compress and verify seconds a `--plan` run's staged sample of this effort's backends would spend
    #: (`kbound.growth.plan.staged`: the screened ones do not run the larger samples).
    sample_core_seconds: float
    #: The run's own part beside the backends' tasks, measured on the sample.
    overhead: Overhead = field(default_factory=Overhead)
    #: The tasks that staged sample would run (None: one per backend and sample point).
    sample_tasks: int | None = None

    def core_seconds(self, planned: bool = False) -> tuple[float, float, float]:
        """(centre, low, high) core-seconds of a run of every backend, the run's own part included (or,
        `planned`, of a `--plan` run: the sample of this effort's backends, then the kept ones)."""
        if not planned:
            return run_core_seconds(self.forecasts, self.overhead)
        o = self.overhead
        sample = (o.start_core_seconds + o.scan_core_seconds + self.sample_core_seconds
                  + o.per_task_core_seconds * (self.sample_tasks if self.sample_tasks is not None
                                               else sum(len(f.points) for f in self.forecasts)))
        centre, low, high = run_core_seconds([f for f in self.forecasts if f.kept], o, start=False)
        return sample + centre, sample + low, sample + high

    def wall_seconds(self, planned: bool = False) -> float:
        """Wall seconds on `workers` workers, one backend a worker, longest first (planned: after the sample)."""
        chosen = [f.core_seconds or 0.0 for f in self.forecasts if f.kept or not planned]
        extra = self.sample_core_seconds / max(1, self.workers) if planned else 0.0
        return extra + makespan(chosen, self.workers)

    @property
    def memory_per_worker_bytes(self) -> int:
        """The largest estimate among the effort's backends of what one worker holds at the corpus's size."""
        return max((f.memory_bytes for f in self.forecasts), default=0)

    @property
    def dominant(self) -> tuple[tuple[str, float], ...]:
        """The costliest backends and their shares, until they make `DOMINANT_SHARE` of the effort's cost."""
        total = self.core_seconds()[0]
        out: list[tuple[str, float]] = []
        for f in sorted(self.forecasts, key=lambda f: -(f.core_seconds or 0.0)):
            if not total or sum(s for _, s in out) >= DOMINANT_SHARE:
                break
            out.append((f.spec, (f.core_seconds or 0.0) / total))
        return tuple(out)

    @property
    def best(self) -> Forecast | None:
        """The candidate with the smallest predicted bound."""
        able = [f for f in self.forecasts if f.bound_bytes is not None]
        return min(able, key=lambda f: (f.bound_bytes or 0.0, f.spec)) if able else None


@dataclass(frozen=True)
class Price:
    """Every asked effort priced from one sample."""

    sample: Sample
    efforts: tuple[EffortPrice, ...]
    size_bytes: int
    workers: int
    settings: dict[str, Any]
    kbound_version: str
    rule: str = RULE


def price(corpus: Corpus, efforts: Sequence[str], size: int, seed: int, workers: int, options: RunOptions,
          **callbacks: Any) -> Price:
    """Run the union of the efforts' backends on one sample and price each effort on the whole corpus.

    `callbacks` go to `run_sample` (`on_start`, `on_done`, and `start_core_seconds`: the CLI's start)."""
    from kbound.version import kbound_version

    per_effort = {e: [b for b in resolve_backends(None, e) if b.name != "raw"] for e in efforts}
    union = list({b.spec: b for bs in per_effort.values() for b in bs}.values())
    sample = run_sample(corpus, union, size, seed, options, **callbacks)
    by_spec = {f.spec: f for f in sample.forecasts}
    priced = []
    for effort, backends in per_effort.items():
        # Each backend's forecast from every sample, kept or dropped as a `--plan` run's staged sample would.
        full = [by_spec[b.spec] for b in backends]
        verdict = {f.spec: f for f in staged(full)}
        forecasts = tuple(replace(f, kept=verdict[f.spec].kept, reason=verdict[f.spec].reason,
                                  screened_bytes=verdict[f.spec].screened_bytes) for f in full)
        spent = sum(p.core_seconds or 0.0 for f in verdict.values() for p in f.points)
        tasks = sum(len(f.points) for f in verdict.values())
        priced.append(EffortPrice(effort, forecasts, workers, spent, sample.overhead, tasks))
    settings = {"efforts": list(efforts), "sample_bytes": size, "seed": seed, "workers": workers,
                "verify": options.verify, "jobs": options.jobs}
    return Price(sample, tuple(priced), size, workers, settings, kbound_version())
