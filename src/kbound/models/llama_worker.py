"""What runs inside the llama.cpp worker process: tokenize a corpus reversibly and score it with a GGUF model.

Imported only in the worker (`kbound.models.loss` starts it): llama.cpp parses the GGUF file in
C++, so a crash there ends this process, not kbound. The corpus is streamed, never held: text
is tokenized a segment at a time (about 64 KiB, cut after a newline) and scored in windows.

Reversible tokenization: a segment's tokens are kept only when their pieces (each token's bytes
on its own) join back to the segment's exact bytes. A segment that does not (invalid UTF-8,
which the tokenizer replaces with U+FFFD, or a tokenizer that normalises) is tried line by
line, and a line that still does not is spelled with the vocabulary's single-byte tokens. A
vocabulary without a token for some byte that occurs there fails the run with one line.

Windows (lm-eval's rolling log-likelihood, with overlap): every token is scored exactly once.
A window holds the beginning-of-sequence token (when the model has one), up to `window -
stride - 1` tokens of left context and `stride` new tokens, evaluated in one batch; the new
tokens' log-probabilities are summed in float64. Without a BOS token the corpus's first token
has nothing to be predicted from and is charged log2(vocabulary) bits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

SEGMENT = 64 << 10
#: Tokens per evaluation when --loss-window is not given (or the model's context length, if shorter).
DEFAULT_WINDOW = 1024
#: Windows whose bits are summed into one part, for the spread across parts.
PARTS = 8


class LossError(Exception):
    """The model cannot score this corpus (one line for the user)."""


def segments(chunks: Iterable[bytes], size: int = SEGMENT) -> Iterator[bytes]:
    """The stream cut into pieces of about `size` bytes, each ending after a newline where one is near."""
    buf = b""
    for chunk in chunks:
        buf += chunk
        while len(buf) >= size:
            cut = buf.rfind(b"\n", 0, size) + 1 or size
            yield buf[:cut]
            buf = buf[cut:]
    if buf:
        yield buf


class Tokens:
    """Reversible tokenization with one model's vocabulary."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm
        self.pieces = [llm.detokenize([t]) for t in range(llm.n_vocab())]
        self.byte_token: dict[int, int] = {}
        for t, piece in enumerate(self.pieces):
            if len(piece) == 1 and piece[0] not in self.byte_token:
                self.byte_token[piece[0]] = t
        #: Bytes spelled with single-byte tokens because their tokens did not join back to them.
        self.escaped = 0

    def _fits(self, data: bytes, tokens: list[int]) -> bool:
        return b"".join(self.pieces[t] for t in tokens) == data

    def encode(self, data: bytes, *, by_lines: bool = True) -> list[int]:
        """Tokens whose pieces join to exactly `data`; raises LossError if the vocabulary cannot spell it."""
        tokens: list[int] = self.llm.tokenize(data, add_bos=False, special=False)
        if self._fits(data, tokens):
            return tokens
        if by_lines and b"\n" in data.rstrip(b"\n"):
            return [t for line in data.splitlines(keepends=True) for t in self.encode(line, by_lines=False)]
        missing = sorted(set(data) - set(self.byte_token))
        if missing:
            raise LossError(f"the model's vocabulary cannot spell byte 0x{missing[0]:02x}, and its tokenizer does "
                            "not reproduce this text exactly")
        self.escaped += len(data)
        return [self.byte_token[b] for b in data]


_LOG_CALLBACK: Any = None


def _quiet(llama_cpp: Any) -> None:
    """Send llama.cpp's log lines nowhere: kbound's stderr carries its own one-line errors."""
    global _LOG_CALLBACK

    def drop(level: int, text: bytes, user_data: Any) -> None:
        pass

    _LOG_CALLBACK = llama_cpp.llama_log_callback(drop)  # kept alive: llama.cpp calls it later
    llama_cpp.llama_log_set(_LOG_CALLBACK, None)


def _log_softmax(rows: np.ndarray) -> np.ndarray:
    x = rows.astype(np.float64)
    x -= x.max(axis=1, keepdims=True)
    out: np.ndarray = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    return out


def score(model: str, chunks: Iterable[bytes], window: int | None, stride: int | None, threads: int) -> dict[str, Any]:
    """Bits of every token of the stream under the model; the facts `kbound.models.loss.MeasuredLoss` holds."""
    import llama_cpp

    _quiet(llama_cpp)
    started = time.perf_counter()
    notes = []

    def load(n_ctx: int) -> Any:
        return llama_cpp.Llama(model, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, n_threads=threads,
                               n_threads_batch=threads, logits_all=True, verbose=False)

    # The window must fit the model's own context length.
    want = window or DEFAULT_WINDOW
    llm = load(want)
    trained = llm._model.n_ctx_train()
    if 0 < trained < want:
        if window:
            notes.append(f"window {want} tokens cut to the model's context length, {trained}")
        want = trained
        llm = load(want)
    step = stride or max(1, want // 2)
    bos = llm.token_bos() if llm._model.add_bos_token() and llm.token_bos() >= 0 else None
    prefix = [] if bos is None else [bos]
    step = min(step, want - len(prefix))
    if step < 1:
        raise LossError(f"a window of {want} tokens leaves no room to score one")
    context = want - len(prefix) - step
    vocab = llm.n_vocab()
    tok = Tokens(llm)
    loaded = time.perf_counter()

    lengths = np.array([len(p) for p in tok.pieces], np.int64)
    pending: list[int] = []  # tokens not scored yet, after `kept` of left context
    kept: list[int] = []
    total_bits = 0.0
    n_tokens = n_bytes = 0
    windows: list[tuple[float, int]] = []  # (bits, bytes) per window
    first = True

    def run(targets: list[int]) -> None:
        nonlocal total_bits, n_tokens, n_bytes, first, kept
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
        first = False
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
        "context": context, "bos": bos is not None, "threads": threads, "escaped_bytes": tok.escaped,
        "parts_bits_per_byte": parts, "load_seconds": loaded - started, "score_seconds": done - loaded,
        "notes": notes, "library_version": f"llama-cpp-python {llama_cpp.__version__}",
    }
