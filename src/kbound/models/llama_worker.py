"""What runs inside the llama.cpp worker process: score a corpus's tokens with a GGUF model.

Imported only in the worker (`kbound.models.loss` starts it): llama.cpp parses the GGUF file in
C++, so a crash there ends this process, not kbound. The corpus is streamed, never held: text
is tokenized a segment at a time and scored in windows, with the reversible tokenization and
the window schedule of `kbound.backends.lm_model` (so the `lm` backend codes the same tokens
with the same context). Here each window (BOS, left context, `stride` new tokens) is evaluated
in one batch and the new tokens' log-probabilities are summed in float64; without a BOS token
the corpus's first token is charged log2(vocabulary) bits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

import numpy as np

from kbound.backends.lm_model import LossError, Tokens, open_model, segments

__all__ = ["LossError", "score"]

#: Windows whose bits are summed into one part, for the spread across parts.
PARTS = 8


def _log_softmax(rows: np.ndarray) -> np.ndarray:
    x = rows.astype(np.float64)
    x -= x.max(axis=1, keepdims=True)
    out: np.ndarray = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    return out


def score(model: str, chunks: Iterable[bytes], window: int | None, stride: int | None, threads: int) -> dict[str, Any]:
    """Bits of every token of the stream under the model; the facts `kbound.models.loss.MeasuredLoss` holds."""
    import llama_cpp

    started = time.perf_counter()
    llm, plan = open_model(model, window, stride, threads, logits_all=True)
    want, step, context, prefix = plan.window, plan.stride, plan.context, plan.prefix
    vocab = llm.n_vocab()
    tok = Tokens(llm)
    loaded = time.perf_counter()

    lengths = np.array([len(p) for p in tok.pieces], np.int64)
    pending: list[int] = []  # tokens not scored yet, after `kept` of left context
    kept: list[int] = []
    total_bits = 0.0
    n_tokens = n_bytes = 0
    windows: list[tuple[float, int]] = []  # (bits, bytes) per window

    def run(targets: list[int]) -> None:
        nonlocal total_bits, n_tokens, n_bytes, kept
        inp = prefix + kept + targets
        bits = 0.0
        start = len(prefix) + len(kept)
        scored = targets
        if start == 0:  # no BOS and no context: the first token is charged uniformly
            bits += math.log2(vocab)
            start, scored = 1, targets[1:]
            inp = targets
        if scored:
            llm.reset()
            llm.eval(inp)
            logits = np.asarray(llm.scores[start - 1 : len(inp) - 1])
            lp = _log_softmax(logits)
            bits += -float(lp[np.arange(len(scored)), scored].sum()) / math.log(2)
        size = int(lengths[targets].sum())
        windows.append((bits, size))
        total_bits += bits
        n_tokens += len(targets)
        n_bytes += size
        kept = (kept + targets)[-context:] if context else []

    for seg in segments(chunks):
        pending += tok.encode(seg)
        while len(pending) >= step:
            run(pending[:step])
            pending = pending[step:]
    if pending:
        run(pending)
    done = time.perf_counter()
    parts = []
    if windows:
        per = max(1, math.ceil(len(windows) / PARTS))
        for i in range(0, len(windows), per):
            bits = sum(w[0] for w in windows[i : i + per])
            size = sum(w[1] for w in windows[i : i + per])
            if size:
                parts.append(bits / size)
    return {
        "tokens": n_tokens, "bytes": n_bytes, "bits": total_bits, "vocab": vocab, "window": want, "stride": step,
        "context": context, "bos": plan.bos is not None, "threads": threads, "escaped_bytes": tok.escaped,
        "parts_bits_per_byte": parts, "load_seconds": loaded - started, "score_seconds": done - loaded,
        "notes": list(plan.notes), "library_version": f"llama-cpp-python {llama_cpp.__version__}",
    }
