"""The `bz2` backend: the Burrows-Wheeler transform through the standard library's libbz2."""

from __future__ import annotations

import _bz2
import bz2

from kbound.backends.base import Backend, Coder, Param, int_in
from kbound.backends.native import c_version
from kbound.backends.stream import ObjectCompressor, ObjectDecompressor


class Bz2(Backend):
    """bzip2: BWT on blocks of 100-900 kB, move-to-front and Huffman coding."""

    name = "bz2"
    library = "libbz2"
    summary = "bzip2 (stdlib bz2, libbz2); level 1-9 = block size in 100 kB"
    params = (Param("level", int_in(1, 9), 9, "block size in units of 100 kB"),)
    decoder_native = ("_bz2",)
    decoder_python = ("bz2", "_compression")
    streams = True

    @classmethod
    def library_version(cls) -> str:
        return c_version(getattr(_bz2, "__file__", None), "BZ2_bzlibVersion")

    def compressor(self) -> Coder:
        return ObjectCompressor(bz2.BZ2Compressor(self.config["level"]))

    def decompressor(self) -> Coder:
        return ObjectDecompressor(bz2.BZ2Decompressor(), "bzip2 stream")
