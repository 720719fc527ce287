"""The `cmx2` backend: `cmx` with more inputs, contexts and mixers, and larger tables; the strongest, slowest tier.

See `kbound.backends.cmx2_model` for the model. Payload: varint length, format version,
varint mem in KiB, then the coded bytes; the decoder reads its settings from the header.
"""

from __future__ import annotations

import numpy as np

from kbound.backends import arith, cmx2_model
from kbound.backends.base import Backend, Param, read_varint, size_in, write_varint
from kbound.backends.jit import version_note

#: Bump when the model changes: a payload names the model that wrote it.
FORMAT = 1


def _mem(text: str) -> int:
    return size_in(64 << 20, 8 << 30)(text)


#: As `cmx.tables_mem`, with four times the bytes per input byte and the floor: 18 hashed contexts
#: take a 64-byte bucket per half byte each, so even alice29.txt (152 kB) came out smaller in
#: 256 MiB than in 128 (35,495 bytes against 35,564), and enwik8-head's first MB 0.5 % smaller
#: in 1 GiB than in 256 MiB (bench/CM_RESULTS.md).
TABLE_BYTES_PER_BYTE = 1024
MIN_TABLES = 256 << 20


def tables_mem(mem: int, size: int) -> int:
    """The model memory `cmx2:mem=M` uses for `size` bytes (the payload records it)."""
    want = MIN_TABLES
    while want < TABLE_BYTES_PER_BYTE * size:
        want <<= 1
    return min(mem, want)


class Cmx2(Backend):
    """The strongest context mixing: `cmx`'s model with per-context confidence and certainty inputs,
    three more word contexts, CJK characters as words, and a fourth mixer (by the previous two bytes).

    `mem` bounds the model's tables (2 GiB by default, 1 KiB an input byte, 256 MiB at least);
    the text itself is held as well. The decoder counted is kbound's Python source (this module,
    `cmx2_model`, `cmx_model`, `cm_model`, `arith`, `jit`, `base`); numba only speeds it up.
    """

    name = "cmx2"
    library = "numba"
    summary = "strongest context mixing, paq8-like (numba), about 0.1 MB/s each way; mem=SIZE of model tables"
    params = (
        Param("mem", _mem, 2 << 30, "most model memory (tables) besides the text: 1 KiB an input byte, 256m at least"),
    )
    @classmethod
    def library_version(cls) -> str:
        return f"kbound-cmx2 {FORMAT}, {version_note()}"

    def check(self) -> None:
        if self.config["mem"] % 1024:
            raise ValueError("cmx2: mem must be a whole number of KiB")

    def compress(self, data: bytes) -> bytes:
        mem = tables_mem(self.config["mem"], len(data))
        header = write_varint(len(data)) + bytes([FORMAT]) + write_varint(mem >> 10)
        if not data:
            return header
        src = np.zeros(0, np.uint8)
        tables = cmx2_model.new_tables(mem)
        out, n = cmx2_model.code(np.frombuffer(data, np.uint8).copy(), *tables, False, src, cmx2_model.ALL)
        return header + arith.finish(out, n)

    def decompress(self, payload: bytes) -> bytes:
        length, pos = read_varint(payload)
        if pos >= len(payload):
            raise ValueError("truncated cmx2 header")
        if payload[pos] != FORMAT:
            raise ValueError(f"cmx2 payload format {payload[pos]}, this decoder reads {FORMAT}")
        mem_kib, pos = read_varint(payload, pos + 1)
        if length == 0:
            return b""
        data = np.zeros(length, np.uint8)
        src = np.frombuffer(payload, np.uint8)[pos:].copy()
        cmx2_model.code(data, *cmx2_model.new_tables(mem_kib << 10), True, src, cmx2_model.ALL)
        return data.tobytes()
