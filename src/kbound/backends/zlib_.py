"""The `zlib` backend: DEFLATE through the standard library (zlib format, 6 bytes of framing)."""

from __future__ import annotations

import zlib

from kbound.backends.base import Backend, Coder, Param, int_in
from kbound.backends.stream import ObjectCompressor, ObjectDecompressor


class Zlib(Backend):
    """DEFLATE, the floor of general-purpose compression: 32 KiB window, Huffman coding."""

    name = "zlib"
    library = "zlib"
    summary = "DEFLATE (stdlib zlib); level 0-9"
    params = (Param("level", int_in(0, 9), 9, "compression level"),)
    decoder_native = ("zlib",)
    decoder_python = ()
    seconds_per_mb = 0.12

    @classmethod
    def library_version(cls) -> str:
        return zlib.ZLIB_RUNTIME_VERSION

    def compress(self, data: bytes) -> bytes:
        return zlib.compress(data, self.config["level"])

    streams = True

    def compressor(self, size: int) -> Coder:
        # compressobj's defaults (wbits 15, memLevel 8) are zlib.compress's: the same bytes.
        return ObjectCompressor(zlib.compressobj(self.config["level"]))

    def decompressor(self) -> Coder:
        return ObjectDecompressor(zlib.decompressobj(), "zlib stream")

    def decompress(self, payload: bytes) -> bytes:
        d = zlib.decompressobj()
        out = d.decompress(payload)
        if not d.eof or d.unused_data:
            raise ValueError("zlib stream is truncated or has trailing data")
        return out
