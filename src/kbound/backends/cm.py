"""The `cm` backend: context mixing in the manner of lpaq1, with kbound's arithmetic coder.

See `kbound.backends.cm_model` for the model. Payload: varint length, format version,
varint mem in KiB, then the coded bytes; the decoder reads its settings from the header.
"""

from __future__ import annotations

import numpy as np

from kbound.backends import arith, cm_model
from kbound.backends.base import Backend, Param, read_varint, size_in, write_varint
from kbound.backends.jit import version_note

#: Bump when the model changes: a payload names the model that wrote it.
FORMAT = 4


def _mem(text: str) -> int:
    return size_in(16 << 20, 8 << 30)(text)


class Cm(Backend):
    """Context mixing (orders 0-6, words, match model, mixer, SSE) with a binary arithmetic coder.

    `mem` bounds the model's tables (one eighth for the match table, the rest mostly for the
    hashed contexts); the text itself is held as well, as the match model reads it. The
    decoder counted is kbound's Python source (this module, `cm_model`, `arith`, `base`):
    the same functions run as plain Python where numba is missing (or NUMBA_DISABLE_JIT=1),
    only slower, so numba and LLVM are a speed-up of the reference machine (CPython with numpy), not part of the
    decoder.
    """

    name = "cm"
    library = "numba"
    summary = "context mixing, lpaq1-like (numba); mem=SIZE of model tables; decoder = kbound's source"
    params = (Param("mem", _mem, 256 << 20, "model memory (tables), besides the text itself"),)

    @classmethod
    def library_version(cls) -> str:
        return f"kbound-cm {FORMAT}, {version_note()}"

    def check(self) -> None:
        if self.config["mem"] % 1024:
            raise ValueError("cm: mem must be a whole number of KiB")

    def compress(self, data: bytes) -> bytes:
        mem = self.config["mem"]
        header = write_varint(len(data)) + bytes([FORMAT]) + write_varint(mem >> 10)
        if not data:
            return header
        src = np.zeros(0, np.uint8)
        out, n = cm_model.code(np.frombuffer(data, np.uint8).copy(), *cm_model.new_tables(mem), False, src)
        return header + arith.finish(out, n)

    def decompress(self, payload: bytes) -> bytes:
        length, pos = read_varint(payload)
        if pos >= len(payload):
            raise ValueError("truncated cm header")
        if payload[pos] != FORMAT:
            raise ValueError(f"cm payload format {payload[pos]}, this decoder reads {FORMAT}")
        mem_kib, pos = read_varint(payload, pos + 1)
        if length == 0:
            return b""
        data = np.zeros(length, np.uint8)
        cm_model.code(data, *cm_model.new_tables(mem_kib << 10), True, np.frombuffer(payload, np.uint8)[pos:].copy())
        return data.tobytes()
