"""The `order` backend: an adaptive order-k bitwise context model with Krichevsky-Trofimov counts.

Each bit is predicted from the previous k bytes and the bits of the current byte so far,
with P(1) = (n1 + 1/2) / (n0 + n1 + 1) over the counts seen in that context, and coded by
`kbound.backends.arith`. It is the textbook baseline that `cm` improves on, and its code
length can be checked against the closed-form KT probability.

Counts live in an open-addressing hash table keyed by the whole context (k <= 6 bytes plus
the partial byte fit in 56 bits), so while the table has room the model is exact KT. `mem`
sets its size at 16 bytes a slot; when 16 probed slots are all taken by other contexts the
one with the fewest counts is given up. Counts are halved at 2^29 (never reached below
half a gigabyte of input in one context), to stay within 32 bits.

Payload: varint length, k, varint mem in KiB, then the coded bytes.
"""

from __future__ import annotations

import numpy as np

from kbound.backends import arith
from kbound.backends.base import Backend, Param, int_in, read_varint, size_in, write_varint
from kbound.backends.jit import njit, version_note

_PROBES = 16
_HALVE_AT = 1 << 29


@njit(cache=True)
def _slot(keys: np.ndarray, counts: np.ndarray, key: int, mask: int) -> int:
    h = ((key & 0xFFFFFFFF) * 0x2545F491 + (key >> 32) * 0x3C6EF372) & 0xFFFFFFFF
    h = ((h ^ (h >> 23)) * 0x1B873593) >> 8
    best = -1
    best_n = 1 << 62
    for i in range(_PROBES):
        s = (h + i) & mask
        k = keys[s]
        if k == key:
            return s
        if k == 0:
            keys[s] = key
            return s
        n = int(counts[2 * s]) + int(counts[2 * s + 1])
        if n < best_n:
            best, best_n = s, n
    keys[best] = key
    counts[2 * best] = 0
    counts[2 * best + 1] = 0
    return best


@njit(cache=True)
def _code(data: np.ndarray, k: int, slot_bits: int, decode: bool, src: np.ndarray) -> tuple[np.ndarray, int]:
    """Encode `data` (or decode into it from `src`); return the coder's output and its length."""
    mask = (1 << slot_bits) - 1
    keys = np.zeros(1 << slot_bits, np.int64)
    counts = np.zeros(2 << slot_bits, np.int32)
    hist_mask = (1 << (8 * k)) - 1
    st = arith.new_decoder(src) if decode else arith.new_encoder()
    out = np.zeros(64 if decode else data.size // 2 + 64, np.uint8)
    hist = 0
    for i in range(data.size):
        if not decode:
            out = arith.room(out, st[3], arith.MAX_BYTES_PER_BYTE)
        c = 0 if decode else int(data[i])
        c0 = 1
        for j in range(8):
            s = _slot(keys, counts, (((hist << 8) | c0) + 1), mask)
            n0 = int(counts[2 * s])
            n1 = int(counts[2 * s + 1])
            p = ((2 * n1 + 1) << arith.PROB_BITS) // (2 * (n0 + n1) + 2)
            p = min(max(p, 1), arith.PROB_ONE - 1)
            if decode:
                y = arith.decode_bit(st, src, p)
            else:
                y = (c >> (7 - j)) & 1
                arith.encode_bit(st, out, p, y)
            counts[2 * s + y] += 1
            if n0 + n1 + 1 >= _HALVE_AT:
                counts[2 * s] = (n0 + 1 - y) >> 1
                counts[2 * s + 1] = (n1 + y) >> 1
            c0 = (c0 << 1) | y
        if decode:
            data[i] = c0 & 0xFF
        hist = ((hist << 8) | (c0 & 0xFF)) & hist_mask
    if decode:
        return out, 0
    out = arith.room(out, st[3], 8)
    return out, arith.flush(st, out)


def _slot_bits(mem: int) -> int:
    return max(4, (mem // 16).bit_length() - 1)


class Order(Backend):
    """Order-k context model with KT estimators and a binary arithmetic coder (numba-compiled where present).

    The decoder counted is kbound's Python source (this module, `arith`, `jit`, `base`): the
    same functions run as plain Python where numba is missing (or NUMBA_DISABLE_JIT=1), only
    slower, so numba and LLVM are a speed-up of the reference machine (CPython with numpy),
    not part of the decoder.
    """

    name = "order"
    library = "numba"
    summary = "order-k KT context model + arithmetic coder (numba); k=0-6, mem=SIZE (16 bytes a context)"
    params = (
        Param("k", int_in(0, 6), 3, "context order in bytes"),
        Param("mem", size_in(1 << 16, 16 << 30), 256 << 20, "hash table size"),
    )

    @classmethod
    def library_version(cls) -> str:
        return version_note()

    def check(self) -> None:
        if self.config["mem"] % 1024:
            raise ValueError("order: mem must be a whole number of KiB")

    def compress(self, data: bytes) -> bytes:
        k, mem = self.config["k"], self.config["mem"]
        header = write_varint(len(data)) + bytes([k]) + write_varint(mem >> 10)
        if not data:
            return header
        src = np.zeros(0, np.uint8)
        out, n = _code(np.frombuffer(data, np.uint8).copy(), k, _slot_bits(mem), False, src)
        return header + arith.finish(out, n)

    def decompress(self, payload: bytes) -> bytes:
        length, pos = read_varint(payload)
        if pos >= len(payload):
            raise ValueError("truncated order header")
        k = payload[pos]
        if k > 6:
            raise ValueError(f"order payload names order {k}; orders are 0..6")
        mem_kib, pos = read_varint(payload, pos + 1)
        if length == 0:
            return b""
        data = np.zeros(length, np.uint8)
        _code(data, k, _slot_bits(mem_kib << 10), True, np.frombuffer(payload, np.uint8)[pos:].copy())
        return data.tobytes()
