"""The `brotli` backend: Brotli through Google's `brotli` bindings, quality 0-11 and window 10-24."""

from __future__ import annotations

import brotli

from kbound.backends.base import Backend, Coder, Param, int_in


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
    seconds_per_mb = 4.0

    def expected_seconds_per_mb(self) -> float:
        # CPU s/MB on a 10 MB prefix of gcide.txt, w=24: quality 6 0.10, 7 0.12, 9 0.29-0.43, 10 1.72.
        quality = self.config["quality"]
        for top, seconds in ((5, 0.05), (7, 0.15), (9, 0.45), (10, 1.8)):
            if quality <= top:
                return seconds
        return 3.6

    @classmethod
    def library_version(cls) -> str:
        return str(getattr(brotli, "__version__", getattr(brotli, "version", "unknown")))

    def compress(self, data: bytes) -> bytes:
        return bytes(
            brotli.compress(data, mode=brotli.MODE_TEXT, quality=self.config["quality"], lgwin=self.config["w"])
        )

    streams = True

    def compressor(self, size: int) -> Coder:
        return _BrotliCompressor(
            brotli.Compressor(mode=brotli.MODE_TEXT, quality=self.config["quality"], lgwin=self.config["w"])
        )

    def decompressor(self) -> Coder:
        return _BrotliDecompressor()

    def decompress(self, payload: bytes) -> bytes:
        d = brotli.Decompressor()
        out = bytes(d.process(payload))
        if not d.is_finished():
            raise ValueError("brotli stream is truncated")
        return out


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
        if chunk and self._obj.is_finished():
            raise ValueError("brotli stream has trailing data")
        return bytes(self._obj.process(chunk))

    def finish(self) -> bytes:
        if not self._obj.is_finished():
            raise ValueError("brotli stream is truncated")
        return b""
