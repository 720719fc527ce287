"""What a measured loss is divided by: the texts scored, and their bytes, characters and words.

lm-evaluation-harness scores each document on its own and divides the summed natural-log
likelihood by per-document counts added up: bytes as UTF-8 and words as
`len(re.split(r"\\s+", doc))`. Huang et al. (2024) divide by characters, `len(doc)` in Unicode
code points. Both are counted here as the stream passes, without holding a document.
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: lm-eval's word separator (a `str` pattern: Unicode whitespace, which includes the separator \x1e).
_SPACE = re.compile(r"\s+")


def texts(chunks: Iterable[bytes], separator: bytes | None) -> Iterator[bytes | None]:
    """The stream's bytes, with None after each text: each document when `separator` is given, else the whole stream.

    The separator itself belongs to no text. An empty stream is one empty text, as lm-eval would
    score an empty document (it counts one word).
    """
    if not separator:
        yield from (c for c in chunks if c)
        yield None
        return
    keep = len(separator) - 1  # a separator may straddle two chunks
    buf = b""
    for chunk in chunks:
        buf += chunk
        while (i := buf.find(separator)) >= 0:
            if i:
                yield buf[:i]
            yield None
            buf = buf[i + len(separator) :]
        if len(buf) > keep:
            yield buf[: len(buf) - keep]
            buf = buf[len(buf) - keep :]
    if buf:
        yield buf
    yield None


class TextCounter:
    """Bytes, code points and lm-eval words of texts fed a piece at a time, summed over texts."""

    def __init__(self) -> None:
        self.texts = self.bytes = self.characters = self.words = 0
        self._start()

    def _start(self) -> None:
        # Bytes that are not UTF-8 count one character each (surrogateescape), as the lm backend spells them.
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self._in_space = False

    def feed(self, data: bytes) -> None:
        """Count the next bytes of the current text."""
        self.bytes += len(data)
        self._count(self._decoder.decode(data))

    def _count(self, text: str) -> None:
        self.characters += len(text)
        for m in _SPACE.finditer(text):
            if not (m.start() == 0 and self._in_space):  # a run carried over from the last piece is one run
                self.words += 1
        if text:
            self._in_space = _SPACE.fullmatch(text[-1]) is not None

    def end(self) -> None:
        """Close the current text: its words are its whitespace runs + 1, as `re.split` counts them."""
        self._count(self._decoder.decode(b"", final=True))
        self.words += 1
        self.texts += 1
        self._start()


@dataclass(frozen=True)
class PerUnit:
    """lm-eval's and Huang et al.'s figures from a summed log-likelihood of `-nats`."""

    bits_per_byte: float
    bits_per_character: float
    byte_perplexity: float
    word_perplexity: float


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:  # more than ~709 nats a word: a perplexity past float64
        return math.inf


def per_unit(nats: float, n_bytes: int, characters: int, words: int) -> PerUnit:
    """bits_per_byte = -LL/(bytes·ln 2), byte_perplexity = exp(-LL/bytes), word_perplexity = exp(-LL/words)."""
    ln2 = math.log(2)
    return PerUnit(
        bits_per_byte=nats / (n_bytes * ln2) if n_bytes else math.nan,
        bits_per_character=nats / (characters * ln2) if characters else math.nan,
        byte_perplexity=_exp(nats / n_bytes) if n_bytes else math.nan,
        word_perplexity=_exp(nats / words) if words else math.nan,
    )
