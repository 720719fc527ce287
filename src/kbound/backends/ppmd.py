"""The `ppmd` backend: PPMd variants H (7-Zip's) and I (RAR's) through `pyppmd`.

Payload: variant, order and memory (what the decoder needs to build the same model), the
length of the text, then the PPMd stream. The length is written as a fixed-width LEB128 number
once the stream has ended (the coder's `patch`), so a stream of unknown length can be coded;
pyppmd's end mark cannot be relied on (its decoder reports the end early, or returns one byte
too many, when its output is capped).

Two more faults of pyppmd 1.3 are worked around, and every round trip is still verified: its
encoders go wrong when one `encode` call gets a large buffer (on gcide.txt the output diverged
at byte 32,768 and the decoder stopped or reported corrupt data), so the encoder is fed 64 KiB
at a time; and `encode` keeps a reference to every object it is given (the worker's memory grew
by about a byte per input byte), so it is given the same reusable buffer each time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyppmd

from kbound.backends.base import Backend, Coder, Param, int_in, read_varint, size_in, write_varint

_VARIANTS = "HI"
_PIECE = 1 << 16
#: Bytes of the length field: 7 LEB128 bytes hold up to 2^49 (562 TB), written before the length is known.
_LENGTH_WIDTH = 7
#: The fewest payload bytes given to pyppmd's decoder in one call (but the last).
_MIN_INPUT = 64


def _variant(text: str) -> str:
    if text.upper() not in _VARIANTS:
        raise ValueError("variant is H (PPMd7, 7-Zip) or I (PPMd8, RAR)")
    return text.upper()


class Ppmd(Backend):
    """Prediction by partial matching: an order-N context model with an arithmetic coder."""

    name = "ppmd"
    library = "pyppmd"
    summary = "PPMd (pyppmd); o=order 2-64, mem=SIZE, v=H|I"
    params = (
        Param("o", int_in(2, 64), 6, "model order"),
        Param("mem", size_in(1 << 20, 4000 << 20), 256 << 20, "model memory"),
        Param("v", _variant, "H", "variant: H = PPMd7 (7-Zip), I = PPMd8 (RAR)"),
    )
    decoder_native = ("pyppmd.c._ppmd",)
    decoder_python = ("pyppmd", "pyppmd.c.c_ppmd")
    streams = True

    @classmethod
    def library_version(cls) -> str:
        return str(pyppmd.__version__)

    def check(self) -> None:
        if self.config["mem"] % 1024:
            raise ValueError("ppmd: mem must be a whole number of KiB")

    def compressor(self) -> Coder:
        return _Encoder(self.config["o"], self.config["mem"], self.config["v"])

    def decompressor(self) -> Coder:
        return _Decoder()


class _Encoder:
    def __init__(self, o: int, mem: int, v: str) -> None:
        self._settings = bytes([_VARIANTS.index(v), o]) + write_varint(mem >> 10)
        self._header = self._settings + write_varint(0, _LENGTH_WIDTH)
        self._new: Any = (lambda: pyppmd.Ppmd7Encoder(o, mem)) if v == "H" else (lambda: pyppmd.Ppmd8Encoder(o, mem, 0))
        self._enc: Any = None  # made at the first byte: an empty text has an empty stream
        self._piece = bytearray(_PIECE)
        self._length = 0

    def process(self, chunk: bytes) -> bytes:
        out, self._header = [self._header], b""
        if chunk and self._enc is None:
            self._enc = self._new()
        self._length += len(chunk)
        piece, view = self._piece, memoryview(chunk)
        for i in range(0, len(chunk), _PIECE):
            part = view[i : i + _PIECE]
            if len(part) == _PIECE:
                piece[:] = part
                out.append(bytes(self._enc.encode(piece)))
            else:  # the last, short piece: a new object, kept by pyppmd (one per stream)
                out.append(bytes(self._enc.encode(bytes(part))))
        return b"".join(out)

    def finish(self) -> bytes:
        return self._header + (bytes(self._enc.flush()) if self._enc is not None else b"")

    def patch(self) -> tuple[int, bytes]:
        """The length, known now, written over its placeholder in the header."""
        return len(self._settings), write_varint(self._length, _LENGTH_WIDTH)


class _Decoder:
    """Reads the header (settings and length), then decodes exactly that many bytes."""

    def __init__(self) -> None:
        self._head = b""
        self._dec: Any = None
        self._left = -1
        self._pending = b""

    def _start(self) -> Iterator[bytes]:
        if len(self._head) < 2:
            return
        if self._head[0] >= len(_VARIANTS):
            raise ValueError("not a ppmd payload (unknown variant)")
        variant, o = _VARIANTS[self._head[0]], self._head[1]
        try:
            mem_kib, pos = read_varint(self._head, 2)
            length, pos = read_varint(self._head, pos)
        except ValueError:  # the header has not all arrived yet
            return
        rest, self._head, self._left = self._head[pos:], b"", length
        mem = mem_kib << 10
        if length:
            self._dec = pyppmd.Ppmd7Decoder(o, mem) if variant == "H" else pyppmd.Ppmd8Decoder(o, mem, 0)
        elif rest:
            raise ValueError("ppmd payload has trailing data")
        yield from self._feed(rest)

    def _feed(self, chunk: bytes, last: bool = False) -> Iterator[bytes]:
        # pyppmd's decoder fails (MemoryError, "corrupted input") when its output is capped while
        # input is pending, or when a call brings only a few bytes; asked for everything that is
        # left, it consumes each call's input whole. So its output per call is not capped: it is
        # what this payload piece decodes to (about 5x the piece for text). Once the text is out,
        # nothing more is fed: past its end pyppmd returns garbage or crashes, and the coder's last
        # bytes cannot be told from junk, so the hash check decides.
        if self._left <= 0:
            return
        self._pending += chunk
        if len(self._pending) < _MIN_INPUT and not last:
            return
        chunk, self._pending = self._pending, b""
        out = bytes(self._dec.decode(chunk, self._left))
        self._left -= len(out)
        if out:
            yield out
        while last and self._left > 0:
            out = bytes(self._dec.decode(b"", self._left))
            if not out:
                return
            self._left -= len(out)
            yield out

    def pieces(self, chunk: bytes) -> Iterator[bytes]:
        if self._left < 0:
            self._head += chunk
            yield from self._start()
            return
        yield from self._feed(chunk)

    def process(self, chunk: bytes) -> bytes:
        return b"".join(self.pieces(chunk))

    def finish(self) -> bytes:
        if self._left < 0:
            raise ValueError("truncated ppmd header")
        rest = b"".join(self._feed(b"", last=True)) if self._left else b""
        if self._left:
            raise ValueError(f"decoder stopped {self._left:,} bytes short of the length in the header")
        return rest
