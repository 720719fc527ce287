"""The `zpaq` backend: ZPAQ methods 1-5 through the in-memory `zpaq` package (libzpaq).

A ZPAQ stream carries its own model description (the ZPAQL programs of its context-mixing
components), so the payload is self-contained and libzpaq needs nothing else to decode it.
Compression runs on one thread: with more, the input is cut into blocks whose number depends
on the machine, and the payload with it.
"""

from __future__ import annotations

from importlib.metadata import version

import zpaq

from kbound.backends.base import Backend, Param, int_in


class Zpaq(Backend):
    """ZPAQ (libzpaq by Matt Mahoney) at a method level; 5 is context mixing of many models."""

    name = "zpaq"
    library = "zpaq"
    summary = "ZPAQ (zpaq package, libzpaq); method 1-5, one thread"
    params = (Param("method", int_in(1, 5), 5, "method level: 1 fastest .. 5 strongest"),)
    decoder_native = ("zpaq._zpaq",)
    decoder_python = ("zpaq", "kbound.backends.base")
    seconds_per_mb = 8.0

    @classmethod
    def library_version(cls) -> str:
        return version("zpaq")

    def memory_bytes(self, size: int) -> int:
        # libzpaq's model for the method plus its blocks and buffers, which grow with the input. Not
        # documented: the envelope of peak RSS measured on gcide.txt prefixes (1-40 MB; methods 1-4
        # at most 83 MiB at 10 MB; method 5 86 MiB at 1 MB, 284 at 10, 814 at 40), with room to spare.
        method = self.config["method"]
        return (96 << 20) + 24 * size if method == 5 else (32 << 20) + 8 * size

    def compress(self, data: bytes) -> bytes:
        return bytes(zpaq.compress(data, level=self.config["method"], threads=1, hints=False, verify=False))

    def decompress(self, payload: bytes) -> bytes:
        return bytes(zpaq.decompress(payload, threads=1))
