"""The `cmx2` backend: `cmx` with more inputs, contexts and mixers, and larger tables; the strongest, slowest tier.

See `kbound.backends.cmx2_model` for the model. The payload is laid out as `cmx`'s (varint
length, format version, varint mem in KiB, then the coded bytes), and the backend is `cmx`'s
with another model module, format number and table sizes.
"""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

from kbound.backends import cmx, cmx2_model
from kbound.backends.base import Param, size_in

#: Bump when the model changes: a payload names the model that wrote it.
FORMAT = 3


def _mem(text: str) -> int:
    return size_in(128 << 20, 8 << 30)(text)  # the fixed tables take 64-72 MiB (at 128m-256m)


#: As `cmx.tables_mem`, with four times the bytes per input byte and the floor: 18 hashed contexts
#: take a 64-byte bucket per half byte each, so even alice29.txt (152 kB) came out smaller in
#: 256 MiB than in 128 (35,495 bytes against 35,564), and enwik8-head's first MB 0.5 % smaller
#: in 1 GiB than in 256 MiB (bench/CM_RESULTS.md).
TABLE_BYTES_PER_BYTE = 1024
MIN_TABLES = 256 << 20


def tables_mem(mem: int, size: int) -> int:
    """The model memory `cmx2:mem=M` uses for `size` bytes (the payload records it)."""
    return cmx.tables_mem(mem, size, TABLE_BYTES_PER_BYTE, MIN_TABLES)


class Cmx2(cmx.Cmx):
    """The strongest context mixing: `cmx`'s model with a confidence input per context, 17 more
    contexts (words, byte classes, columns, the match's expected byte), CJK characters as
    words, a long-match model, seven first-layer mixers and two final ones, six APMs; in
    markup (wiki text, XML), six contexts of the open brackets and the segment since the last.

    `mem` bounds the model's tables (2 GiB by default, 128 MiB at least; 1 KiB an input byte,
    and 256 MiB for any text unless `mem` is less);
    the text itself is held as well. The decoder counted is kbound's Python source (this module,
    `cmx`, `cmx2_model`, `cmx_model`, `cm_model`, `arith`, `jit`, `base`); numba only speeds it up.
    """

    name = "cmx2"
    summary = "strongest context mixing, paq8-like (numba), about 0.05-0.09 MB/s each way; mem=SIZE of model tables"
    params = (
        Param("mem", _mem, 2 << 30,
              "most model memory (tables) besides the text: 1 KiB an input byte, 256m for any text; 128m at least"),
    )
    model: ClassVar[ModuleType] = cmx2_model
    format = FORMAT
    table_bytes_per_byte = TABLE_BYTES_PER_BYTE
    min_tables = MIN_TABLES
