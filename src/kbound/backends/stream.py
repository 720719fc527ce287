"""Streaming adapters: the library objects behind `Backend.compressor` and `Backend.decompressor`."""

from __future__ import annotations

from typing import Any


class ObjectCompressor:
    """A `Coder` over a library compressor object with `compress(chunk)` and `flush()` (zlib, bz2, lzma, zstd)."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def process(self, chunk: bytes) -> bytes:
        return bytes(self._obj.compress(chunk))

    def finish(self) -> bytes:
        return bytes(self._obj.flush())


class ObjectDecompressor:
    """A `Coder` over a decompressor object with `decompress(chunk)`, `eof` and `unused_data`."""

    def __init__(self, obj: Any, what: str) -> None:
        self._obj, self._what = obj, what

    def process(self, chunk: bytes) -> bytes:
        if self._obj.eof:
            if chunk:
                raise ValueError(f"{self._what} is truncated or has trailing data")
            return b""
        return bytes(self._obj.decompress(chunk))

    def finish(self) -> bytes:
        if not self._obj.eof or self._obj.unused_data:
            raise ValueError(f"{self._what} is truncated or has trailing data")
        return b""


def run_coder(coder: Any, data: bytes, piece: int = 1 << 16) -> bytes:
    """Feed `data` through a `Coder` in pieces; the whole-buffer methods of streaming backends use this."""
    out = [coder.process(data[i : i + piece]) for i in range(0, len(data), piece)]
    out.append(coder.finish())
    return b"".join(out)
