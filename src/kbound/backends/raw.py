"""The `raw` backend: the corpus stored as is behind a length header, the bound every codec must beat."""

from __future__ import annotations

import platform

from kbound.backends.base import Backend, read_varint, write_varint


class Raw(Backend):
    """Stores the bytes unchanged; like lzbench's memcpy row, it gives every figure a floor."""

    name = "raw"
    library = "python"
    summary = "the corpus as is plus a LEB128 length header; no decoder beyond the reference machine"
    seconds_per_mb = 0.001
    decoder_python = ("kbound.backends.base",)  # read_varint

    @classmethod
    def library_version(cls) -> str:
        return platform.python_version()

    def compress(self, data: bytes) -> bytes:
        return write_varint(len(data)) + data

    def decompress(self, payload: bytes) -> bytes:
        length, pos = read_varint(payload)
        body = payload[pos:]
        if len(body) != length:
            raise ValueError(f"header says {length} bytes, payload holds {len(body)}")
        return body
