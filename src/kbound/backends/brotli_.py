"""The `brotli` backend: Brotli through Google's `brotli` bindings, quality 0-11 and window 10-24."""

from __future__ import annotations

import brotli

from kbound.backends.base import Backend, Param, int_in


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

    @classmethod
    def library_version(cls) -> str:
        return str(getattr(brotli, "__version__", getattr(brotli, "version", "unknown")))

    def compress(self, data: bytes) -> bytes:
        return bytes(
            brotli.compress(data, mode=brotli.MODE_TEXT, quality=self.config["quality"], lgwin=self.config["w"])
        )

    def decompress(self, payload: bytes) -> bytes:
        d = brotli.Decompressor()
        out = bytes(d.process(payload))
        if not d.is_finished():
            raise ValueError("brotli stream is truncated")
        return out
