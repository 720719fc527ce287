"""The `zstd` backend: Zstandard through the `zstandard` bindings, levels up to 22 and long-distance matching."""

from __future__ import annotations

import zstandard

from kbound.backends.base import Backend, Param, int_in

_MAX_WINDOW_LOG = 31


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
    seconds_per_mb = 1.5

    def check(self) -> None:
        for key in ("long", "wlog"):
            if 0 < self.config[key] < 10:
                raise ValueError(f"zstd: {key} must be 0 (off) or 10..{_MAX_WINDOW_LOG}")

    @classmethod
    def library_version(cls) -> str:
        return f"{zstandard.__version__} (libzstd {'.'.join(map(str, zstandard.ZSTD_VERSION))})"

    def compress(self, data: bytes) -> bytes:
        window_log = self.config["wlog"] or self.config["long"]
        params = zstandard.ZstdCompressionParameters.from_level(
            self.config["level"],
            source_size=len(data),
            window_log=window_log,
            enable_ldm=bool(self.config["long"]),
            write_content_size=True,
            write_checksum=False,
            threads=0,
        )
        return zstandard.ZstdCompressor(compression_params=params).compress(data)

    def decompress(self, payload: bytes) -> bytes:
        d = zstandard.ZstdDecompressor(max_window_size=1 << _MAX_WINDOW_LOG).decompressobj()
        out = d.decompress(payload)
        if not d.eof or d.unused_data:
            raise ValueError("zstd frame is truncated or has trailing data")
        return out
