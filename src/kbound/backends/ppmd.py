"""The `ppmd` backend: PPMd variants H (7-Zip's) and I (RAR's) through `pyppmd`.

pyppmd needs the order, memory and length to decode, so the payload starts with a small
header carrying them: the bound counts everything the decoder reads.

pyppmd 1.3's encoders go wrong when one `encode` call gets a large buffer (on gcide.txt the
output diverges at byte 32,768 of the payload and the decoder stops or reports corrupt data);
fed 64 KiB at a time they round-trip, so every path here feeds the encoder in pieces.
"""

from __future__ import annotations

from typing import Any

import pyppmd

from kbound.backends.base import Backend, Coder, Param, int_in, read_varint, size_in, write_varint
from kbound.backends.stream import run_coder

_VARIANTS = "HI"
_PIECE = 1 << 16


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
    decoder_python = ("pyppmd", "pyppmd.c.c_ppmd", "kbound.backends.base", "kbound.backends.stream")
    seconds_per_mb = 0.8
    streams = True

    def expected_seconds_per_mb(self) -> float:
        # PPM decodes as slowly as it encodes; order 6 (H) 0.37 and order 8 (I) 0.48 s/MB each way on gcide.txt.
        return 0.35 + 0.07 * int(self.config["o"])

    @classmethod
    def library_version(cls) -> str:
        return str(pyppmd.__version__)

    def check(self) -> None:
        if self.config["mem"] % 1024:
            raise ValueError("ppmd: mem must be a whole number of KiB")

    def compress(self, data: bytes) -> bytes:
        return run_coder(self.compressor(len(data)), data)

    def decompress(self, payload: bytes) -> bytes:
        return run_coder(self.decompressor(), payload)

    def compressor(self, size: int) -> Coder:
        return _Encoder(size, self.config["o"], self.config["mem"], self.config["v"])

    def decompressor(self) -> Coder:
        return _Decoder()


class _Encoder:
    def __init__(self, size: int, o: int, mem: int, v: str) -> None:
        self._header = write_varint(size) + bytes([_VARIANTS.index(v), o]) + write_varint(mem >> 10)
        self._enc: Any = None
        if size:
            self._enc = pyppmd.Ppmd7Encoder(o, mem) if v == "H" else pyppmd.Ppmd8Encoder(o, mem, 0)

    def process(self, chunk: bytes) -> bytes:
        out, self._header = [self._header], b""
        if chunk and self._enc is None:
            raise ValueError("ppmd: more input than the size given")
        out += [bytes(self._enc.encode(chunk[i : i + _PIECE])) for i in range(0, len(chunk), _PIECE)]
        return b"".join(out)

    def finish(self) -> bytes:
        return self._header + (bytes(self._enc.flush()) if self._enc is not None else b"")


class _Decoder:
    """Reads the header (settings and length), then decodes until `length` bytes have come out."""

    def __init__(self) -> None:
        self._head = b""
        self._dec: Any = None
        self._left = -1

    def _start(self) -> bytes:
        # The payload describes itself; the decoder reads its settings from the header.
        try:
            length, pos = read_varint(self._head)
            if len(self._head) < pos + 2:
                return b""
            variant, o = _VARIANTS[self._head[pos]], self._head[pos + 1]
            mem_kib, pos = read_varint(self._head, pos + 2)
        except ValueError:  # the header has not all arrived yet
            return b""
        rest, self._head, self._left = self._head[pos:], b"", length
        mem = mem_kib << 10
        if length:
            self._dec = pyppmd.Ppmd7Decoder(o, mem) if variant == "H" else pyppmd.Ppmd8Decoder(o, mem, 0)
        return self._feed(rest)

    def _feed(self, chunk: bytes) -> bytes:
        if self._dec is None:
            if chunk:
                raise ValueError("ppmd payload has trailing data")
            return b""
        out = bytes(self._dec.decode(chunk, self._left)) if self._left else b""
        self._left -= len(out)
        return out

    def process(self, chunk: bytes) -> bytes:
        if self._left < 0:
            self._head += chunk
            return self._start()
        return self._feed(chunk)

    def finish(self) -> bytes:
        if self._left < 0:
            raise ValueError("truncated length header")
        out = [b""]
        while self._left > 0:
            more = bytes(self._dec.decode(b"", self._left))
            if not more:
                break
            self._left -= len(more)
            out.append(more)
        if self._left:
            raise ValueError(f"decoder stopped {self._left:,} bytes short of the length in the header")
        return b"".join(out)
