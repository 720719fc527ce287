"""Streaming adapters: the library objects behind `Backend.compressor` and `Backend.decompressor`.

A decompressor may also offer `pieces(chunk)`, which yields the output in pieces of at most
`FEED` bytes (or, where the library cannot bound its output, from small slices of the input),
so that verifying a very compressible payload never holds more than a few pieces at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: The piece a coder is fed at a time, by the engine's workers and by `run_coder` alike: some codecs'
#: output depends on how their input is cut (zstd's does), so every path cuts it the same way.
FEED = 1 << 20
#: Input slices for a decoder whose output cannot be capped (zstd): 4 KiB expands to 128 MiB at the very worst.
_SLICE = 1 << 12


class ObjectCompressor:
    """A `Coder` over a library compressor object with `compress(chunk)` and `flush()` (zlib, bz2, lzma, zstd)."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def process(self, chunk: bytes) -> bytes:
        return bytes(self._obj.compress(chunk))

    def finish(self) -> bytes:
        return bytes(self._obj.flush())


class ObjectDecompressor:
    """A `Coder` over a decompressor object with `decompress(chunk[, max_length])`, `eof` and `unused_data`.

    `capped`: the object takes `max_length` and keeps what it has not decoded (zlib, bz2, lzma);
    otherwise the input is fed in small slices to keep each output piece small (zstd).
    """

    def __init__(self, obj: Any, what: str, capped: bool = True) -> None:
        self._obj, self._what, self._capped = obj, what, capped

    def process(self, chunk: bytes) -> bytes:
        return b"".join(self.pieces(chunk))

    def pieces(self, chunk: bytes) -> Iterator[bytes]:
        """The output for `chunk`, in pieces of at most `FEED` bytes (capped) or from 4 KiB input slices."""
        obj = self._obj
        if obj.eof:
            if chunk:
                raise ValueError(f"{self._what} is truncated or has trailing data")
            return
        if not self._capped:
            for i in range(0, len(chunk), _SLICE):
                out = obj.decompress(chunk[i : i + _SLICE])
                if out:
                    yield bytes(out)
            return
        out = obj.decompress(chunk, FEED)
        while True:
            if out:
                yield bytes(out)
            if obj.eof:
                return
            if hasattr(obj, "needs_input"):  # bz2, lzma: more output may wait without more input
                if obj.needs_input:
                    return
                out = obj.decompress(b"", FEED)
            else:  # zlib: what did not fit waits in unconsumed_tail
                tail = obj.unconsumed_tail
                if not tail:
                    return
                out = obj.decompress(tail, FEED)

    def finish(self) -> bytes:
        if not self._obj.eof or self._obj.unused_data:
            raise ValueError(f"{self._what} is truncated or has trailing data")
        return b""


def run_coder(coder: Any, data: bytes, piece: int = FEED) -> bytes:
    """Feed `data` through a `Coder` in pieces of `FEED`; the whole-buffer methods of streaming backends use this."""
    out = [coder.process(data[i : i + piece]) for i in range(0, len(data), piece)]
    out.append(coder.finish())
    joined = b"".join(out)
    patch = getattr(coder, "patch", None)
    if patch is None:
        return joined
    offset, value = patch()
    return bytes(joined[:offset] + value + joined[offset + len(value) :])
