"""Counting a corpus's tokens with a local tokenizer.json (the optional `tokenizers` library, extra `tokens`).

Used for bits per token, and for turning a model's loss in nats per token into bits per byte.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kbound.errors import KboundError, fail


@dataclass(frozen=True)
class TokenCount:
    """The corpus counted in tokens by a local tokenizer.json, and the best bound per token."""

    tokenizer: str
    tokens: int
    bits_per_token: float | None
    #: Set when the corpus is not valid UTF-8 and undecodable bytes were replaced before counting.
    note: str | None = None


#: Encode this many characters at a time, so a large corpus never becomes one huge encoding.
_CHUNK_CHARS = 1 << 20


def text_pieces(chunks: Iterable[bytes]) -> Iterator[str]:
    """A byte stream as text (undecodable bytes replaced) in pieces of about `_CHUNK_CHARS`, cut after a newline."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    buf = ""
    for chunk in chunks:
        buf += decoder.decode(chunk)
        while len(buf) >= _CHUNK_CHARS:
            cut = buf.rfind("\n", 0, _CHUNK_CHARS)
            end = cut + 1 if cut > 0 else _CHUNK_CHARS
            yield buf[:end]
            buf = buf[end:]
    buf += decoder.decode(b"", final=True)
    if buf:
        yield buf


def count_tokens(tokenizer_json: Path, text: str | Iterable[str]) -> int:
    """Tokens in `text` (a string, or pieces of one) under the tokenizer in `tokenizer_json` (no special tokens).

    A string is encoded in pieces split at newlines (`text_pieces`), so a count can differ from one
    whole-text encoding by a token or so at each piece boundary.
    """
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise KboundError("counting tokens needs the tokenizers library: pip install 'kbound[tokens]'") from None
    try:
        tok = Tokenizer.from_file(str(tokenizer_json))
    except Exception as e:  # the Rust side raises a bare Exception for every parse error
        raise fail(tokenizer_json, f"not a tokenizer.json the tokenizers library can load: {e}") from None
    # A tokenizer.json may pad or truncate every encoding to a fixed length (all-MiniLM's pads to 128).
    tok.no_padding()
    tok.no_truncation()
    pieces = text_pieces([text.encode("utf-8", "surrogatepass")]) if isinstance(text, str) else text
    return sum(len(tok.encode(piece, add_special_tokens=False).ids) for piece in pieces)


def bits_per_token(bound_bits: float, tokens: int) -> float | None:
    """The bound in bits per token, or None for an empty token count."""
    return bound_bits / tokens if tokens > 0 else None
