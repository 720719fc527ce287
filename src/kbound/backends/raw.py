"""The `raw` backend: the corpus stored as is, in length-prefixed pieces, the bound every codec must beat."""

from __future__ import annotations

import platform

from kbound.backends.base import Backend, Coder, read_varint, write_varint


class Raw(Backend):
    """Stores the bytes unchanged; like lzbench's memcpy row, it gives every figure a floor.

    Payload: each piece of input as LEB128 length + bytes, then a zero length. The pieces let
    the input stream without knowing its size in advance; they cost 3 bytes per MiB.
    """

    name = "raw"
    library = "python"
    summary = "the corpus as is, in LEB128-length-prefixed pieces; no decoder beyond the reference machine"
    streams = True

    @classmethod
    def library_version(cls) -> str:
        return platform.python_version()

    def compressor(self) -> Coder:
        return _Writer()

    def decompressor(self) -> Coder:
        return _Reader()


class _Writer:
    def process(self, chunk: bytes) -> bytes:
        return write_varint(len(chunk)) + chunk if chunk else b""

    def finish(self) -> bytes:
        return write_varint(0)


class _Reader:
    """Reads a length, passes that many bytes through, and so on until the zero length."""

    def __init__(self) -> None:
        self._head = b""
        self._left = -1  # bytes left in the current piece; -1 while reading a length
        self._done = False

    def process(self, chunk: bytes) -> bytes:
        out: list[bytes] = []
        while chunk:
            if self._done:
                raise ValueError("raw payload has trailing data")
            if self._left < 0:
                self._head += chunk
                try:
                    self._left, pos = read_varint(self._head)
                except ValueError:  # the length has not all arrived yet
                    return b"".join(out)
                chunk, self._head = self._head[pos:], b""
                if self._left == 0:
                    self._done = True
                continue
            take = chunk[: self._left]
            out.append(take)
            self._left -= len(take)
            chunk = chunk[len(take) :]
            if self._left == 0:
                self._left = -1
        return b"".join(out)

    def finish(self) -> bytes:
        if not self._done:
            raise ValueError("truncated raw payload")
        return b""
