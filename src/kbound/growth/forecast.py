"""A backend's bound and cost at the corpus's size, predicted from nested samples, and the rule that keeps it.

The bound: the sample payloads are fitted by a power law in log–log space (as `curve` fits
growth) and taken at the corpus's size, or at the backend's window when that is smaller (past
it the payload grows in proportion), plus the measured decoder. Its spread is the sample's
own: the line through the two samples below the largest predicts the largest, and what it misses
by there, stretched by how much farther the corpus lies (in log size) than the largest sample from
the one below it, is the half-width `h` of the band exp(∓h) around the prediction (at least 1 %: the
sampling of documents alone moves a rate by that much). The cost: core-seconds (compress and
verify, the workers' CPU seconds) as a fixed part plus a rate per byte from the two largest
samples (every built-in codec runs in linear time), the band spanning the rates of the consecutive
pairs of samples up to the largest sample's seconds per byte with nothing fixed.

The run's own part: a run's process tree spends CPU besides its backends' tasks, which the
workers' seconds leave out: the interpreter's start and imports and the listing of the corpus,
once a run; forking each task's worker, its exit, and its results and progress through pipes,
once a task; and, when no kept backend is cheap enough for the `raw` row to ride on, that row
reading and hashing the corpus in a task of its own. All three are measured on the sample run
itself (`Overhead`): the process's CPU before sampling, the process tree's CPU during the sample's
batches beyond their tasks' own divided by the tasks run, and the sample's one read of the whole
corpus to identify it. None of them grows with the sample's size, so none is scaled by it.

The rule compares each candidate with the best predicted one, pair by pair, on the same
samples: every candidate reads the same documents, so what those documents do to a rate (more
gain with size than the corpus gives, a source over-drawn) moves all the candidates together,
and two bands that overlap for that reason say nothing about which is smaller. The pair's own
spread is taken like a band's, from the log ratio of the two payloads at the three largest sizes both measured: the
line through the two smaller ratios predicts the largest, and the miss, stretched by how much
farther the corpus lies, is its half-width `h` (at least 1 %). A candidate is kept when its
predicted bound is within exp(h) of the best's (it could still be the smallest), dropped
otherwise. Below three common sample sizes the pair has no spread of its own, and the bands
decide: kept when its low edge is at or below the best's high edge. The best predicted always
stays, and a backend that failed on the sample is dropped with its error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kbound.growth.fit import fit_power_law

#: The smallest half-width of a predicted bound's band, in natural-log units (1 %).
MIN_SPREAD_LOG = 0.01
RULE = ("keep a backend when its predicted bound is within exp(h) of the smallest prediction's, h = max(1 %, "
        "the miss of the line through the two smaller samples' log ratio of the pair's payloads at the largest × "
        "ln(corpus / largest sample) / ln(largest / middle sample)); with fewer than three common sample sizes, "
        "when its band's low edge is at or below the best's high edge; --plan applies it before each sample once "
        "three sizes are measured, and what it drops there runs no larger sample")


@dataclass(frozen=True)
class SamplePoint:
    """One backend on one sample: bytes read, payload, core-seconds (compress and verify), or its error."""

    sample_bytes: int
    payload_bytes: int | None
    core_seconds: float | None
    error: str | None = None


@dataclass(frozen=True)
class Forecast:
    """One candidate's measured sample points and its predicted bound and cost at `target_bytes`."""

    spec: str
    points: tuple[SamplePoint, ...]
    target_bytes: int
    decoder_bytes: int | None
    #: Catalog estimate of what one worker holds for this backend at the target size (worker included).
    memory_bytes: int
    #: The largest resident set a worker of this backend reached on the sample.
    sample_peak_rss_bytes: int | None = None
    bound_bytes: float | None = None
    bound_low_bytes: float | None = None
    bound_high_bytes: float | None = None
    spread_log: float | None = None
    core_seconds: float | None = None
    core_seconds_low: float | None = None
    core_seconds_high: float | None = None
    kept: bool = True
    reason: str = ""
    #: The `raw` row may ride on this backend's task (`kbound.run.engine.can_host_raw`): no task of its own.
    hosts_raw: bool = False
    #: What the backend can refer back to, which caps its gain with size (`predict_bound`); None: unbounded.
    window_bytes: int | None = None
    #: Dropped by the rule on the samples up to this many bytes, before the larger ones (`screen`): final.
    screened_bytes: int | None = None

    @property
    def bits_per_byte(self) -> float | None:
        """The predicted bound per byte of the corpus."""
        return None if self.bound_bytes is None else 8 * self.bound_bytes / self.target_bytes

    @property
    def error(self) -> str | None:
        """The first failure on the sample, if any."""
        return next((p.error for p in self.points if p.error), None)


