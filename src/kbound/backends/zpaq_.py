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
    decoder_python = ("zpaq",)

    @classmethod
    def library_version(cls) -> str:
        return version("zpaq")

    def compress(self, data: bytes) -> bytes:
        return bytes(zpaq.compress(data, level=self.config["method"], threads=1, hints=False, verify=False))

    def decompress(self, payload: bytes) -> bytes:
        return bytes(zpaq.decompress(payload, threads=1))
