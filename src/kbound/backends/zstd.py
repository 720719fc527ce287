"""The `zstd` backend: Zstandard through the `zstandard` bindings, levels up to 22 and long-distance matching."""

from __future__ import annotations

from typing import Any

import zstandard

from kbound.backends.base import Backend, Coder, Param, int_in
from kbound.backends.stream import ObjectCompressor, ObjectDecompressor

_MAX_WINDOW_LOG = 31


def parameters(config: dict[str, Any]) -> zstandard.ZstdCompressionParameters:
    """The compression parameters of a configuration (the input size is never pledged: streams have none)."""
    window = {"window_log": config["wlog"] or config["long"]} if config["wlog"] or config["long"] else {}
    return zstandard.ZstdCompressionParameters.from_level(
        config["level"], enable_ldm=bool(config["long"]), write_content_size=False, write_checksum=False, threads=0,
        **window,
    )


class Zstd(Backend):
    """Zstandard: LZ77 with optimal parsing at high levels, FSE/Huffman entropy coding."""

    name = "zstd"
    library = "zstandard"
    summary = "Zstandard (zstandard); level -7..22, long=WINDOWLOG (long-distance matching), wlog=N"
    params = (
        Param("level", int_in(-7, 22), 19, "compression level (20-22 are --ultra)"),
        Param("long", int_in(0, _MAX_WINDOW_LOG), 0, "long-distance matching with this window log", omit_default=True),
        Param("wlog", int_in(0, _MAX_WINDOW_LOG), 0, "window log; 0 = the level's own", omit_default=True),
    )
    decoder_native = ("zstandard.backend_c",)
    decoder_python = ("zstandard",)
    streams = True

    def check(self) -> None:
        for key in ("long", "wlog"):
            if 0 < self.config[key] < 10:
                raise ValueError(f"zstd: {key} must be 0 (off) or 10..{_MAX_WINDOW_LOG}")

    @classmethod
    def library_version(cls) -> str:
        return f"{zstandard.__version__} (libzstd {'.'.join(map(str, zstandard.ZSTD_VERSION))})"

    def compressor(self) -> Coder:
        return ObjectCompressor(zstandard.ZstdCompressor(compression_params=parameters(self.config)).compressobj())

    def decompressor(self) -> Coder:
        obj = zstandard.ZstdDecompressor(max_window_size=1 << _MAX_WINDOW_LOG).decompressobj()
        return ObjectDecompressor(obj, "zstd frame", capped=False)
