"""Counting a corpus's tokens with a local tokenizer.json (the optional `tokenizers` library, extra `tokens`).

Used for bits per token, and for turning a model's loss in nats per token into bits per byte.
"""

from __future__ import annotations

from pathlib import Path

from kbound.errors import KboundError
from kbound.models.info import fail

#: Encode this many characters at a time, so a large corpus never becomes one huge encoding.
_CHUNK_CHARS = 1 << 20


def count_tokens(tokenizer_json: Path, text: str) -> int:
    """Tokens in `text` under the tokenizer in `tokenizer_json` (no special tokens added).

    Text is encoded in chunks split at newlines, so a count can differ from one whole-text
    encoding by a token or so at each chunk boundary.
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
    total, start = 0, 0
    while start < len(text):
        end = min(len(text), start + _CHUNK_CHARS)
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        total += len(tok.encode(text[start:end], add_special_tokens=False).ids)
        start = end
    return total


def bits_per_token(bound_bits: float, tokens: int) -> float | None:
    """The bound in bits per token, or None for an empty token count."""
    return bound_bits / tokens if tokens > 0 else None
