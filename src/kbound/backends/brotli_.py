"""The `brotli` backend: Brotli through Google's `brotli` bindings, quality 0-11 and window 10-24."""

from __future__ import annotations

from collections.abc import Iterator

import brotli

from kbound.backends.base import Backend, Coder, Param, int_in
from kbound.backends.stream import FEED


class Brotli(Backend):
    """Brotli: LZ77 with context modelling, second-order Huffman, and a built-in text dictionary."""

    name = "brotli"
    library = "brotli"
    summary = "Brotli (brotli), text mode; quality 0-11, w=lgwin 10-24"
    params = (
        Param("quality", int_in(0, 11), 11, "compression quality"),
        Param("w", int_in(10, 24), 24, "log2 of the sliding window"),
    )
    decoder_native = ("_brotli",)
    decoder_python = ("brotli",)
    streams = True

    @classmethod
    def library_version(cls) -> str:
        return str(getattr(brotli, "__version__", getattr(brotli, "version", "unknown")))

    def compressor(self) -> Coder:
        return _BrotliCompressor(
            brotli.Compressor(mode=brotli.MODE_TEXT, quality=self.config["quality"], lgwin=self.config["w"])
        )

    def decompressor(self) -> Coder:
        return _BrotliDecompressor()


class _BrotliCompressor:
    def __init__(self, obj: brotli.Compressor) -> None:
        self._obj = obj

    def process(self, chunk: bytes) -> bytes:
        return bytes(self._obj.process(chunk))

    def finish(self) -> bytes:
        return bytes(self._obj.finish())


class _BrotliDecompressor:
    def __init__(self) -> None:
        self._obj = brotli.Decompressor()

    def process(self, chunk: bytes) -> bytes:
        return b"".join(self.pieces(chunk))

    def pieces(self, chunk: bytes) -> Iterator[bytes]:
        if chunk and self._obj.is_finished():
            raise ValueError("brotli stream has trailing data")
        try:
            out = self._obj.process(chunk, output_buffer_limit=FEED)
        except TypeError:  # brotli < 1.2 cannot cap its output
            yield bytes(self._obj.process(chunk))
            return
        while True:
            if out:
                yield bytes(out)
            if self._obj.is_finished() or self._obj.can_accept_more_data():
                return
            out = self._obj.process(b"", output_buffer_limit=FEED)

    def finish(self) -> bytes:
        out = []
        while not self._obj.is_finished():
            try:
                more = self._obj.process(b"", output_buffer_limit=FEED)
            except TypeError:  # brotli < 1.2: nothing is held back
                more = b""
            if not more:
                raise ValueError("brotli stream is truncated")
            out.append(bytes(more))
        return b"".join(out)
