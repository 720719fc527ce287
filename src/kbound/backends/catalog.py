"""The built-in backends' registry entries: where each class is, and what the engine needs to know of it.

Each card is declared once, here, and never in the backend's own module: that module is part
of the decoder every bound counts, and scheduling facts decode nothing. A card gives:

* `memory(config, n)`: bytes the codec holds coding n bytes (an upper envelope, checked against
  measured peak RSS by the tests): for an `inline` card the encoder and decoder together, else
  the larger of the two directions; the engine adds the worker process itself.
* `inline`: its payload is verified as it is produced, the decoder running beside the encoder,
  so nothing is written to disk. For codecs whose decoder is small beside the encoder (a window
  at most); the symmetric models (ppmd, cm, lm) would hold their model twice, so their payloads
  go to a temporary file and are decoded after the encoder is released.
* `window(config)`: bytes of earlier input it can still use while coding (what `compare` needs).
* `ladder`: its levels for `tradeoff`, fastest first.
* `seconds_per_mb(config)`: single-core compress + decompress seconds per MB at these
  settings, measured on gcide.txt (bench/), for running the longest work first.
* `slow`: a model-based codec (well under 1 MB/s): `tradeoff` runs it only when asked by name.

A third-party backend (entry point `kbound.backends`) declares the same facts as methods of
its class: `memory_bytes(n)`, `window_bytes()`, `levels` and `expected_seconds_per_mb()`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MiB = 1 << 20

Config = dict[str, Any]

#: What a streaming codec that gives no estimate of its own is assumed to hold.
STREAM_BYTES = 8 * MiB
#: How many times over a whole-buffer coder holds its text at the worst moment (the input, its
#: array, the output buffer, the payload), as for `cm` and `order` on incompressible input.
TEXT_COPIES = 5
#: What a worker of a numba backend adds by loading the compiled code: `cm:64m` peaked 136 MiB
#: above the `raw` worker on 1 MB of gcide.txt (64 MiB of tables, the text, ~67 MiB of code).
NUMBA_BYTES = 96 * MiB

#: `lm`: kbound's and llama.cpp's fixed cost per coded token, and how fast a core streams weights.
LM_TOKEN_SECONDS = 1e-4
LM_WEIGHT_BYTES_PER_SECOND = 5e9

#: The dictionary of each xz preset, 0-9 (xz(1), "Presets"); `e` does not change it.
XZ_PRESET_DICT = (256 << 10, *(n * MiB for n in (1, 2, 4, 4, 8, 8, 16, 32, 64)))


@dataclass(frozen=True)
class Card:
    """One built-in backend: its class ("module:Class") and its scheduling facts."""

    target: str
    memory: Callable[[Config, int], int]
    window: Callable[[Config], int | None]
    ladder: tuple[str, ...]
    seconds_per_mb: Callable[[Config], float]
    slow: bool = False
    inline: bool = False


def _step(value: float, table: tuple[tuple[float, float], ...], beyond: float) -> float:
    """The seconds of the first row whose top is at least `value`."""
    return next((seconds for top, seconds in table if value <= top), beyond)


# -- xz ------------------------------------------------------------------------------------------

def xz_dict(config: Config) -> int:
    """The dictionary an xz configuration uses."""
    return int(config["dict"]) or XZ_PRESET_DICT[int(config["preset"][0])]


def xz_hash_entries(dict_size: int, hash_bytes: int) -> int:
    """The entries of liblzma's match-finder hash table for a dictionary (lz_encoder.c, lz_encoder_prepare)."""
    hs = dict_size - 1
    for shift in (1, 2, 4, 8, 16):
        hs |= hs >> shift
    hs = (hs >> 1) | 0xFFFF
    if hs > 1 << 24:
        hs = (1 << 24) - 1 if hash_bytes == 3 else hs >> 1
    return hs + 1 + (1 << 10) + (1 << 16 if hash_bytes >= 4 else 0)


def _xz_memory(config: Config, size: int) -> int:
    # liblzma's encoder: a hash table touched all over from the start, then per position of the
    # dictionary 1.5 bytes of buffer (it reserves half a dictionary more) and the match finder's
    # links (8 bytes for the binary trees of presets 4-9, 4 for the hash chains of 0-3), filling as
    # the input comes, up to the dictionary. Decoding needs only the dictionary.
    level = int(config["preset"][0])
    dict_size = xz_dict(config)
    links = 8 if level >= 4 else 4
    window = min(size, dict_size) * (3 + 2 * links) // 2
    decoder = min(size, dict_size)  # verified inline: the decoder's dictionary beside the encoder
    return 4 * xz_hash_entries(dict_size, 4 if level >= 1 else 3) + window + decoder + 4 * MiB


def _xz_seconds(config: Config) -> float:
    # CPU seconds per MB compressing a 10 MB prefix of gcide.txt: -9 1.29, -9e 2.04; decoding adds ~0.05.
    text = config["preset"]
    base = (0.05, 0.08, 0.12, 0.3, 0.5, 0.8, 1.0, 1.1, 1.2, 1.35)[int(text[0])]
    return base * (1.55 if text.endswith("e") else 1.0)


