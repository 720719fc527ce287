"""How much memory each built-in backend holds for an input of a given size: the engine's budget.

Kept apart from the backend modules on purpose: those are the decoders kbound counts in every
bound, and scheduling code does not decode anything. Each estimate is an upper envelope of what
the codec touches in the larger of its two directions (compress, for every built-in), checked
against measured peak RSS by `tests/test_streaming.py`; the engine adds the worker process itself
(`kbound.run.engine.WORKER_BYTES`). A backend class may give its own: a method `memory_bytes(size)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kbound.backends.base import Backend

MiB = 1 << 20

#: What a streaming codec that gives no estimate of its own is assumed to hold.
STREAM_BYTES = 8 * MiB
#: How many times over a whole-buffer coder holds its text at the worst moment (the input, its
#: array, the output buffer, the payload), as for `cm` and `order` on incompressible input.
TEXT_COPIES = 5
#: What a worker of a numba backend adds by loading the compiled code: `cm:64m` peaked 136 MiB
#: above the `raw` worker on 1 MB of gcide.txt (64 MiB of tables, the text, ~67 MiB of code).
NUMBA_BYTES = 96 * MiB

#: The dictionary of each xz preset, 0-9 (xz(1)).
XZ_PRESET_DICT = (256 << 10, *(n * MiB for n in (1, 2, 4, 4, 8, 8, 16, 32, 64)))


def xz_hash_entries(dict_size: int, hash_bytes: int) -> int:
    """The entries of liblzma's match-finder hash table for a dictionary (lz_encoder.c, lz_encoder_prepare)."""
    hs = dict_size - 1
    for shift in (1, 2, 4, 8, 16):
        hs |= hs >> shift
    hs = (hs >> 1) | 0xFFFF
    if hs > 1 << 24:
        hs = (1 << 24) - 1 if hash_bytes == 3 else hs >> 1
    return hs + 1 + (1 << 10) + (1 << 16 if hash_bytes >= 4 else 0)


def _xz(b: Backend, size: int) -> int:
    # liblzma's encoder: a hash table touched all over from the start, then per position of the
    # dictionary 1.5 bytes of buffer (it reserves half a dictionary more) and the match finder's
    # links (8 bytes for the binary trees of presets 4-9, 4 for the hash chains of 0-3), filling as
    # the input comes, up to the dictionary. Decoding needs only the dictionary.
    level = int(b.config["preset"][0])
    dict_size = int(b.config["dict"]) or XZ_PRESET_DICT[level]
    links = 8 if level >= 4 else 4
    window = min(size, dict_size) * (3 + 2 * links) // 2
    return 4 * xz_hash_entries(dict_size, 4 if level >= 1 else 3) + window + 4 * MiB


def _zstd(b: Backend, size: int) -> int:
    # libzstd's compression context: the window (no more than the input), the level's hash and chain
    # tables (4 bytes an entry), and for long-distance matching a table of 8-byte entries,
    # 2^(window log - 7) of them by default. Decoding holds the window only.
    p = b._params(size)  # type: ignore[attr-defined]
    tables = 4 * ((1 << p.hash_log) + (1 << p.chain_log))
    if p.enable_ldm:
        tables += 8 << (p.ldm_hash_log or max(p.window_log - 7, 6))
    return int(min(size, 1 << p.window_log) + tables + 4 * MiB)


def _brotli(b: Backend, size: int) -> int:
    # Ring buffer, hashers and meta-block buffers grow with the input up to the window. The library
    # documents none of it: this is the envelope of peak RSS measured on gcide.txt prefixes (4-40 MB,
    # qualities 1-11, windows 20-24; quality 7, window 24: 80 MiB at 20 MB; quality 11: 182 MiB at
    # 20 MB, 198 at 40), with a few MiB to spare.
    window = min(size, 1 << int(b.config["w"]))
    return 16 * window + 24 * MiB if int(b.config["quality"]) >= 10 else 6 * window + 16 * MiB


def _ppmd(b: Backend, size: int) -> int:
    # The model is carved out of one block of `mem` bytes, touched as it grows: each byte coded adds
    # at most a few 12-byte units per order (and PPMd keeps the text it has seen), until the block is
    # full and the model restarts or is pruned. Decoding builds the same model.
    return min(int(b.config["mem"]), 24 * (int(b.config["o"]) + 1) * size) + MiB


def _bz2(b: Backend, size: int) -> int:
    # bzip2's manual: compression needs 400k + 8 x the block size (level x 100 kB); decompression less.
    return 400_000 + 800_000 * int(b.config["level"]) + MiB


def _numba(b: Backend, size: int) -> int:
    # `order` and `cm`: the tables (at most `mem`), the compiled code, and the text a few times over.
    return int(b.config["mem"]) + NUMBA_BYTES + TEXT_COPIES * size


def _zpaq(b: Backend, size: int) -> int:
    # libzpaq's model plus blocks and buffers that grow with the input. Not documented: the envelope
    # of peak RSS measured on gcide.txt prefixes (1-40 MB; methods 1-4 at most 83 MiB at 10 MB;
    # method 5 86 MiB at 1 MB, 284 at 10, 814 at 40), with room to spare.
    return 96 * MiB + 24 * size if int(b.config["method"]) == 5 else 32 * MiB + 8 * size


ESTIMATES: dict[str, Callable[[Any, int], int]] = {
    "xz": _xz, "zstd": _zstd, "brotli": _brotli, "ppmd": _ppmd, "bz2": _bz2, "order": _numba, "cm": _numba,
    "zpaq": _zpaq,
}


def estimate(backend: Backend, size: int) -> int:
    """What `backend` holds coding `size` bytes: its own `memory_bytes(size)` if it has one, the
    built-in formula for a built-in, else a default by kind (a few MiB for a streaming codec, the
    text several times over for a whole-buffer one).
    """
    own = getattr(backend, "memory_bytes", None)
    if callable(own):
        return int(own(size))
    known = ESTIMATES.get(backend.name)
    # Only the built-in class gets the built-in formula (an entry point cannot take a built-in's name).
    if known is not None and type(backend).__module__.startswith("kbound.backends."):
        return known(backend, size)
    return STREAM_BYTES + (0 if backend.streams else TEXT_COPIES * size)
