"""Coding text with a language model through llama.cpp: reversible tokens, the window schedule, a range coder.

Shared by the `lm` backend (which codes the tokens) and `kbound.models.llama_worker` (which
only scores them), so that a measured loss and an LM-coded payload see the same tokens with the
same left context. Runs only in worker processes: llama.cpp parses the GGUF file in C++.

Reversible tokenization: a segment's tokens (segments of about 64 KiB, cut after a newline) are
kept only when their pieces (each token's bytes on its own) join back to the segment's exact
bytes. A segment that does not (a tokenizer that normalises) is tried line by line, and a line
that still does not is spelled with the vocabulary's single-byte tokens, as is every run of
invalid UTF-8. A vocabulary without a token for some byte that occurs there fails with one line.

The window schedule (lm-eval's rolling log-likelihood, with overlap): tokens go in blocks of
`stride`; a block is predicted from the beginning-of-sequence token (when the model has one)
and the `context` tokens before the block, so every token is predicted exactly once. Without a
BOS token the very first token has nothing to be predicted from and is coded uniformly.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SEGMENT = 64 << 10
#: Tokens per evaluation when no window is given (or the model's context length, if shorter).
DEFAULT_WINDOW = 1024
#: Probability mass spread over the vocabulary as integer frequencies; every token gets at least 1.
SCALE = 1 << 30


class LossError(Exception):
    """The model cannot code or score this text (one line for the user)."""


class Segmenter:
    """Cuts a stream fed in pieces into segments of about `size` bytes, ending after a newline where one is near."""

    def __init__(self, size: int = SEGMENT) -> None:
        self.size = size
        self._buf = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """The segments complete once `chunk` is added."""
        self._buf += chunk
        out = []
        while len(self._buf) >= self.size:
            cut = self._buf.rfind(b"\n", 0, self.size) + 1 or self.size
            out.append(self._buf[:cut])
            self._buf = self._buf[cut:]
        return out

    def end(self) -> list[bytes]:
        """The last, shorter segment (if any bytes are left)."""
        rest, self._buf = self._buf, b""
        return [rest] if rest else []


def segments(chunks: Iterable[bytes], size: int = SEGMENT) -> Iterator[bytes]:
    """The stream cut as `Segmenter` cuts it."""
    cutter = Segmenter(size)
    for chunk in chunks:
        yield from cutter.feed(chunk)
    yield from cutter.end()


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

    def encode(self, data: bytes) -> list[int]:
        """Tokens whose pieces join to exactly `data`; raises LossError if the vocabulary cannot spell it.

        Invalid UTF-8 never reaches llama.cpp's tokenizer, which aborts the process on some of it
        ("invalid codepoint", seen on random bytes): each run of such bytes is spelled byte by byte.
        """
        text = data.decode("utf-8", "surrogateescape")
        out: list[int] = []
        for i, part in enumerate(_INVALID.split(text)):
            raw = part.encode("utf-8", "surrogateescape")
            out += self._spell(raw) if i % 2 else self._valid(raw) if raw else []
        return out

    def _valid(self, data: bytes, *, by_lines: bool = True) -> list[int]:
        tokens: list[int] = self.llm.tokenize(data, add_bos=False, special=False)
        if self._fits(data, tokens):
            return tokens
        if by_lines and b"\n" in data.rstrip(b"\n"):
            return [t for line in data.splitlines(keepends=True) for t in self._valid(line, by_lines=False)]
        return self._spell(data)

    def _spell(self, data: bytes) -> list[int]:
        missing = sorted(set(data) - set(self.byte_token))
        if missing:
            raise LossError(f"the model's vocabulary cannot spell byte 0x{missing[0]:02x}, and its tokenizer does "
                            "not reproduce this text exactly")
        self.escaped += len(data)
        return [self.byte_token[b] for b in data]


#: Runs of bytes that are not UTF-8, as `surrogateescape` decodes them (U+DC80..U+DCFF).
_INVALID = re.compile("([\udc80-\udcff]+)")


_LOG_CALLBACK: Any = None


def quiet(llama_cpp: Any) -> None:
    """Send llama.cpp's log lines nowhere: kbound's stderr carries its own one-line errors."""
    global _LOG_CALLBACK

    def drop(level: int, text: bytes, user_data: Any) -> None:
        pass

    _LOG_CALLBACK = llama_cpp.llama_log_callback(drop)  # kept alive: llama.cpp calls it later
    llama_cpp.llama_log_set(_LOG_CALLBACK, None)


@dataclass(frozen=True)
class Plan:
    """How a model is run over a text: tokens per evaluation, new tokens per block, left context."""

    window: int
    stride: int
    context: int
    bos: int | None
    threads: int
    notes: tuple[str, ...] = ()

    @property
    def prefix(self) -> list[int]:
        """What every block starts with: the BOS token, or nothing."""
        return [] if self.bos is None else [self.bos]


#: Set once this process has loaded a model: llama.cpp's thread pool then lives here, and a forked
#: child of this process hangs in its first evaluation (kbound.run.engine spawns instead).
MODEL_LOADED = False


def open_model(
    model: str, window: int | None, stride: int | None, threads: int, *, logits_all: bool
) -> tuple[Any, Plan]:
    """Load the model with llama.cpp and settle the schedule; the window is cut to the model's context length.

    `logits_all` keeps every position's logits (scoring a block in one batch); the coder needs the
    last position's alone.
    """
    import llama_cpp

    from kbound.backends.gguf_scan import scan_header

    global MODEL_LOADED
    quiet(llama_cpp)
    MODEL_LOADED = True

    def load(n_ctx: int) -> Any:
        return llama_cpp.Llama(model, n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, n_threads=threads,
                               n_threads_batch=threads, logits_all=logits_all, verbose=False)

    notes = []
    want = window or DEFAULT_WINDOW
    # The limit is read from the header first: a context as long as an oversized window may not even be allocated.
    trained = scan_header(Path(model))  # the lm backend's check and --model have scanned it already
    if trained is not None and trained < want:
        if window:
            notes.append(f"window {want} tokens cut to the model's context length, {trained}")
        want = trained
    llm = load(want)
    trained = llm._model.n_ctx_train()
    if 0 < trained < want:  # a header that did not say, read by llama.cpp
        if window:
            notes.append(f"window {want} tokens cut to the model's context length, {trained}")
        want = trained
        llm = load(want)
    bos = llm.token_bos() if llm._model.add_bos_token() and llm.token_bos() >= 0 else None
    step = min(stride or max(1, want // 2), want - (bos is not None))
    if step < 1:
        raise LossError(f"a window of {want} tokens leaves no room to predict one")
    return llm, Plan(want, step, want - (bos is not None) - step, bos, threads, tuple(notes))


@functools.cache
def _digest(path: str, size: int, mtime_ns: int, ctime_ns: int) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.digest()


def model_digest(path: str) -> bytes:
    """The model file's sha256 (remembered while the file's size, modification and change times stay the same)."""
    st = os.stat(path)
    return _digest(os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def frequencies(logits: np.ndarray) -> np.ndarray:
    """Cumulative integer frequencies (a leading 0) of every token and of the stop symbol after them.

    softmax in float64, then floor(p * SCALE) + 1: deterministic for the same logits, every token
    (and stop, with 1) codable. The total stays below 2^31.
    """
    x = logits.astype(np.float64)
    x -= x.max()
    p = np.exp(x)
    p /= p.sum()
    cum = np.zeros(len(p) + 2, np.int64)
    np.cumsum((p * SCALE).astype(np.int64) + 1, out=cum[1:-1])
    cum[-1] = cum[-2] + 1
    return cum


class Predictor:
    """The next token's frequencies under the window schedule; both coding directions step it alike.

    A block starts by evaluating the prefix and left context in one batch; within a block each
    token is evaluated on its own as soon as it is known. Encoder and decoder make exactly the
    same llama.cpp calls in the same order, so they see bit-identical logits.
    """

    def __init__(self, llm: Any, plan: Plan) -> None:
        self.llm, self.plan = llm, plan
        self.vocab = llm.n_vocab()
        self._uniform = np.arange(self.vocab + 2, dtype=np.int64)
        self._history: deque[int] = deque(maxlen=max(plan.context, 1))
        self._in_block = 0
        self.tokens = 0

    def _logits(self) -> np.ndarray:
        return np.ctypeslib.as_array(self.llm._ctx.get_logits_ith(-1), shape=(self.vocab,))

    def next(self) -> np.ndarray:
        """Cumulative frequencies for the next token (index `vocab` is the stop symbol)."""
        if self._in_block == 0:
            context = self.plan.prefix + (list(self._history) if self.plan.context else [])
            self.llm.reset()
            if not context:
                return self._uniform
            self.llm.eval(context)
        return frequencies(self._logits())

    def advance(self, token: int) -> None:
        """Take the token just coded: evaluate it unless it closes its block."""
        self._history.append(token)
        self.tokens += 1
        self._in_block += 1
        if self._in_block == self.plan.stride:
            self._in_block = 0
        else:
            self.llm.eval([token])


_TOP = 1 << 56
_MASK = (1 << 64) - 1


class RangeEncoder:
    """A 64-bit range coder with carry propagation (LZMA's scheme, widened) over cumulative frequencies."""

    def __init__(self) -> None:
        self.low, self.range, self.cache, self.cache_size = 0, _MASK, 0, 1
        self.out = bytearray()

    def encode(self, cum: np.ndarray, symbol: int) -> None:
        """Code `symbol`, whose interval is [cum[symbol], cum[symbol + 1]) of cum[-1]."""
        r = self.range // int(cum[-1])
        lo = int(cum[symbol])
        self.low += r * lo
        self.range = r * (int(cum[symbol + 1]) - lo)
        while self.range < _TOP:
            self.range <<= 8
            self._shift()

    def _shift(self) -> None:
        if (self.low & _MASK) < (0xFF << 56) or self.low > _MASK:
            carry = self.low >> 64
            byte = self.cache
            while self.cache_size:
                self.out.append((byte + carry) & 0xFF)
                byte = 0xFF
                self.cache_size -= 1
            self.cache = (self.low >> 56) & 0xFF
        self.cache_size += 1
        self.low = (self.low << 8) & _MASK

    def flush(self) -> None:
        """Push out the last bytes; the decoder then reads exactly what was written."""
        for _ in range(9):
            self._shift()

    def take(self) -> bytes:
        """The bytes ready so far (removed from the coder)."""
        out = bytes(self.out)
        self.out.clear()
        return out


class RangeDecoder:
    """Inverts `RangeEncoder` over a buffer that may still grow; `pos` is how far it has read."""

    def __init__(self, buf: bytearray, pos: int) -> None:
        if len(buf) < pos + 9 or buf[pos] != 0:
            raise ValueError("lm payload: the coded stream is truncated or damaged")
        self.buf = buf
        self.code = int.from_bytes(buf[pos + 1 : pos + 9], "big")
        self.range = _MASK
        self.pos = pos + 9

    def decode(self, cum: np.ndarray) -> int:
        """The next symbol under these cumulative frequencies."""
        r = self.range // int(cum[-1])
        value = self.code // r
        if value >= int(cum[-1]):
            raise ValueError("lm payload is damaged (a code value outside the model's distribution)")
        symbol = int(np.searchsorted(cum, value, side="right")) - 1
        lo = int(cum[symbol])
        self.code -= r * lo
        self.range = r * (int(cum[symbol + 1]) - lo)
        while self.range < _TOP:
            if self.pos >= len(self.buf):
                raise ValueError("lm payload is truncated")
            self.range <<= 8
            self.code = ((self.code << 8) | self.buf[self.pos]) & _MASK
            self.pos += 1
        return symbol
