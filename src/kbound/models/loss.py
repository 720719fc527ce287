"""A GGUF model's own loss on the corpus, measured with llama.cpp in a worker process (`--model-loss measure`).

The model's header has been read and accepted by kbound's bounded scan (`kbound.models.gguf_`)
before llama.cpp sees the file; llama.cpp then runs only in a child process, so a crash in its
C++ parser or kernels is one line of error, not a dead kbound. The corpus is streamed to the
model (see `kbound.backends.lm_model` for the tokenization and the sliding windows).

`--loss-sample SIZE` scores a seeded random sample of whole documents of about SIZE bytes
instead of the corpus (the growth curves' document sampling) and says so; the spread across
parts of what was scored is reported either way.
"""

from __future__ import annotations

import math
import os
import signal
import statistics
from dataclasses import dataclass, field
from typing import Any

from kbound.errors import KboundError
from kbound.run.signals import Terminated
from kbound.sources.stream import CorpusStream, Selection, scan


@dataclass(frozen=True)
class MeasuredLoss:
    """What the model's log-probabilities give for the text scored, and how it was scored."""

    model: str
    tokens: int
    bytes: int
    bits: float
    bits_per_token: float
    bits_per_byte: float
    vocab: int
    #: Tokens per evaluation (BOS + left context + new tokens) and new tokens per evaluation.
    window: int
    stride: int
    threads: int
    #: Bytes spelled with single-byte tokens because the tokenizer did not reproduce them.
    escaped_bytes: int
    #: None: the whole corpus; else the sample's seed and what it held.
    sample_seed: int | None
    documents: int | None
    #: Bits per byte of up to 8 consecutive parts of the text scored: the spread.
    parts_bits_per_byte: tuple[float, ...]
    seconds: float
    tokens_per_second: float
    library_version: str
    notes: tuple[str, ...] = field(default=())

    @property
    def spread(self) -> str:
        """min-max (stdev) of the parts, for a sentence."""
        p = self.parts_bits_per_byte
        if len(p) < 2:
            return "one part"
        return f"{min(p):.4f}-{max(p):.4f} bits/byte across {len(p)} parts (stdev {statistics.stdev(p):.4f})"


def _score(model: str, selection: Selection, window: int | None, stride: int | None, threads: int) -> dict[str, Any]:
    """What the worker runs: llama.cpp scoring the selection; its failures as one `KboundError` line."""
    from kbound.models.llama_worker import LossError, score

    try:
        return score(model, CorpusStream(selection), window, stride, threads)
    except ImportError:
        raise KboundError("measuring a model's loss needs llama.cpp: pip install 'kbound[llm]'") from None
    except (LossError, KboundError) as e:
        raise KboundError(str(e)) from None
    except Exception as e:  # llama-cpp-python raises ValueError (and others) for a file it cannot load
        raise KboundError(f"llama.cpp could not run the model: {e or type(e).__name__}") from None


def measure_loss(
    model: str,
    selection: Selection,
    *,
    window: int | None = None,
    stride: int | None = None,
    sample_bytes: int | None = None,
    seed: int = 0,
    threads: int | None = None,
) -> MeasuredLoss:
    """Score `selection` (or a document sample of about `sample_bytes`) with the GGUF model at `model`.

    Raises KboundError with one line when llama.cpp is missing, the model cannot score the text,
    or the worker dies.
    """
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        raise KboundError("measuring a model's loss needs llama.cpp: pip install 'kbound[llm]'")
    if window is not None and window < 2:
        raise KboundError(f"--loss-window must be at least 2 tokens, not {window}")
    if stride is not None and window is not None and stride >= window:
        raise KboundError(f"--loss-stride ({stride}) must be below --loss-window ({window})")
    chosen, seed_used, documents = selection, None, None
    if sample_bytes is not None:
        from kbound.sources.sampling import sample_selections

        stats = scan(selection)
        if stats.documents < 2 and sample_bytes < stats.bytes:
            raise KboundError("--loss-sample takes whole documents, and this corpus is one: give several files, "
                              "or JSON lines with --field")
        if sample_bytes < stats.bytes:
            chosen = sample_selections(selection, stats, [sample_bytes], "documents", seed)[0]
            seed_used = seed
        documents = stats.documents
    threads = threads or max(1, len(os.sched_getaffinity(0)))

    from kbound.run.executor import Call, Failure, LocalExecutor, Stopped

    # llama.cpp runs only in a worker process: a crash in its C++ parser or kernels is one line here.
    executor = LocalExecutor(jobs=1)
    try:
        (result,) = executor.run([Call(_score, (model, chosen, window, stride, threads), "model loss")])
    except Stopped as stop:
        raise Terminated(stop.signum) if stop.signum != signal.SIGINT else KeyboardInterrupt from None
    finally:
        executor.close()
    if isinstance(result, Failure):
        raise KboundError(f"{model}: {result.message.replace('the worker', 'the llama.cpp worker')}")
    r = result
    if r["tokens"] == 0:
        raise KboundError("the corpus is empty: there is no loss to measure")
    seconds = r["load_seconds"] + r["score_seconds"]
    return MeasuredLoss(
        model=model, tokens=r["tokens"], bytes=r["bytes"], bits=r["bits"], bits_per_token=r["bits"] / r["tokens"],
        bits_per_byte=r["bits"] / r["bytes"], vocab=r["vocab"], window=r["window"], stride=r["stride"],
        threads=r["threads"], escaped_bytes=r["escaped_bytes"], sample_seed=seed_used,
        documents=documents if seed_used is not None else None,
        parts_bits_per_byte=tuple(r["parts_bits_per_byte"]), seconds=seconds,
        tokens_per_second=r["tokens"] / r["score_seconds"] if r["score_seconds"] > 0 else math.inf,
        library_version=r["library_version"], notes=tuple(r["notes"]),
    )
