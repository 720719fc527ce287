"""The progress display on stderr: one line per backend, shown only on a terminal."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table

from kbound.backends.base import Backend
from kbound.engine import Outcome


class Progress:
    """Shows which backends are running and how each finished; does nothing when disabled."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._rows: dict[str, tuple[float, str | None]] = {}
        self._live: Live | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._live = Live(self._render(), console=Console(stderr=True), refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(kind, value, tb)
            self._live = None

    def _render(self) -> Table:
        table = Table.grid(padding=(0, 2))
        now = time.monotonic()
        for spec, (started, status) in self._rows.items():
            table.add_row(spec, status or f"running {now - started:.0f}s")
        return table

    def start(self, backend: Backend) -> None:
        """A worker for `backend` started."""
        if self._live is not None:
            self._rows[backend.spec] = (time.monotonic(), None)
            self._live.update(self._render())

    def done(self, outcome: Outcome) -> None:
        """A worker finished (or failed)."""
        if self._live is not None:
            spec = outcome.backend.spec
            started = self._rows.get(spec, (time.monotonic(), None))[0]
            status = "failed" if outcome.error else f"done in {time.monotonic() - started:.1f}s"
            self._rows[spec] = (started, status)
            self._live.update(self._render())
