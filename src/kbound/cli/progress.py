"""The progress display on stderr: one bar per backend (bytes, throughput, ETA, then its result), on a terminal only."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
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
    started so far: the run's overall bytes, rate and time left.
    """

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        self.enabled = enabled
        self._console = console
        self._bars: RichProgress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._totals: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._all: TaskID | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._bars = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=16),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[result]}"),
                console=self._console or Console(stderr=True),
                refresh_per_second=4,
                transient=True,
            )
            self._bars.__enter__()
            self._all = self._bars.add_task("all", total=None, result="")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bars is not None:
            self._bars.__exit__(kind, value, tb)
            self._bars = None

    def start(self, backend: Backend) -> None:
        """A worker for `backend` started."""
        if self._bars is not None:
            self._tasks[backend.spec] = self._bars.add_task(backend.spec, total=None, result="")

    def advance(self, backend: Backend, done: int, total: int) -> None:
        """A worker reported `done` of `total` bytes."""
        if self._bars is not None and backend.spec in self._tasks:
            self._totals[backend.spec], self._done[backend.spec] = total, done
            self._bars.update(self._tasks[backend.spec], completed=done, total=total)
            self._overall()

    def done(self, outcome: Outcome) -> None:
        """A worker finished (or failed): its bar stops and shows the result."""
        if self._bars is None or outcome.backend.spec not in self._tasks:
            return
        task = self._tasks[outcome.backend.spec]
        if outcome.error:
            result = f"[red]failed[/]: {outcome.error[:60]}"
        else:
            check = "[green]✓[/]" if outcome.verified else "unverified"
            result = f"{check} payload {outcome.payload_bytes or 0:,} B"
        total = self._totals.get(outcome.backend.spec)
        self._done[outcome.backend.spec] = total or 0
        self._bars.update(task, result=result, completed=total or 0, total=total)
        self._bars.stop_task(task)
        self._overall()

    def _overall(self) -> None:
        if self._bars is not None and self._all is not None:
            self._bars.update(self._all, completed=sum(self._done.values()), total=sum(self._totals.values()) or None)
