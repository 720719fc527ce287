"""The `zstd` backend: Zstandard through the `zstandard` bindings, levels up to 22 and long-distance matching."""

from __future__ import annotations

import zstandard

from kbound.backends.base import Backend, Coder, Param, int_in
from kbound.backends.stream import ObjectCompressor, ObjectDecompressor

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

    def expected_seconds_per_mb(self) -> float:
        # CPU s/MB on a 10 MB prefix of gcide.txt with long=27 (loaded machine): 12 0.16, 13 0.47, 16 0.71-0.82,
        # 17 0.91-1.06, 19 1.30.
        level = self.config["level"]
        for top, seconds in ((3, 0.02), (12, 0.15), (16, 0.75), (17, 1.1), (18, 1.2), (19, 1.35)):
            if level <= top:
                return seconds
        return 2.5

    @classmethod
    def library_version(cls) -> str:
        return f"{zstandard.__version__} (libzstd {'.'.join(map(str, zstandard.ZSTD_VERSION))})"

    streams = True

    def _params(self, size: int) -> zstandard.ZstdCompressionParameters:
        window_log = self.config["wlog"] or self.config["long"]
        return zstandard.ZstdCompressionParameters.from_level(
            self.config["level"],
            source_size=size,
            window_log=window_log,
            enable_ldm=bool(self.config["long"]),
            write_content_size=True,
            write_checksum=False,
            threads=0,
        )

    def _compressor(self, size: int) -> zstandard.ZstdCompressor:
        return zstandard.ZstdCompressor(compression_params=self._params(size))

    def compress(self, data: bytes) -> bytes:
        return self._compressor(len(data)).compress(data)

    def compressor(self, size: int) -> Coder:
        # The size is pledged, so the frame header and the level's parameters match `compress`.
        return ObjectCompressor(self._compressor(size).compressobj(size=size))

    def decompressor(self) -> Coder:
        obj = zstandard.ZstdDecompressor(max_window_size=1 << _MAX_WINDOW_LOG).decompressobj()
        return ObjectDecompressor(obj, "zstd frame")

    def decompress(self, payload: bytes) -> bytes:
        d = zstandard.ZstdDecompressor(max_window_size=1 << _MAX_WINDOW_LOG).decompressobj()
        out = d.decompress(payload)
        if not d.eof or d.unused_data:
            raise ValueError("zstd frame is truncated or has trailing data")
        return out
