"""The `raw` backend: the corpus stored as is behind a length header, the bound every codec must beat."""

from __future__ import annotations

import platform

from kbound.backends.base import Backend, Coder, read_varint, write_varint
from kbound.backends.stream import run_coder


class Raw(Backend):
    """Stores the bytes unchanged; like lzbench's memcpy row, it gives every figure a floor."""

    name = "raw"
    library = "python"
    summary = "the corpus as is plus a LEB128 length header; no decoder beyond the reference machine"
    seconds_per_mb = 0.001
    streams = True
    decoder_python = ("kbound.backends.base", "kbound.backends.stream")  # read_varint, run_coder

    @classmethod
    def library_version(cls) -> str:
        return platform.python_version()

    def compress(self, data: bytes) -> bytes:
        return run_coder(self.compressor(len(data)), data)

    def decompress(self, payload: bytes) -> bytes:
        return run_coder(self.decompressor(), payload)

    def compressor(self, size: int) -> Coder:
        return _Writer(size)

    def decompressor(self) -> Coder:
        return _Reader()


class _Writer:
    """The header, then the input as it comes; checks that exactly `size` bytes came."""

    def __init__(self, size: int) -> None:
        self._head, self._left = write_varint(size), size

    def process(self, chunk: bytes) -> bytes:
        self._left -= len(chunk)
        if self._left < 0:
            raise ValueError("raw: more input than the size given")
        out, self._head = self._head + chunk, b""
        return out

    def finish(self) -> bytes:
        if self._left:
            raise ValueError(f"raw: input ended {self._left:,} bytes short of the size given")
        return self._head


class _Reader:
    """Reads the length header, then passes the body through, checking its length at the end."""

    def __init__(self) -> None:
        self._head = b""
        self._left = -1

    def process(self, chunk: bytes) -> bytes:
        if self._left < 0:
            self._head += chunk
            try:
                self._left, pos = read_varint(self._head)
            except ValueError:  # the header has not all arrived yet
                return b""
            chunk, self._head = self._head[pos:], b""
        if len(chunk) > self._left:
            raise ValueError("raw payload has trailing data")
        self._left -= len(chunk)
        return chunk

    def finish(self) -> bytes:
        if self._left != 0:
            raise ValueError("truncated raw payload" if self._left > 0 else "truncated length header")
        return b""
