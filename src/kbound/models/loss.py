"""A GGUF model's own loss on the corpus, measured with llama.cpp in a worker process (`--model-loss measure`).

The model's header has been read and accepted by kbound's bounded scan (`kbound.models.gguf_`)
before llama.cpp sees the file; llama.cpp then runs only in a child process, so a crash in its
C++ parser or kernels is one line of error, not a dead kbound. The corpus is streamed to the
model (see `kbound.backends.lm_model` for the tokenization and `kbound.models.loss_windows` for
the two window schemes). The figures follow lm-evaluation-harness's definitions
(`kbound.models.loss_texts`): the natural-log likelihood summed over the texts scored, divided by
their UTF-8 bytes, words or Unicode characters.

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
from kbound.models.loss_texts import per_unit
from kbound.models.loss_windows import SCHEMES
from kbound.run.signals import Terminated
from kbound.sources.stream import CorpusStream, Selection, scan


@dataclass(frozen=True)
class MeasuredLoss:
    """What the model's log-probabilities give for the text scored, and how it was scored."""

    model: str
    #: The window scheme, `sliding` or `disjoint` (`kbound.models.loss_windows`).
    windows: str
    #: Texts scored apart: the documents (disjoint), or 1, the stream with its separators (sliding).
    texts: int
    tokens: int
    #: UTF-8 bytes, Unicode code points and lm-eval words (whitespace runs + 1 a text) of the texts.
    bytes: int
    characters: int
    words: int
    #: -LL: the natural-log likelihood of every token scored, negated; `bits` is the same in bits.
    nats: float
    bits: float
    bits_per_token: float
    #: -LL/(bytes·ln 2), -LL/(characters·ln 2), exp(-LL/bytes), exp(-LL/words).
    bits_per_byte: float
    bits_per_character: float
    byte_perplexity: float
    word_perplexity: float
    vocab: int
    #: Tokens per evaluation at most, and new tokens per evaluation (sliding: the stride; disjoint: the window).
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


def _score(model: str, selection: Selection, scheme: str, window: int | None, stride: int | None,
           threads: int) -> dict[str, Any]:
    """What the worker runs: llama.cpp scoring the selection; its failures as one `KboundError` line."""
    from kbound.models.llama_worker import LossError, score

    try:
        return score(model, CorpusStream(selection), scheme, window, stride, threads, selection.separator)
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
    windows: str = "sliding",
    window: int | None = None,
    stride: int | None = None,
    sample_bytes: int | None = None,
    seed: int = 0,
    threads: int | None = None,
) -> MeasuredLoss:
    """Score `selection` (or a document sample of about `sample_bytes`) with the GGUF model at `model`.

    `windows` is the scheme (`kbound.models.loss_windows.SCHEMES`); `stride` goes with `sliding` only.

    Raises KboundError with one line when llama.cpp is missing, the model cannot score the text,
    or the worker dies.
    """
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        raise KboundError("measuring a model's loss needs llama.cpp: pip install 'kbound[llm]'")
    if windows not in SCHEMES:
        raise KboundError(f"unknown window scheme {windows!r}: {' or '.join(SCHEMES)}")
    if windows == "disjoint" and stride is not None:
        raise KboundError("--loss-stride goes with --loss-windows sliding: disjoint windows have no overlap")
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
        (result,) = executor.run([Call(_score, (model, chosen, windows, window, stride, threads), "model loss")])
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
    nats = r["nats"]
    unit = per_unit(nats, r["bytes"], r["characters"], r["words"])
    return MeasuredLoss(
        model=model, windows=r["windows"], texts=r["texts"], tokens=r["tokens"], bytes=r["bytes"],
        characters=r["characters"], words=r["words"], nats=nats, bits=nats / math.log(2),
        bits_per_token=nats / math.log(2) / r["tokens"], bits_per_byte=unit.bits_per_byte,
        bits_per_character=unit.bits_per_character, byte_perplexity=unit.byte_perplexity,
        word_perplexity=unit.word_perplexity, vocab=r["vocab"], window=r["window"], stride=r["stride"],
        threads=r["threads"], escaped_bytes=r["escaped_bytes"], sample_seed=seed_used,
        documents=documents if seed_used is not None else None,
        parts_bits_per_byte=tuple(r["parts_bits_per_byte"]), seconds=seconds,
        tokens_per_second=r["tokens"] / r["score_seconds"] if r["score_seconds"] > 0 else math.inf,
        library_version=r["library_version"], notes=tuple(r["notes"]),
    )