@dataclass(frozen=True)
class Overhead:
    """What a run's process tree spends besides its backends' tasks, as measured on the sample (see the module)."""

    #: The process's CPU before sampling: interpreter, imports, listing the corpus. Once a run.
    start_core_seconds: float = 0.0
    #: The process tree's CPU during the sample's batches beyond their tasks' own, per task run.
    per_task_core_seconds: float = 0.0
    #: Reading and hashing the whole corpus once (the sample's identification of it).
    scan_core_seconds: float = 0.0
    #: The sample's tasks that ran (recalled ones cost nothing and are not counted).
    sample_tasks: int = 0

    def core_seconds(self, backends: int, raw_rides: bool = True, *, start: bool = True) -> float:
        """A run of `backends` backends, one task each, plus the `raw` row (a task of its own reading the
        corpus unless it rides on another's); `start`: the run's process starts too (not so after a sample)."""
        tasks = backends + (0 if raw_rides else 1)
        return ((self.start_core_seconds if start else 0.0) + self.per_task_core_seconds * tasks
                + (0.0 if raw_rides else self.scan_core_seconds))


def _line_at(x1: float, y1: float, x2: float, y2: float, x: float) -> float:
    return y1 + (y2 - y1) * (x - x1) / (x2 - x1)


def predict_bound(points: Sequence[SamplePoint], target_bytes: int, decoder_bytes: int,
                  window_bytes: int | None = None) -> tuple[float, float, float, float] | None:
    """(bound, low, high, h) in bytes at `target_bytes`, or None below two usable sizes.

    The payload follows the fit up to the backend's window (what it can still refer back to), and
    grows in proportion beyond it: past its window a coder gains nothing from more text.
    """
    good = sorted({p.sample_bytes: p for p in points if p.payload_bytes and p.sample_bytes > 0}.values(),
                  key=lambda p: p.sample_bytes)
    if len(good) < 2:
        return None
    xs = [math.log(p.sample_bytes) for p in good]
    ys = [math.log(p.payload_bytes or 1) for p in good]
    target = math.log(target_bytes)
    reach = target if window_bytes is None else min(target, max(math.log(max(window_bytes, 1)), xs[-1]))
    if reach <= xs[-1]:  # the window is no larger than the sample: the largest sample's rate
        centre, h = ys[-1] + (target - xs[-1]), MIN_SPREAD_LOG
        if len(good) >= 3:
            h = max(h, abs(ys[-1] - _line_at(xs[-3], ys[-3], xs[-2], ys[-2], xs[-1])))
    elif len(good) >= 3:
        fit = fit_power_law([p.sample_bytes for p in good], [p.payload_bytes or 1 for p in good])
        centre = math.log(fit.predict_bytes(math.exp(reach))) + (target - reach)
        miss = abs(ys[-1] - _line_at(xs[-3], ys[-3], xs[-2], ys[-2], xs[-1]))
        h = max(MIN_SPREAD_LOG, miss * max(1.0, (reach - xs[-1]) / (xs[-1] - xs[-2])))
    else:  # no third point to measure the spread by: a wide guess, 10 % per step of the samples' ratio
        centre = _line_at(xs[0], ys[0], xs[1], ys[1], reach) + (target - reach)
        h = max(MIN_SPREAD_LOG, 0.1 * (reach - xs[1]) / (xs[1] - xs[0]))
    if target_bytes <= good[-1].sample_bytes:  # measured at the corpus's size itself
        centre, h = ys[-1], 0.0
    return (math.exp(centre) + decoder_bytes, math.exp(centre - h) + decoder_bytes,
            math.exp(centre + h) + decoder_bytes, h)


def predict_seconds(points: Sequence[SamplePoint], target_bytes: int) -> tuple[float, float, float] | None:
    """(core-seconds, low, high) at `target_bytes`: a fixed part (a worker's start, a model's tables) plus a
    rate per byte, the rate from the two largest samples; the band spans the rates of the consecutive pairs
    and, as its high end, the largest sample's seconds per byte with nothing fixed."""
    good = sorted((p for p in points if p.core_seconds is not None and p.sample_bytes > 0),
                  key=lambda p: p.sample_bytes)
    if not good:
        return None
    xs = [p.sample_bytes for p in good]
    ts = [p.core_seconds or 0.0 for p in good]
    whole = ts[-1] / xs[-1]
    pairs = [(ts[i + 1] - ts[i]) / (xs[i + 1] - xs[i]) for i in range(len(xs) - 1) if xs[i + 1] > xs[i]]
    if not pairs or pairs[-1] <= 0:
        return whole * target_bytes, whole * target_bytes, whole * target_bytes
    rate = pairs[-1]
    fixed = max(0.0, ts[-1] - rate * xs[-1])
    rates = [r for r in pairs if r > 0]
    return fixed + rate * target_bytes, fixed + min(rates) * target_bytes, max(fixed + max(rates) * target_bytes,
                                                                              whole * target_bytes)


