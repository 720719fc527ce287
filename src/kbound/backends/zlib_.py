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
    streams = True

    @classmethod
    def library_version(cls) -> str:
        return zlib.ZLIB_RUNTIME_VERSION

    def compressor(self) -> Coder:
        return ObjectCompressor(zlib.compressobj(self.config["level"]))

    def decompressor(self) -> Coder:
        return ObjectDecompressor(zlib.decompressobj(), "zlib stream")