# -- zstd ----------------------------------------------------------------------------------------

def _zstd_params(config: Config) -> Any:
    from kbound.backends.zstd import parameters  # the same parameters the compressor uses

    return parameters(config)


def _zstd_memory(config: Config, size: int) -> int:
    # libzstd's compression context: the whole window (a stream's size is not pledged, so it is not
    # shrunk to the input: zstd:19,long=27 took 146 MiB more than a window capped at 1.1 MB of input), the
    # level's hash and chain tables (4 bytes an entry), and for long-distance matching a table of 8-byte
    # entries, 2^(window log - 7) of them by default. Decoding, inline beside it, holds the window only.
    p = _zstd_params(config)
    tables = 4 * ((1 << p.hash_log) + (1 << p.chain_log))
    if p.enable_ldm:
        tables += 8 << (p.ldm_hash_log or max(p.window_log - 7, 6))
    return int((1 << p.window_log) + min(size, 1 << p.window_log) + tables + 4 * MiB)


def _zstd_window(config: Config) -> int:
    return 1 << int(_zstd_params(config).window_log)


def _zstd_seconds(config: Config) -> float:
    # CPU s/MB on a 10 MB prefix of gcide.txt with long=27 (loaded machine): 12 0.16, 13 0.47, 16 0.71-0.82,
    # 17 0.91-1.06, 19 1.30.
    table = ((3, 0.02), (12, 0.15), (16, 0.75), (17, 1.1), (18, 1.2), (19, 1.35))
    return _step(config["level"], table, 2.5)


# -- brotli --------------------------------------------------------------------------------------

def _brotli_memory(config: Config, size: int) -> int:
    # Ring buffer, hashers and meta-block buffers grow with the input up to the window. The library
    # documents none of it: this is the envelope of peak RSS measured on gcide.txt prefixes (4-40 MB,
    # qualities 1-11, windows 20-24; quality 7, window 24: 80 MiB at 20 MB; quality 11: 182 MiB at
    # 20 MB, 198 at 40), with a few MiB to spare.
    # Decoding, inline beside it, holds a ring buffer of the window.
    window = min(size, 1 << int(config["w"]))
    return 17 * window + 24 * MiB if int(config["quality"]) >= 10 else 7 * window + 16 * MiB


def _brotli_seconds(config: Config) -> float:
    # CPU s/MB on a 10 MB prefix of gcide.txt, w=24: quality 6 0.10, 7 0.12, 9 0.29-0.43, 10 1.72.
    return _step(config["quality"], ((5, 0.05), (7, 0.15), (9, 0.45), (10, 1.8)), 3.6)


# -- ppmd ----------------------------------------------------------------------------------------

def _ppmd_memory(config: Config, size: int) -> int:
    # The model is carved out of one block of `mem` bytes, touched as it grows: each byte coded adds
    # at most a few 12-byte units per order (and PPMd keeps the text it has seen), until the block is
    # full and the model restarts or is pruned. Decoding builds the same model.
    return min(int(config["mem"]), 24 * (int(config["o"]) + 1) * size) + MiB


