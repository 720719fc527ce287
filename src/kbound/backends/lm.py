"""The `lm` backend: arithmetic-code the text's tokens with a GGUF language model's next-token probabilities.

`lm:PATH.gguf[,window=N,stride=N,threads=N]`. The text is tokenized reversibly and every token
is coded with integer frequencies made from the model's logits (`kbound.backends.lm_model`),
under the same window schedule `--model-loss measure` scores with. The decoder makes exactly
the calls the encoder made, one token at a time after each block's context batch, with the
same threads, so both see the same logits; the payload then decodes only with the same
llama.cpp build on the same kind of CPU (kbound's round trip checks that it did).

The decoder counted is llama.cpp's libraries and Python wrapper, kbound's source for this
backend, and the model file's bytes as stored: the bound charges the model in full.

Payload: format byte, varint window, varint stride, varint threads, the first 8 bytes of the
model file's sha256, then the range-coded tokens ending with a stop symbol.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import llama_cpp

from kbound.backends import lm_model
from kbound.backends.base import Backend, Param, int_in, read_varint, write_varint
from kbound.units import parse_size

#: Bump when the coding changes: a payload names the coder that wrote it.
FORMAT = 1
_DIGEST = 8
#: Unread payload bytes kept ahead of the decoder: one token moves it on by at most 5.
_AHEAD = 16


def _path(text: str) -> str:
    if not text:
        raise ValueError("empty path")
    return text


def _tokens(lo: int, hi: int) -> Callable[[str], int]:
    """A parser for token counts, written as 512 or 1k (1,024) as a spec shows them."""
    return int_in(lo, hi, "tokens", parse_size)


def _header(window: int, stride: int, threads: int, digest: bytes) -> bytes:
    return bytes([FORMAT]) + write_varint(window) + write_varint(stride) + write_varint(threads) + digest[:_DIGEST]


class _Encoder:
    def __init__(self, model: str, window: int, stride: int | None, threads: int) -> None:
        self.llm, plan = lm_model.open_model(model, window, stride, threads, logits_all=False)
        self.tokens = lm_model.Tokens(self.llm)
        self.predictor = lm_model.Predictor(self.llm, plan)
        self.cutter = lm_model.Segmenter()
        self.rc = lm_model.RangeEncoder()
        self.head = _header(plan.window, plan.stride, threads, lm_model.model_digest(model))

    def _code(self, segments: list[bytes]) -> bytes:
        rc, predictor = self.rc, self.predictor
        for segment in segments:
            for token in self.tokens.encode(segment):
                rc.encode(predictor.next(), token)
                predictor.advance(token)
        out, self.head = self.head + rc.take(), b""
        return out

    def process(self, chunk: bytes) -> bytes:
        return self._code(self.cutter.feed(chunk))

    def finish(self) -> bytes:
        out = self._code(self.cutter.end())
        self.rc.encode(self.predictor.next(), self.predictor.vocab)  # the stop symbol
        self.rc.flush()
        return out + self.rc.take()


class _Decoder:
    def __init__(self, model: str) -> None:
        self.model = model
        self.buf = bytearray()
        self.rd: lm_model.RangeDecoder | None = None
        self.done = False

    def _start(self) -> bool:
        """Read the header and load the model once the header is all here."""
        buf = self.buf
        if not buf:
            return False
        if buf[0] != FORMAT:
            raise ValueError(f"lm payload format {buf[0]}, this decoder reads {FORMAT}")
        try:
            window, pos = read_varint(buf, 1)
            stride, pos = read_varint(buf, pos)
            threads, pos = read_varint(buf, pos)
        except (IndexError, ValueError):
            return False
        if len(buf) < pos + _DIGEST + 9:
            return False
        if buf[pos : pos + _DIGEST] != lm_model.model_digest(self.model)[:_DIGEST]:
            raise ValueError(f"lm payload was coded with another model than {self.model}")
        self.llm, plan = lm_model.open_model(self.model, window, stride, threads, logits_all=False)
        if (plan.window, plan.stride) != (window, stride):
            raise ValueError("lm payload: the model cannot run the window it was coded with")
        self.pieces = lm_model.Tokens(self.llm).pieces
        self.predictor = lm_model.Predictor(self.llm, plan)
        self.rd = lm_model.RangeDecoder(buf, pos + _DIGEST)
        return True

    def _decode(self, ahead: int) -> bytes:
        if self.rd is None and not self._start():
            return b""
        rd, predictor, out = self.rd, self.predictor, []
        assert rd is not None
        while not self.done and len(self.buf) - rd.pos >= ahead:
            token = rd.decode(predictor.next())
            if token == predictor.vocab:
                self.done = True
                break
            out.append(self.pieces[token])
            predictor.advance(token)
        if rd.pos > 1 << 20:  # drop what has been read (the decoder holds the buffer, not a copy)
            del self.buf[: rd.pos]
            rd.pos = 0
        return b"".join(out)

    def process(self, chunk: bytes) -> bytes:
        if self.done and chunk:
            raise ValueError("lm payload has trailing data")
        self.buf += chunk
        return self._decode(_AHEAD)

    def finish(self) -> bytes:
        if self.rd is None and not self._start():
            raise ValueError("lm payload is truncated (no complete header)")
        out = self._decode(0)
        assert self.rd is not None
        if not self.done:
            raise ValueError("lm payload is truncated")
        if self.rd.pos != len(self.buf):
            raise ValueError("lm payload has trailing data")
        return out


class Lm(Backend):
    """Arithmetic coding with a GGUF language model through llama.cpp; the model file counts in the decoder."""

    name = "lm"
    library = "llama-cpp-python"
    summary = "a GGUF language model's next-token probabilities, range-coded (llama.cpp); model bytes counted"
    params = (
        Param("model", _path, None, "the GGUF model file, required (lm:PATH.gguf)"),
        Param("window", _tokens(2, 1 << 20), lm_model.DEFAULT_WINDOW,
              "tokens per evaluation: BOS, left context and new tokens (at most the model's context length)"),
        Param("stride", _tokens(1, 1 << 20), None, "new tokens per block (default: half the window)",
              omit_default=True),
        Param("threads", int_in(1, 1024), 1, "llama.cpp threads; decoding must use the encoder's, so it is recorded"),
    )
    decoder_python = (
        "llama_cpp.llama", "llama_cpp.llama_cpp",
        "llama_cpp._internals", "llama_cpp._ctypes_extensions", "llama_cpp.llama_tokenizer", "llama_cpp._utils",
        "llama_cpp._logger", "llama_cpp._ggml",
    )
    streams = True

    @classmethod
    def library_version(cls) -> str:
        return f"{llama_cpp.__version__}, kbound-lm {FORMAT}"

    def check(self) -> None:
        model, window, stride = self.config["model"], self.config["window"], self.config["stride"]
        if model is None:
            raise ValueError("lm needs a GGUF model file: lm:PATH.gguf")
        if stride is not None and stride >= window:
            raise ValueError(f"lm: stride {stride} leaves no room for context in a window of {window}")
        # kbound's own bounded header scan accepts the file before llama.cpp's C++ parser ever sees it.
        from kbound.backends.gguf_scan import scan_header
        from kbound.errors import KboundError

        try:
            scan_header(Path(model))
        except KboundError as e:
            raise ValueError(f"lm: {e}") from None
        except OSError as e:
            raise ValueError(f"lm: cannot read {model}: {e.strerror or e}") from None

    def identity(self) -> str:
        return lm_model.model_digest(self.config["model"]).hex()

    def compressor(self) -> _Encoder:
        c = self.config
        return _Encoder(c["model"], c["window"], c["stride"], c["threads"])

    def decompressor(self) -> _Decoder:
        return _Decoder(self.config["model"])

    def decoder_libraries(self) -> tuple[str, ...]:
        return (_libllama(),)

    def decoder_data(self) -> tuple[str, ...]:
        return (self.config["model"],)  # the bound charges the model in full


def _libllama() -> str:
    lib: Any = llama_cpp.llama_cpp._lib
    return str(lib._name)