def forecast(spec: str, points: Sequence[SamplePoint], target_bytes: int, decoder_bytes: int | None,
             memory_bytes: int, peak_rss_bytes: int | None = None, window_bytes: int | None = None) -> Forecast:
    """A candidate's prediction at `target_bytes` from its sample points (not yet kept or dropped)."""
    f = Forecast(spec, tuple(points), target_bytes, decoder_bytes, memory_bytes, peak_rss_bytes,
                 window_bytes=window_bytes)
    bound = (None if decoder_bytes is None or f.error
             else predict_bound(points, target_bytes, decoder_bytes, window_bytes))
    cost = predict_seconds(points, target_bytes)
    if bound is not None:
        f = replace(f, bound_bytes=bound[0], bound_low_bytes=bound[1], bound_high_bytes=bound[2],
                    spread_log=bound[3])
    if cost is not None:
        f = replace(f, core_seconds=cost[0], core_seconds_low=cost[1], core_seconds_high=cost[2])
    return f


def refit(f: Forecast, points: Sequence[SamplePoint]) -> Forecast:
    """`f` predicted again from these sample points (its decoder, memory, window and `raw` hosting kept)."""
    again = forecast(f.spec, points, f.target_bytes, f.decoder_bytes, f.memory_bytes, f.sample_peak_rss_bytes,
                     f.window_bytes)
    return replace(again, hosts_raw=f.hosts_raw)


def pair_spread(f: Forecast, best: Forecast) -> float | None:
    """The half-width (natural log) of `f`'s predicted bound relative to `best`'s, from their payloads' log ratio
    on the same samples (see the module); None below three sample sizes both measured."""
    a = {p.sample_bytes: p.payload_bytes for p in f.points if p.payload_bytes and p.sample_bytes > 0}
    b = {p.sample_bytes: p.payload_bytes for p in best.points if p.payload_bytes and p.sample_bytes > 0}
    common = sorted(set(a) & set(b))
    if len(common) < 3:
        return None
    xs = [math.log(n) for n in common[-3:]]
    ys = [math.log(a[n] or 1) - math.log(b[n] or 1) for n in common[-3:]]
    miss = abs(ys[2] - _line_at(xs[0], ys[0], xs[1], ys[1], xs[2]))
    return max(MIN_SPREAD_LOG, miss * max(1.0, (math.log(f.target_bytes) - xs[2]) / (xs[2] - xs[1])))


def keep(forecasts: Sequence[Forecast]) -> list[Forecast]:
    """`RULE`: each forecast kept or dropped, with the reason in words (one screened before stays dropped)."""
    able = [f for f in forecasts if f.bound_high_bytes is not None and f.screened_bytes is None]
    if not able:
        return [f if f.screened_bytes is not None
                else replace(f, kept=True, reason="no prediction: every candidate runs") for f in forecasts]
    best = min(able, key=lambda f: (f.bound_bytes or 0.0, f.spec))
    out = []
    for f in forecasts:
        if f.screened_bytes is not None:
            out.append(f)
        elif f.error:
            out.append(replace(f, kept=False, reason=f"failed on the sample: {f.error}"))
        elif f.bound_low_bytes is None or f.bound_bytes is None:
            out.append(replace(f, kept=True, reason="no prediction (fewer than two sample sizes): kept"))
        elif f is best:
            out.append(replace(f, kept=True, reason="the smallest predicted bound"))
        elif (h := pair_spread(f, best)) is not None:
            above = math.log(f.bound_bytes / (best.bound_bytes or 1.0))
            words = f"predicted {100 * math.expm1(above):+.1f} % against {best.spec}, the pair's spread ±"
            if above <= h:
                out.append(replace(f, kept=True, reason=f"{words}{100 * math.expm1(h):.1f} %: could win"))
            else:
                out.append(replace(f, kept=False, reason=f"{words}{100 * math.expm1(h):.1f} %"))
        else:
            ceiling = best.bound_high_bytes or 0.0
            margin = 100 * (f.bound_low_bytes / ceiling - 1)
            out.append(replace(f, kept=f.bound_low_bytes <= ceiling,
                               reason=f"low edge {margin:+.1f} % of {best.spec}'s high edge (no pair spread: "
                                      "fewer than three common sample sizes)"))
    return out


def run_core_seconds(forecasts: Sequence[Forecast], overhead: Overhead, *,
                     start: bool = True) -> tuple[float, float, float]:
    """(centre, low, high) core-seconds of a run of these backends over the corpus: their tasks' predictions
    and the run's own part (`Overhead.core_seconds`), which is the same at every edge of the band."""
    own = overhead.core_seconds(len(forecasts), any(f.hosts_raw for f in forecasts), start=start)
    return (own + sum(f.core_seconds or 0.0 for f in forecasts),
            own + sum(f.core_seconds_low or 0.0 for f in forecasts),
            own + sum(f.core_seconds_high or 0.0 for f in forecasts))


def makespan(seconds: Sequence[float], workers: int) -> float:
    """The wall time of tasks of these lengths on `workers` workers, longest first (as the engine schedules)."""
    loads = [0.0] * max(1, workers)
    for s in sorted(seconds, reverse=True):
        i = loads.index(min(loads))
        loads[i] += s
    return max(loads)
