"""The `ppmd` backend: PPMd variants H (7-Zip's) and I (RAR's) through `pyppmd`.

pyppmd needs the order, memory and length to decode, so the payload starts with a small
header carrying them: the bound counts everything the decoder reads.
"""

from __future__ import annotations

import pyppmd

from kbound.backends.base import Backend, Param, int_in, read_varint, size_in, write_varint

_VARIANTS = "HI"


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
    decoder_python = ("pyppmd", "pyppmd.c.c_ppmd", "kbound.backends.base")
    seconds_per_mb = 0.6

    @classmethod
    def library_version(cls) -> str:
        return str(pyppmd.__version__)

    def check(self) -> None:
        if self.config["mem"] % 1024:
            raise ValueError("ppmd: mem must be a whole number of KiB")

    def compress(self, data: bytes) -> bytes:
        o, mem, v = self.config["o"], self.config["mem"], self.config["v"]
        header = write_varint(len(data)) + bytes([_VARIANTS.index(v), o]) + write_varint(mem >> 10)
        if not data:
            return header
        encoder = pyppmd.Ppmd7Encoder(o, mem) if v == "H" else pyppmd.Ppmd8Encoder(o, mem, 0)
        return header + bytes(encoder.encode(data)) + bytes(encoder.flush())

    def decompress(self, payload: bytes) -> bytes:
        # The payload describes itself; the decoder reads its settings from the header.
        length, pos = read_varint(payload)
        variant, o = _VARIANTS[payload[pos]], payload[pos + 1]
        mem_kib, pos = read_varint(payload, pos + 2)
        if length == 0:
            return b""
        mem = mem_kib << 10
        decoder = pyppmd.Ppmd7Decoder(o, mem) if variant == "H" else pyppmd.Ppmd8Decoder(o, mem, 0)
        out = bytes(decoder.decode(payload[pos:], length))
        if len(out) != length:
            raise ValueError(f"decoder returned {len(out):,} of {length:,} bytes")
        return out
