"""The `xz` backend: LZMA2 in the .xz container through the standard library's liblzma."""

from __future__ import annotations

import _lzma
import lzma
import re

from kbound.backends.base import Backend, Coder, Param, size_in
from kbound.backends.native import c_version
from kbound.backends.stream import ObjectCompressor, ObjectDecompressor


def _preset(text: str) -> str:
    if not re.fullmatch(r"[0-9]e?", text):
        raise ValueError("a preset is 0-9, optionally followed by e (extreme), like 9e")
    return text


class Xz(Backend):
    """LZMA2: LZ77 with a window up to 1.5 GiB, range-coded with context models."""

    name = "xz"
    library = "liblzma"
    summary = "LZMA2 in .xz (stdlib lzma, liblzma); preset 0-9 with optional e, dict=SIZE"
    params = (
        Param("preset", _preset, "9e", "preset 0-9, e for extreme (as xz -9e)"),
        Param("dict", size_in(4096, 1536 << 20), 0, "dictionary size; 0 = the preset's own", omit_default=True),
    )
    decoder_native = ("_lzma",)
    decoder_python = ("lzma", "_compression")
    streams = True

    @classmethod
    def library_version(cls) -> str:
        return c_version(getattr(_lzma, "__file__", None), "lzma_version_string")

    def _filters(self) -> list[dict[str, int]]:
        text = self.config["preset"]
        preset = int(text[0]) | (lzma.PRESET_EXTREME if text.endswith("e") else 0)
        lzma2: dict[str, int] = {"id": lzma.FILTER_LZMA2, "preset": preset}
        if self.config["dict"]:
            lzma2["dict_size"] = self.config["dict"]
        return [lzma2]

    def compressor(self) -> Coder:
        return ObjectCompressor(
            lzma.LZMACompressor(format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, filters=self._filters())
        )

    def decompressor(self) -> Coder:
        return ObjectDecompressor(lzma.LZMADecompressor(format=lzma.FORMAT_XZ), "xz stream")
