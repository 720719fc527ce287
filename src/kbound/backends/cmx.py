"""The `cmx` backend: `cm`'s strong sibling (more contexts, two mixer layers, four APMs), slower.

See `kbound.backends.cmx_model` for the model. Payload: varint length, format version,
varint mem in KiB, then the coded bytes; the decoder reads its settings from the header.
"""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

import numpy as np

from kbound.backends import arith, cmx_model
from kbound.backends.base import Backend, Param, read_varint, size_in, write_varint
from kbound.backends.jit import version_note

#: Bump when the model changes: a payload names the model that wrote it.
FORMAT = 4


def _mem(text: str) -> int:
    return size_in(16 << 20, 8 << 30)(text)


#: Tables for n input bytes: the smallest power of two of at least TABLE_BYTES_PER_BYTE * n
#: bytes and MIN_TABLES, at most `mem`. Fifteen contexts take a 64-byte bucket per half byte
#: each, so the tables fill early: going from 256 MiB to 1 GiB made gcide.txt (40 MB) 3.0 %
#: smaller and foldoc.txt (5.6 MB) 1.3 %, while on alice29.txt (152 kB) it only added 1.1 s
#: of page faults (bench/CM_RESULTS.md).
TABLE_BYTES_PER_BYTE = 256
MIN_TABLES = 64 << 20


def tables_mem(mem: int, size: int, per_byte: int = TABLE_BYTES_PER_BYTE, floor: int = MIN_TABLES) -> int:
    """The model memory `cmx:mem=M` uses for `size` bytes (the payload records it)."""
    want = floor
    while want < per_byte * size:
        want <<= 1
    return min(mem, want)


class Cmx(Backend):
    """Strong context mixing (orders 0-8, words, sparse contexts, match, 2-layer mixing, 4 APMs).

    `mem` bounds the model's tables, as for `cm`, and small inputs get less (`tables_mem`);
    the text itself is held as well. The decoder
    counted is kbound's Python source (this module, `cmx_model`, `cm_model`, `arith`, `jit`,
    `base`); numba only speeds it up. A subclass (`cmx2`) changes the class attributes below.
    """

    name = "cmx"
    library = "numba"
    summary = "strong context mixing, paq-like (numba); mem=SIZE of model tables; slower than cm"
    params = (
        Param("mem", _mem, 1 << 30, "most model memory (tables) besides the text: 256 B an input byte, 64m at least"),
    )
    #: The model module (`new_tables`, `code`, `ALL`), the payload's format number and how
    #: `tables_mem` sizes its tables.
    model: ClassVar[ModuleType] = cmx_model
    format: ClassVar[int] = FORMAT
    table_bytes_per_byte: ClassVar[int] = TABLE_BYTES_PER_BYTE
    min_tables: ClassVar[int] = MIN_TABLES

    @classmethod
    def library_version(cls) -> str:
        return f"kbound-{cls.name} {cls.format}, {version_note()}"

    def check(self) -> None:
        if self.config["mem"] % 1024:
            raise ValueError(f"{self.name}: mem must be a whole number of KiB")

    def compress(self, data: bytes) -> bytes:
        mem = tables_mem(self.config["mem"], len(data), self.table_bytes_per_byte, self.min_tables)
        header = write_varint(len(data)) + bytes([self.format]) + write_varint(mem >> 10)
        if not data:
            return header
        src = np.zeros(0, np.uint8)
        tables = self.model.new_tables(mem)
        out, n = self.model.code(np.frombuffer(data, np.uint8).copy(), *tables, False, src, self.model.ALL)
        return header + arith.finish(out, n)

    def decompress(self, payload: bytes) -> bytes:
        length, pos = read_varint(payload)
        if pos >= len(payload):
            raise ValueError(f"truncated {self.name} header")
        if payload[pos] != self.format:
            raise ValueError(f"{self.name} payload format {payload[pos]}, this decoder reads {self.format}")
        mem_kib, pos = read_varint(payload, pos + 1)
        if length == 0:
            return b""
        data = np.zeros(length, np.uint8)
        src = np.frombuffer(payload, np.uint8)[pos:].copy()
        self.model.code(data, *self.model.new_tables(mem_kib << 10), True, src, self.model.ALL)
        return data.tobytes()
