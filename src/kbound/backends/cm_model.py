"""The `cm` model: hashed context models, a match model, a logistic mixer and an APM (numba).

Written for kbound after the design Matt Mahoney describes for lpaq1 and paq8; the code is
kbound's own. Per bit:

* Inputs. Order 1 counters are a direct table. Orders 2, 3, 4 and 6, two word
  contexts (the word so far; it with the previous word) and a column context (column, the
  byte above it in the previous line, the last byte) are hashed into one table of 64-byte
  buckets, one bucket per context and half byte: a 31-bit check and 15 counters for the 15
  partial-nibble contexts, found among 3 neighbours and replacing the least used. A counter
  holds a 16-bit probability, a 5-bit count and the last 7 bits seen in its context. The
  probability moves toward each bit by 1/(count + 1.5), a frequency count that turns
  nonstationary at the count's limit; it is one input. The bit history is the other: an
  adaptive table per context order maps it to a probability (indirect modelling, as the
  bit-history states of lpaq1 do).
  The match model finds the last occurrence of the previous 6 bytes and predicts the byte
  that followed, with a learned confidence per match length.
* Mixing. Inputs are stretched, st(p) = ln(p / (1 - p)), and combined by one mixer with a
  weight set per partial byte, match state and kind of previous byte (letter, space or
  newline, other ASCII, other); its weights follow the gradient of the coding cost online,
  skipping bits it predicted to within 16/4096: faster, and no larger (first 2 MiB of
  enwik8-head: 472,020 bytes against 472,295 when training on every bit).
* SSE. An adaptive probability map refines the mixed probability by the partial byte,
  interpolating 33 points along st(p); the output averages the two.

Format 3 also had an order-0 context, a second mixer (weights per previous byte and bit
position) and a second APM (by the previous byte): payloads 1.5-2 % smaller on enwik8-head
and gcide for about 40 % more time. Format 4 gave them up for speed (its target: at least
0.5 MB/s each way on one core).

All arithmetic is on integers below 2^63 (no floats), so the result is the same under numba,
on any machine, and as plain Python (`kbound.backends.jit`: numba is optional): the decoder is
this source.
"""

from __future__ import annotations

import numpy as np

from kbound.backends import arith
from kbound.backends.jit import njit
from kbound.backends.jit import prefetch as _prefetch

_M = 0xFFFFFFFF
N_DIRECT = 1  # order 1
N_HASHED = 7  # orders 2, 3, 4, 6; word; word with previous word; column
N_CTX = N_DIRECT + N_HASHED
N_INPUTS = 2 * N_CTX + 2  # direct and history inputs per context, match, bias
_LIMITS = np.array([31, 31, 31, 31, 31, 31, 31, 31], np.int64)
_INIT = (1 << 28) | 1  # p = 1/2, count 0, empty history
_APM_RATE = 7
_MIN_MATCH = 6
_LR = 6
_MIX_SHIFT = 14
_W_MAX = 1 << 24  # a weight of 256: far beyond any useful one, and well inside int32
_TRAIN_ABOVE = 16  # the mixer learns from a bit only if it missed by more than 16/4096
_WEIGHT_SETS = 4 * 3 * 256  # kind of previous byte x match state x partial byte

_SQUASH_POINTS = np.array(
    [1, 2, 4, 6, 10, 17, 27, 45, 74, 120, 194, 311, 488, 747, 1102, 1546, 2048,
     2550, 2994, 3349, 3608, 3785, 3902, 3976, 4022, 4051, 4069, 4079, 4086, 4090, 4092, 4094, 4095],
    np.int64,
)  # fmt: skip  # round(4096 / (1 + e^(-(i - 16) / 2))): squash at every 128th stretch unit


def _squash_table() -> np.ndarray:
    d = np.arange(-2047, 2048)
    lo, w = (d >> 7) + 16, d & 127
    table: np.ndarray = (_SQUASH_POINTS[lo] * (128 - w) + _SQUASH_POINTS[np.minimum(lo + 1, 32)] * w + 64) >> 7
    return table


SQUASH = _squash_table().astype(np.int16)  # index d + 2047 -> 12-bit probability


