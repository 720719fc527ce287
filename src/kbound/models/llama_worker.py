"""What runs inside the llama.cpp worker process: score a corpus's tokens with a GGUF model.

Imported only in the worker (`kbound.models.loss` starts it): llama.cpp parses the GGUF file in
C++, so a crash there ends this process, not kbound. The corpus is streamed, never held: text
is tokenized a segment at a time and scored in windows, with the reversible tokenization and
a window scheme of `kbound.models.loss_windows` (`sliding` is the `lm` backend's, so that it
codes the same tokens with the same context). Each evaluation runs in one batch and the
targets' natural-log probabilities are summed in float64, as lm-eval sums its log-likelihood;
with no BOS token a text's first token is charged ln(vocabulary) nats.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

import numpy as np

from kbound.backends.lm_model import LossError, Segmenter, Tokens, open_model
from kbound.models.loss_texts import TextCounter, texts
from kbound.models.loss_windows import windows

__all__ = ["LossError", "score"]

#: Windows whose bits are summed into one part, for the spread across parts.
PARTS = 8


def _log_softmax(rows: np.ndarray) -> np.ndarray:
    x = rows.astype(np.float64)
    x -= x.max(axis=1, keepdims=True)
    out: np.ndarray = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    return out


def score(model: str, chunks: Iterable[bytes], scheme: str, window: int | None, stride: int | None, threads: int,
          separator: bytes | None) -> dict[str, Any]:
    """Nats of every token of the stream under the model; the facts `kbound.models.loss.MeasuredLoss` holds.

    `separator` splits the stream into documents for a scheme that scores them apart.
    """
    import llama_cpp

    started = time.perf_counter()
    llm, plan = open_model(model, window, stride, threads, logits_all=True)
    vocab = llm.n_vocab()
    tok = Tokens(llm)
    schedule = windows(scheme, plan)
    loaded = time.perf_counter()

    lengths = np.array([len(p) for p in tok.pieces], np.int64)
    total_nats = 0.0
    n_tokens = 0
    scored: list[tuple[float, int]] = []  # (nats, bytes) per evaluation

    def run(context: list[int], targets: list[int]) -> None:
        nonlocal total_nats, n_tokens
        nats = 0.0
        size = int(lengths[targets].sum())
        n_tokens += len(targets)
        if not context:  # no BOS and nothing before: the first token is charged uniformly
            nats += math.log(vocab)
            context, targets = targets[:1], targets[1:]
        if targets:
            inp = context + targets[:-1]
            llm.reset()
            llm.eval(inp)
            lp = _log_softmax(np.asarray(llm.scores[len(context) - 1 : len(inp)]))
            nats += -float(lp[np.arange(len(targets)), targets].sum())
        scored.append((nats, size))
        total_nats += nats

    counter = TextCounter()
    cutter = Segmenter()
    for piece in texts(chunks, separator if schedule.per_document else None):
        if piece is None:
            for seg in cutter.end():
                for ev in schedule.feed(tok.encode(seg)):
                    run(*ev)
            for ev in schedule.end():
                run(*ev)
            counter.end()
            continue
        counter.feed(piece)
        for seg in cutter.feed(piece):
            for ev in schedule.feed(tok.encode(seg)):
                run(*ev)
    done = time.perf_counter()
    parts = []
    if scored:
        per = max(1, math.ceil(len(scored) / PARTS))
        for i in range(0, len(scored), per):
            nats = sum(w[0] for w in scored[i : i + per])
            size = sum(w[1] for w in scored[i : i + per])
            if size:
                parts.append(nats / math.log(2) / size)
    return {
        "tokens": n_tokens, "bytes": counter.bytes, "characters": counter.characters, "words": counter.words,
        "texts": counter.texts, "nats": total_nats, "vocab": vocab, "windows": scheme,
        "window": plan.window, "stride": plan.window if scheme == "disjoint" else plan.stride,
        "bos": plan.bos is not None, "threads": threads, "escaped_bytes": tok.escaped,
        "parts_bits_per_byte": parts, "load_seconds": loaded - started, "score_seconds": done - loaded,
        "notes": list(plan.notes), "library_version": f"llama-cpp-python {llama_cpp.__version__}",
    }
