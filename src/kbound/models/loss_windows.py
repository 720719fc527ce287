"""Which tokens each evaluation of a measured loss sees, and which it scores: the two window schemes.

An evaluation is `(context, targets)`: the model reads `context + targets[:-1]` and is charged
for each target given everything before it. An empty context (no BOS token, a text's first
window) charges the first target log2(vocabulary) bits. Both schemes score every token once.

- `disjoint`, lm-evaluation-harness's `loglikelihood_rolling` (`get_rolling_token_windows` with
  context_len=1): each document on its own; the first window is BOS + window-1 tokens and
  predicts `window` tokens; each later window predicts the next `window` tokens from the last
  token before them; the last, shorter one is filled with earlier tokens up to `window`.
- `sliding`, today's scheme and the `lm` backend's (Huang et al. 2024 slide a 1,900-token window
  by 512): the stream as one text; blocks of `stride` new tokens, each read after BOS and the
  `context` tokens before it.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the CLI reads SCHEMES; llama.cpp's side (and numpy) stays unloaded until a loss is measured
    from kbound.backends.lm_model import Plan

SCHEMES = ("sliding", "disjoint")

Evaluation = tuple[list[int], list[int]]


class Windows(Protocol):
    """A window scheme: evaluations as tokens arrive, and at the end of each text."""

    #: Documents are scored apart (the stream is split at the separator).
    per_document: bool

    def feed(self, tokens: list[int]) -> list[Evaluation]:
        """The evaluations that these further tokens of the current text complete."""

    def end(self) -> list[Evaluation]:
        """The evaluations left when the current text ends; the next text starts afresh."""


class Disjoint:
    """lm-eval's rolling windows: `window` tokens an evaluation, one token of context after the first."""

    per_document = True

    def __init__(self, window: int, bos: int | None) -> None:
        self.window, self.prefix = window, [] if bos is None else [bos]
        self._history: deque[int] = deque(maxlen=window)
        self._pending: list[int] = []

    def _take(self, targets: list[int]) -> Evaluation:
        if not self._history:
            context = list(self.prefix)
        else:  # lm-eval's window: the `window` tokens before the last target, so a short last window gets more
            context = list(self._history)[len(self._history) - (self.window - len(targets) + 1) :]
        self._history.extend(targets)
        return context, targets

    def feed(self, tokens: list[int]) -> list[Evaluation]:
        """Full windows of `window` new tokens."""
        self._pending += tokens
        out = []
        while len(self._pending) >= self.window:
            out.append(self._take(self._pending[: self.window]))
            self._pending = self._pending[self.window :]
        return out

    def end(self) -> list[Evaluation]:
        """The document's last, shorter window; then a new document starts with BOS again."""
        out = [self._take(self._pending)] if self._pending else []
        self._history.clear()
        self._pending = []
        return out


class Sliding:
    """Blocks of `plan.stride` new tokens after BOS and `plan.context` tokens of left context, over one stream."""

    per_document = False

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._kept: list[int] = []
        self._pending: list[int] = []

    def _take(self, targets: list[int]) -> Evaluation:
        context = self.plan.prefix + self._kept
        self._kept = (self._kept + targets)[-self.plan.context :] if self.plan.context else []
        return context, targets

    def feed(self, tokens: list[int]) -> list[Evaluation]:
        """Full blocks of `stride` new tokens."""
        self._pending += tokens
        out = []
        step = self.plan.stride
        while len(self._pending) >= step:
            out.append(self._take(self._pending[:step]))
            self._pending = self._pending[step:]
        return out

    def end(self) -> list[Evaluation]:
        """The last, shorter block."""
        out = [self._take(self._pending)] if self._pending else []
        self._pending = []
        return out


def windows(scheme: str, plan: Plan) -> Windows:
    """The scheme named `scheme` over the model's plan (its window, stride, context and BOS)."""
    if scheme == "disjoint":
        return Disjoint(plan.window, plan.bos)
    if scheme == "sliding":
        return Sliding(plan)
    raise ValueError(f"unknown window scheme {scheme!r}: {' or '.join(SCHEMES)}")