def _stretch_table() -> np.ndarray:
    # The inverse of squash: for each 12-bit p, the smallest d with squash(d) >= p.
    table = np.full(4096, 2047, np.int64)
    pi = 0
    for d in range(-2047, 2048):
        v = int(SQUASH[d + 2047])
        table[pi : v + 1] = d
        pi = max(pi, v + 1)
    return table


STRETCH = _stretch_table().astype(np.int16)


def table_bytes(mem: int) -> tuple[int, int]:
    """How `mem` is split: the number of 64-byte buckets and of match-table entries."""
    fixed = 4 * (65536 + _WEIGHT_SETS * N_INPUTS + 2 * 256 * N_CTX + 33 * 256 + 64)
    match_entries = mem // 32
    buckets = (mem - fixed - 4 * match_entries) // 64
    return buckets, match_entries


def new_tables(mem: int) -> tuple[np.ndarray, np.ndarray]:
    """The zeroed context and match tables that `mem` allows."""
    buckets, match_entries = table_bytes(mem)
    # Buckets start on 64-byte boundaries, so a bucket is one cache line, not two halves.
    raw = np.zeros(buckets * 16 + 16, np.int32)
    start = (-raw.ctypes.data // 4) % 16
    return raw[start : start + buckets * 16], np.zeros(match_entries, np.int32)


@njit(cache=True)
def _mix32(x: int) -> int:
    x = ((x ^ (x >> 16)) * 0x45D9F3B) & _M
    x = ((x ^ (x >> 16)) * 0x45D9F3B) & _M
    return x ^ (x >> 16)


@njit(cache=True)
def _touch(t: np.ndarray, nb2: int, key: int) -> None:
    """Prefetch the three buckets `_find` will look at for this key."""
    b = (_mix32(key & _M) * nb2) >> 32
    _prefetch(t, b << 4)
    _prefetch(t, (b + 1) << 4)
    _prefetch(t, (b + 2) << 4)


@njit(cache=True)
def _find(t: np.ndarray, nb2: int, key: int, init: int = _INIT, count_bits: int = 5) -> int:
    """The bucket of a context (a 32-bit key): found among 3 neighbours, or the least used one reset.

    `init` is a fresh counter and `count_bits` the width of its count (`cmx` keeps 7).
    """
    hh = _mix32(key & _M)
    b = (hh * nb2) >> 32
    chk = (_mix32(hh ^ 0x5F356495) >> 1) | 1
    best = b << 4
    best_n = 1 << 40
    for k in range(3):
        s = (b + k) << 4
        if t[s] == chk:
            return s
        n = (t[s + 1] >> 8) & ((1 << count_bits) - 1)
        if n < best_n:
            best, best_n = s, n
    t[best] = chk
    for m in range(1, 16):
        t[best + m] = init
    return best


#: The adaptation rate after n observations, 1 / (n + 1.5), in units of 2^-16.
_DT = np.array([(65536 * 2) // (2 * n + 3) for n in range(1024)], np.int64)

# The helpers below take and return numbers, not arrays: passing an array to a jitted function
# costs a reference-count increment and decrement per call, and these run dozens of times a bit.


@njit(cache=True)
def _next(v: int, y: int, limit: int, count_bits: int = 5) -> int:
    """A counter (probability, count, bit history) after seeing bit y; its count has `count_bits` bits."""
    dt = _DT
    p = v >> (8 + count_bits)
    n = (v >> 8) & ((1 << count_bits) - 1)
    h = ((v & 255) << 1) | y
    if h >= 256:
        h = (h & 127) | 128
    if y:
        p += ((65536 - p) * int(dt[n])) >> 16
    else:
        p -= (p * int(dt[n])) >> 16
    if n < limit:
        n += 1
    return (p << (8 + count_bits)) | (n << 8) | h


@njit(cache=True)
def _sm_next(p: int, n: int, y: int) -> tuple[int, int]:
    """A bit-history map entry (22-bit probability, count) after seeing bit y."""
    return p + ((((y << 22) - p) * _DT[n]) >> 16), min(n + 1, 1023)


@njit(cache=True)
def _kind(c: int) -> int:
    """A byte's kind, as the mixers' weight sets see it: letter 0, space or newline 1, other ASCII 2, other 3."""
    if 65 <= c <= 90 or 97 <= c <= 122:
        return 0
    if c == 32 or c == 10:
        return 1
    return 2 if c < 128 else 3


@njit(cache=True)
def _dot(x: np.ndarray, w: np.ndarray, ws: int, n: int) -> int:
    """A mixer's output: the dot product of the inputs with weight set `ws` (n weights from w[ws]), clamped."""
    wr = w[ws : ws + n]  # a row indexed from 0: numba loads it contiguously, not by a gather per weight
    dot = 0
    for k in range(n):
        dot += int(x[k]) * int(wr[k])
    return min(max(dot >> 16, -2047), 2047)


@njit(cache=True)
def _train(x: np.ndarray, w: np.ndarray, ws: int, n: int, err: int) -> None:
    """Move weight set `ws` along the coding cost's gradient: err times each input."""
    wr = w[ws : ws + n]
    for k in range(n):
        wr[k] = min(max(int(wr[k]) + ((int(x[k]) * err) >> _MIX_SHIFT), -_W_MAX), _W_MAX)


@njit(cache=True)
def _between(lo: int, hi: int, w: int) -> int:
    """An APM's probability w/128 of the way from one of its points to the next."""
    return (lo * (128 - w) + hi * w) >> 7


@njit(cache=True)
def code(data: np.ndarray, t: np.ndarray, mt: np.ndarray, decode: bool, src: np.ndarray) -> tuple[np.ndarray, int]:
    """Encode `data` (or decode into it from `src`); return the coder's output and its length.

    `t` (int32, 16 per bucket) and `mt` (int32) are zeroed tables from `new_tables`: numpy
    allocates them with huge pages where the kernel allows, which halves the time spent on
    TLB misses in tables this size.
    """
    buckets = t.size // 16
    match_entries = mt.size
    squash = SQUASH
    stretch = STRETCH
    limits = _LIMITS
    t1 = np.full(65536, _INIT, np.int32)
    nb2 = buckets - 2
    msm = np.full(64, _INIT, np.int32)
    smp = np.full(N_CTX * 256, 1 << 21, np.int32)
    smn = np.zeros(N_CTX * 256, np.int32)
    slot = np.zeros(N_CTX, np.int64)
    weights = np.full(_WEIGHT_SETS * N_INPUTS, 1 << 13, np.int32)
    apm = np.zeros(256 * 33, np.uint16)
    for j in range(33):
        apm[j::33] = int(squash[min(max((j - 16) * 128, -2047), 2047) + 2047]) * 16

    st = arith.new_decoder(src) if decode else arith.new_encoder()
    out = np.zeros(64 if decode else data.size // 3 + 64, np.uint8)
    ctx = np.zeros(N_HASHED, np.int64)
    base = np.zeros(N_HASHED, np.int64)
    x = np.zeros(N_INPUTS, np.int64)
    c4 = 0
    c8 = 0
    word = 0
    prev_word = 0
    mlen = 0
    mptr = 0
    line = 0
    prev_line = 0
    for i in range(data.size):
        if not decode:
            out = arith.room(out, st[3], arith.MAX_BYTES_PER_BYTE)
        c = 0 if decode else int(data[i])
        c1 = c4 & 0xFF
        kind = _kind(c1)
        expected = int(data[mptr]) | 256 if mlen > 0 else 0
        c0 = 1
        nib = 1
        for j in range(8):
            if j == 0 or j == 4:
                for q in range(N_HASHED):
                    base[q] = _find(t, nb2, ctx[q] + c0 * 0x9E3779B1)
                nib = 1
            elif j == 3:
                for q in range(N_HASHED):
                    _touch(t, nb2, ctx[q] + (c0 << 1) * 0x9E3779B1)
                    _touch(t, nb2, ctx[q] + ((c0 << 1) | 1) * 0x9E3779B1)
            slot[0] = t1[(c1 << 8) | c0]
            for q in range(N_HASHED):
                slot[N_DIRECT + q] = t[base[q] + nib]
            for q in range(N_CTX):
                v = slot[q]
                x[q] = stretch[v >> 17]
                slot[q] = q * 256 + (v & 255)
                x[N_CTX + q] = stretch[smp[slot[q]] >> 10]
            mctx = -1
            if mlen > 0 and (expected >> (8 - j)) == c0:
                bit = (expected >> (7 - j)) & 1
                mctx = 2 * (mlen if mlen < 16 else min(16 + ((mlen - 16) >> 3), 31)) + bit
                x[N_INPUTS - 2] = stretch[msm[mctx] >> 17]
            else:
                x[N_INPUTS - 2] = 0
            x[N_INPUTS - 1] = 256
            ws = (c0 + (0 if mctx < 0 else (256 if mlen < 16 else 512)) + kind * 768) * N_INPUTS
            dot = _dot(x, weights, ws, N_INPUTS)
            pm = int(squash[dot + 2047])
            a = c0 * 33 + ((dot + 2048) >> 7)  # the APM points either side of dot
            aw = (dot + 2048) & 127
            pa = _between(int(apm[a]), int(apm[a + 1]), aw)
            na = a + (aw >> 6)  # the nearer point is the one trained
            p = (pm * 16 + pa) >> 1
            p = min(max(p, 32), arith.PROB_ONE - 32)
            if decode:
                y = arith.decode_bit(st, src, p)
            else:
                y = (c >> (7 - j)) & 1
                arith.encode_bit(st, out, p, y)

            miss = (y << 12) - pm
            if miss > _TRAIN_ABOVE or miss < -_TRAIN_ABOVE:  # a near-certain bit that came true teaches little
                _train(x, weights, ws, N_INPUTS, miss * _LR)
            i1 = (c1 << 8) | c0
            t1[i1] = _next(int(t1[i1]), y, limits[0])
            for q in range(N_HASHED):
                iq = base[q] + nib
                t[iq] = _next(int(t[iq]), y, limits[N_DIRECT + q])
            for q in range(N_CTX):
                sq = slot[q]
                smp[sq], smn[sq] = _sm_next(int(smp[sq]), int(smn[sq]), y)
            if mctx >= 0:
                msm[mctx] = _next(int(msm[mctx]), y, 31)
            apm[na] = int(apm[na]) + (((y << 16) - int(apm[na])) >> _APM_RATE)
            c0 = (c0 << 1) | y
            nib = (nib << 1) | y
        c = c0 & 0xFF
        if decode:
            data[i] = c

        # Byte contexts for the next byte.
        c8 = ((c8 << 8) | (c4 >> 24)) & _M
        c4 = ((c4 << 8) | c) & _M
        lc = c + 32 if 65 <= c <= 90 else c
        if 97 <= lc <= 122 or lc >= 128:
            word = ((word + lc + 1) * 0x2F0B4A13) & _M
        elif word:
            prev_word = word
            word = 0
        if c == 10:
            prev_line = line
            line = i + 1
        col = i + 1 - line
        above = int(data[prev_line + col]) if prev_line + col < line else 0
        h4 = _mix32(c4)
        ctx[6] = _mix32((min(col, 255) << 16 | above << 8 | c) + (7 << 24))
        ctx[0] = _mix32((c4 & 0xFFFF) + (2 << 24))
        ctx[1] = _mix32((c4 & 0xFFFFFF) + (3 << 24))
        ctx[2] = _mix32(h4 + 4)
        ctx[3] = _mix32((h4 + (c8 & 0xFFFF) * 0x9E3779B + 6) & _M)
        ctx[4] = _mix32((word + 0x3C6EF372) & _M) if word else _mix32(c + 0x7F000000)
        ctx[5] = _mix32(((word * 0x1B873593) & _M) ^ _mix32(prev_word + 0x1234))
        for q in range(N_HASHED):
            _touch(t, nb2, ctx[q] + 0x9E3779B1)

        # Match model: follow the current match, or look up the last place these 6 bytes occurred.
        pos = i + 1
        if mlen > 0:
            if int(data[mptr]) == c:
                mlen = min(mlen + 1, 65535)
                mptr += 1
            else:
                mlen = 0
        if pos >= _MIN_MATCH:
            hm = (_mix32((c4 ^ _mix32((c8 & 0xFFFF) + 0x51ED27)) & _M) * match_entries) >> 32
            if mlen == 0:
                cand = int(mt[hm])
                if cand > 0:
                    n = 0
                    while n < 32 and n < cand and data[cand - 1 - n] == data[pos - 1 - n]:
                        n += 1
                    if n >= _MIN_MATCH:
                        mlen = n
                        mptr = cand
            mt[hm] = pos
    if decode:
        return out, 0
    out = arith.room(out, st[3], 8)
    return out, arith.flush(st, out)