def _ppmd_window(config: Config) -> int:
    # PPMd has no window: it restarts its model when memory fills. Order 6 on English filled
    # 1 MiB within 152 kB here (~7 bytes of model a byte), so count mem / (2·order) bytes as seen.
    return int(config["mem"] // (2 * config["o"]))


def _ppmd_seconds(config: Config) -> float:
    # PPM decodes as slowly as it encodes; order 6 (H) 0.37 and order 8 (I) 0.48 s/MB each way on gcide.txt.
    return 0.35 + 0.07 * int(config["o"])


# -- model-based backends ------------------------------------------------------------------------

def _numba_memory(config: Config, size: int) -> int:
    # `order`, `cm` and `cmx`: the tables (at most `mem`), the compiled code, and the text a few times over.
    return int(config["mem"]) + NUMBA_BYTES + TEXT_COPIES * size


def _cmx_memory(config: Config, size: int) -> int:
    # As `_numba_memory`, with the tables `cmx` sizes to the input (at most `mem`).
    from kbound.backends.cmx import tables_mem

    return tables_mem(int(config["mem"]), size) + NUMBA_BYTES + TEXT_COPIES * size


def _cmx2_memory(config: Config, size: int) -> int:
    # As `_cmx_memory`, with cmx2's tables.
    from kbound.backends.cmx2 import tables_mem

    return tables_mem(int(config["mem"]), size) + NUMBA_BYTES + TEXT_COPIES * size


def _zpaq_memory(config: Config, size: int) -> int:
    # libzpaq's model plus blocks and buffers that grow with the input. Not documented: the envelope
    # of peak RSS measured on gcide.txt prefixes (1-40 MB; methods 1-4 at most 83 MiB at 10 MB;
    # method 5 86 MiB at 1 MB, 284 at 10, 814 at 40), with room to spare.
    return 96 * MiB + 24 * size if int(config["method"]) == 5 else 32 * MiB + 8 * size


def _fixed(seconds: float) -> Callable[[Config], float]:
    return lambda config: seconds


def _stream(config: Config, size: int) -> int:
    return STREAM_BYTES


def _unbounded(config: Config) -> int | None:
    return None  # it models whatever it has seen: no window is declared, so `compare` leaves it out


def _model_bytes(config: Config) -> int:
    try:
        return os.path.getsize(str(config["model"]))
    except (OSError, TypeError):
        return 0


def _lm_memory(config: Config, size: int) -> int:
    # llama.cpp maps the model (every page is touched: RSS reaches its size), plus its context,
    # compute buffers and the vocabulary's pieces; the text streams through in segments.
    return _model_bytes(config) + 256 * MiB


def _lm_seconds(config: Config) -> float:
    # Per token, about one pass over the weights each way, plus kbound's own per-token work; text
    # has about 4 bytes a token. Only orders the work (the longest first); see docs/models.md.
    tokens_per_mb = 250_000
    return 2 * tokens_per_mb * (LM_TOKEN_SECONDS + _model_bytes(config) / LM_WEIGHT_BYTES_PER_SECOND)


CATALOG: dict[str, Card] = {
    "raw": Card("kbound.backends.raw:Raw", _stream, lambda c: 0, ("raw",), _fixed(0.001), inline=True),
    "zlib": Card(
        "kbound.backends.zlib_:Zlib", _stream,
        lambda c: 32768 - 262,  # zlib's MAX_DIST: the 32 KiB window less MIN_LOOKAHEAD
        ("zlib:1", "zlib:3", "zlib:6", "zlib:9"), _fixed(0.12), inline=True,
    ),
    "bz2": Card(
        # bzip2's manual: compression needs 400k + 8 x the block size (level x 100 kB), decompression, inline
        # beside it, 100k + 4 x the block size.
        "kbound.backends.bz2_:Bz2", lambda c, n: 500_000 + 1_200_000 * int(c["level"]) + MiB,
        lambda c: int(c["level"]) * 100_000 - 19,  # one BWT block; blocks are coded apart
        ("bz2:1", "bz2:5", "bz2:9"), _fixed(0.12), inline=True,
    ),
    "xz": Card("kbound.backends.xz:Xz", _xz_memory, xz_dict, ("xz:0", "xz:3", "xz:6", "xz:9", "xz:9e"), _xz_seconds,
               inline=True),
    "zstd": Card(
        "kbound.backends.zstd:Zstd", _zstd_memory, _zstd_window,
        ("zstd:-5", "zstd:1", "zstd:3", "zstd:9", "zstd:15", "zstd:19", "zstd:22,long=27"), _zstd_seconds, inline=True,
    ),
    "brotli": Card(
        "kbound.backends.brotli_:Brotli", _brotli_memory,
        lambda c: (1 << int(c["w"])) - 16,  # the format reserves 16 bytes of the window
        ("brotli:0,w=24", "brotli:4,w=24", "brotli:7,w=24", "brotli:9,w=24", "brotli:11,w=24"), _brotli_seconds,
        inline=True,
    ),
    "ppmd": Card(
        "kbound.backends.ppmd:Ppmd", _ppmd_memory, _ppmd_window,
        ("ppmd:2,mem=256m", "ppmd:4,mem=256m", "ppmd:6,mem=256m", "ppmd:8,mem=256m", "ppmd:12,mem=256m"),
        _ppmd_seconds,
    ),
    "order": Card("kbound.backends.order:Order", _numba_memory, _unbounded,
                  ("order:1", "order:2", "order:3", "order:4"), _fixed(4.0), slow=True),
    "cm": Card("kbound.backends.cm:Cm", _numba_memory, _unbounded, ("cm",), _fixed(6.0), slow=True),
    # cmx format 4 on gcide.txt: 0.280 MB/s compressing, 0.186 decompressing (bench/CM_RESULTS.md).
    "cmx": Card("kbound.backends.cmx:Cmx", _cmx_memory, _unbounded, ("cmx",), _fixed(15.0), slow=True),
    # cmx2 format 3: 0.054-0.089 MB/s of CPU time each way on six texts at load 7-10 on 2 cores
    # (bench/CM_RESULTS.md); format 2: 0.049-0.069 at load 13-17.
    "cmx2": Card("kbound.backends.cmx2:Cmx2", _cmx2_memory, _unbounded, ("cmx2",), _fixed(50.0), slow=True),
    # lm: a block's context reaches `window` tokens back, at least one byte each.
    "lm": Card("kbound.backends.lm:Lm", _lm_memory, lambda c: int(c["window"]), (), _lm_seconds, slow=True),
    "zpaq": Card("kbound.backends.zpaq_:Zpaq", _zpaq_memory, _unbounded,
                 ("zpaq:1", "zpaq:2", "zpaq:3", "zpaq:4", "zpaq:5"), _fixed(8.0), slow=True),
}
