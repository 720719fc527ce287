"""The progress display on stderr: one bar per backend (bytes, throughput, ETA, then its result), on a terminal only."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as RichProgress

from kbound.backends.base import Backend
from kbound.run.outcome import Outcome


class Progress:
    """Shows each running backend's bytes done, throughput and ETA, and how each finished; no-op when disabled.

    A bar counts bytes compressed and, when a backend is verified after coding (not inline, as it
    is beside the encoder for raw and the dictionary coders), bytes decompressed too (so it ends at
    twice the corpus size), summed over the backend's shards. A last bar, "all", sums every backend
    started so far: the run's overall bytes, rate and time left. With a plan's prediction
    (`expect`), each bar also shows the time left by the plan: its predicted core-seconds times the
    share of bytes still to do. While `--plan` samples, bars are named "sample SPEC".
    """

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        self.enabled = enabled
        self._console = console
        self._bars: RichProgress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._totals: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._all: TaskID | None = None
        self._prefix = ""
        self._expected: dict[str, float] = {}

    def __enter__(self) -> Progress:
        if self.enabled:
            self._bars = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=16),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[plan]}"),
                TextColumn("{task.fields[result]}"),
                console=self._console or Console(stderr=True),
                refresh_per_second=4,
                transient=True,
            )
            self._bars.__enter__()
            self._all = self._bars.add_task("all", total=None, result="", plan="")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bars is not None:
            self._bars.__exit__(kind, value, tb)
            self._bars = None

    def sampling(self, on: bool) -> None:
        """Name the bars that start from now on as the sample's (`--plan`), or as the run's again."""
        self._prefix = "sample " if on else ""

    def expect(self, core_seconds: dict[str, float | None]) -> None:
        """The plan's predicted core-seconds per spec over the corpus: bars show the time left by it."""
        self._expected = {k: v for k, v in core_seconds.items() if v is not None}

    def _key(self, backend: Backend) -> str:
        return self._prefix + backend.spec

    def start(self, backend: Backend) -> None:
        """A worker for `backend` started."""
        if self._bars is not None:
            key = self._key(backend)
            self._tasks[key] = self._bars.add_task(key, total=None, result="", plan="")

    def advance(self, backend: Backend, done: int, total: int) -> None:
        """A worker reported `done` of `total` bytes."""
        key = self._key(backend)
        if self._bars is not None and key in self._tasks:
            self._totals[key], self._done[key] = total, done
            self._bars.update(self._tasks[key], completed=done, total=total, plan=self.plan_left(key, done, total))
            self._overall()

    def plan_left(self, key: str, done: int, total: int) -> str:
        """The time left by the plan's prediction, as `plan 3.2 min left`, or "" without one."""
        expected = self._expected.get(key)
        if expected is None or total <= 0:
            return ""
        left = expected * max(0.0, 1 - done / total)
        return f"plan {left / 60:.1f} min left" if left >= 120 else f"plan {left:.0f} s left"

    def done(self, outcome: Outcome) -> None:
        """A worker finished (or failed): its bar stops and shows the result."""
        key = self._key(outcome.backend)
        if self._bars is None or key not in self._tasks:
            return
        task = self._tasks[key]
        if outcome.error:
            result = f"[red]failed[/]: {escape(outcome.error[:60])}"  # an error can quote '[/x]' from a file
        else:
            check = "[green]✓[/]" if outcome.verified else "unverified"
            result = f"{check} payload {outcome.payload_bytes or 0:,} B"
        total = self._totals.get(key)
        self._done[key] = total or 0
        self._bars.update(task, result=result, completed=total or 0, total=total, plan="")
        self._bars.stop_task(task)
        self._overall()

    def _overall(self) -> None:
        if self._bars is not None and self._all is not None:
            self._bars.update(self._all, completed=sum(self._done.values()), total=sum(self._totals.values()) or None)
