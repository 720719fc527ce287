"""The `cmx2` model: `cmx`'s model (`kbound.backends.cmx_model`) with more inputs, contexts and a fourth mixer.

The strongest, slowest tier. Everything `cmx_model` describes is here, the same, with these
additions (each can be switched off through `opts` to measure it; `bench/bench_cm.py --ablate`):

* CONFIDENCE: a third input per context, its counter's probability in the linear domain
  ((p - 1/2) at 11 bits), as paq8's context maps add beside st(p).
* CERTAIN: a fourth input per context, the history map's st(p) when the context's bit
  history (at least two bits) is all zeros or all ones, else 0: paq8's input for a context
  that has seen only one value of the bit.
* TEXT: three more hashed word contexts: the current word with the previous two; the
  previous word, the bytes since it ended (spaces, punctuation) and the current word; the
  innermost open bracket or quote with the current word and the last byte.
* CJK_WORDS: a UTF-8 character of three bytes from U+2E80 on (CJK ideographs, kana, their
  punctuation) or of four bytes ends a word of its own, so the word contexts become character
  contexts for Chinese and Japanese, which have no spaces (`cmx` treats a whole run of
  non-ASCII bytes as one word).
* LOW_ORDERS: order 0 again as two hashed contexts in one bucket, so its counters and history
  move twice a bit: an order 0 that adapts faster than the direct one, with the inputs above.
* FOURTH_MIXER: a fourth first-layer mixer, its weight set chosen by a 2048-way hash of the
  previous two bytes and the bit position; the final mixer takes five inputs.

The tables grow to 1 KiB an input byte (cmx: 256 B), 2 GiB at most by default (`cmx2.tables_mem`).
Integer arithmetic below 2^63 only, as in `cmx_model`: the same bytes under numba and as plain Python.
"""

from __future__ import annotations

import numpy as np

from kbound.backends import arith
from kbound.backends.cm_model import _INIT as _INIT_MATCH  # the match model keeps cm's 5-bit counters
from kbound.backends.cm_model import (
    SQUASH,
    STRETCH,
    _between,
    _dot,
    _find,
    _kind,
    _mix32,
    _next,
    _touch,
    _train,
)
from kbound.backends.cmx_model import _apm3_rows, _apm_init, _cnext, _dot3, _hm_next, _run_rows
from kbound.backends.jit import njit
from kbound.backends.jit import prefetch as _prefetch

_M = 0xFFFFFFFF
N_DIRECT = 2  # orders 0 and 1
N_HASHED = 20  # orders 2-6, 8; word; word pair; column; sparse; speaker; sparse; line start; indirect; words 0 and 2;
# three words; the previous word and what followed it; the nearest open bracket or quote; order 0 twice
N_CTX = N_DIRECT + N_HASHED
_RUN_Q = np.array([0, 1, 2, 4, 6, 7], np.int64)  # the hashed contexts with a run model: orders 2-4, 6, words
N_RUN = _RUN_Q.size
# Per context: counter, history, confidence, certainty; then match confidence and vote, runs, bias.
N_INPUTS = 4 * N_CTX + 3 + N_RUN
_RUN_ROWS = 1 << 22  # entries of the run table (16 MiB), mem allowing
_LIMIT = 127  # counters keep a 7-bit count (cm: 5), so stationary contexts settle to 1/128.5
_COUNT_BITS = 7
_INIT = (1 << 30) | 1  # p = 1/2, count 0, empty history, with the 7-bit count
_APM_RATE = 6
_MIN_MATCH = 6
_LR = 2
_LR_FINAL = 1
_LR_BOOST = 4  # the mixers' rate starts at 5 x _LR and is (1 + 4 D / (i + D)) x _LR at byte i
_LR_DECAY = 4096
_APM3_ROWS = 1 << 16  # rows of the order-2 and order-3 APMs (hashed context and partial byte), mem allowing
_HISTORY_ROWS = 256 * 8 * 4  # a history map per context: bit history x bit position x kind of previous byte
_TRAIN_ABOVE = 16
_SETS_A = 4 * 4 * 3 * 256  # kinds of the previous two bytes x match state x partial byte
_SETS_B = 256 * 8 * 4  # previous byte x bit position x kind of the byte before it
_SETS_C = 7 * 4 * 256  # how many of orders 2-6 and 8 have been seen x kind of previous byte x partial byte
_SETS_F = 7 * 3 * 256
_SETS_D = 2048 * 8  # a hash of the previous two bytes x bit position  # seen x match state x partial byte

#: Components `opts` can switch off, for measuring them; the backend uses ALL.
ORDER0, HIGH_ORDERS, SPARSE, WORDS, SECOND_MIXER, SECOND_APM, MATCH_VOTE, THIRD_MIXER = 1, 2, 4, 8, 16, 32, 64, 128
INDIRECT, RUNS, LINES = 256, 512, 1024
CONFIDENCE, CJK_WORDS, CERTAIN, TEXT, FOURTH_MIXER, LOW_ORDERS = 2048, 4096, 8192, 16384, 32768, 65536
ALL = 131071


def table_bytes(mem: int) -> tuple[int, int]:
    """How `mem` is split: the number of 64-byte buckets and of match-table entries."""
    weights = (_SETS_A + _SETS_B + _SETS_C + _SETS_D) * N_INPUTS + 5 * _SETS_F
    match_entries = mem // 32
    apms = 2 * 33 * (65 * 256 + 65536 + 2 * _apm3_rows(match_entries))
    runs = 4 * _run_rows(match_entries) + 4 * N_RUN * 256
    fixed = runs + 4 * (2 * 65536 + 256 + weights + _HISTORY_ROWS * N_CTX + 64) + apms
    buckets = (mem - fixed - 4 * match_entries) // 64
    return buckets, match_entries


def new_tables(mem: int) -> tuple[np.ndarray, np.ndarray]:
    """The zeroed context and match tables that `mem` allows (buckets on 64-byte boundaries)."""
    buckets, match_entries = table_bytes(mem)
    raw = np.zeros(buckets * 16 + 16, np.int32)
    start = (-raw.ctypes.data // 4) % 16
    return raw[start : start + buckets * 16], np.zeros(match_entries, np.int32)


def _same_table() -> np.ndarray:
    """1 for a bit history (the last bits seen, below a leading 1) of at least two bits, all alike."""
    same = np.zeros(256, np.int64)
    for h in range(4, 256):
        top = h.bit_length() - 1
        bits = h & ((1 << top) - 1)
        same[h] = int(bits == 0 or bits == (1 << top) - 1)
    return same


_SAME = _same_table()


@njit(cache=True)
def code(
    data: np.ndarray, t: np.ndarray, mt: np.ndarray, decode: bool, src: np.ndarray, opts: int
) -> tuple[np.ndarray, int]:
    """Encode `data` (or decode into it from `src`); return the coder's output and its length."""
    buckets = t.size // 16
    match_entries = mt.size
    squash = SQUASH
    stretch = STRETCH
    t0 = np.full(256, _INIT, np.int32)
    t1 = np.full(65536, _INIT, np.int32)
    nb2 = buckets - 2
    msm = np.full(64, _INIT_MATCH, np.int32)
    smp = np.full(N_CTX * _HISTORY_ROWS, (1 << 21) << 10, np.uint32)  # probability << 10 | count: 32 bits, one load
    slot = np.zeros(N_CTX, np.int64)
    w0 = (1 << 16) * 9 // (4 * N_INPUTS)  # the inputs' weights start summing to 2.25 (5/4 or 14/4 did worse)
    wa = np.full(_SETS_A * N_INPUTS, w0, np.int32)
    wb = np.full(_SETS_B * N_INPUTS, w0, np.int32)
    wc = np.full(_SETS_C * N_INPUTS, w0, np.int32)
    wd = np.full(_SETS_D * N_INPUTS, w0, np.int32)
    wf = np.zeros(_SETS_F * 5, np.int32)
    for j in range(_SETS_F):
        share = (1 << 16) // 4 if opts & FOURTH_MIXER else (1 << 16) // 3
        wf[5 * j] = share
        wf[5 * j + 1] = share
        wf[5 * j + 3] = share
        wf[5 * j + 4] = share if opts & FOURTH_MIXER else 0
    xf = np.zeros(5, np.int32)
    run_rows = _run_rows(match_entries)
    rt = np.zeros(run_rows, np.int32)  # a 15-bit check, the last byte, how many times in a row (to 255)
    rsm = np.full(N_RUN * 256, (1 << 21) << 10, np.uint32)  # the run map, packed as smp
    ridx = np.zeros(N_RUN, np.int64)
    rchk = np.zeros(N_RUN, np.int64)
    rexp = np.zeros(N_RUN, np.int64)
    rcnt = np.zeros(N_RUN, np.int64)
    rslot = np.zeros(N_RUN, np.int64)
    ind2 = np.zeros(65536, np.int32)
    apm2 = np.zeros(65536 * 33, np.uint16)
    rows3 = _apm3_rows(match_entries)
    apm3 = np.zeros(rows3 * 33, np.uint16)
    apm4 = np.zeros(rows3 * 33, np.uint16)
    _apm_init(apm4)
    apm1 = np.zeros(65 * 256 * 33, np.uint16)  # by match state (none, or 2 x length bucket + bit) and partial byte
    _apm_init(apm1)
    _apm_init(apm2)
    _apm_init(apm3)
    off = np.zeros(N_HASHED, np.int64)  # contexts switched off by opts
    if not opts & HIGH_ORDERS:
        off[3] = 1
        off[5] = 1
    if not opts & WORDS:
        off[6] = 1
        off[7] = 1
        off[14] = 1
    if not opts & SPARSE:
        off[9] = 1
        off[11] = 1
    if not opts & LINES:
        off[10] = 1
        off[12] = 1
    if not opts & TEXT:
        off[15] = 1
        off[16] = 1
        off[17] = 1
    if not opts & LOW_ORDERS:
        off[18] = 1
        off[19] = 1

    st = arith.new_decoder(src) if decode else arith.new_encoder()
    out = np.zeros(64 if decode else data.size // 3 + 64, np.uint8)
    ctx = np.zeros(N_HASHED, np.int64)
    base = np.zeros(N_HASHED, np.int64)
    x = np.zeros(N_INPUTS, np.int32)  # inputs fit 12 bits; int32 halves the mixers' loads
    c4 = 0
    c8 = 0
    gap = 0  # a hash of the bytes since the last word ended
    opener = 0  # the innermost bracket or quote still open, or 0
    word = 0
    prev_word = 0
    prev_word2 = 0
    mlen = 0
    mptr = 0
    line = 0
    prev_line = 0
    lh = 0
    speaker = 0
    part = 0  # the bytes of the current character so far, with a leading 1
    need = 0  # continuation bytes the current character still needs
    for i in range(data.size):
        lr = (_LR << 4) + ((_LR << 4) * _LR_BOOST * _LR_DECAY) // (i + _LR_DECAY)  # in 1/16ths
        if not decode:
            out = arith.room(out, st[3], arith.MAX_BYTES_PER_BYTE)
        c = 0 if decode else int(data[i])
        c1 = c4 & 0xFF
        kind = _kind(c1)
        expected = int(data[mptr]) | 256 if mlen > 0 else 0
        kind2 = _kind((c4 >> 8) & 0xFF)
        for r in range(N_RUN):
            e = int(rt[ridx[r]])
            if i > 0 and opts & RUNS and ((e >> 16) & 0xFFFF) == rchk[r]:
                rexp[r] = ((e >> 8) & 0xFF) | 256
                rcnt[r] = e & 0xFF
            else:
                rexp[r] = 0
                rcnt[r] = 0

        c0 = 1
        nib = 1
        h2sel = (_mix32((c4 & 0xFFFF) + 0x77777) * 2048) >> 32
        r3 = ((_mix32(((c4 & 0xFFFF) << 8) | 1) * rows3) >> 32) * 33
        k4 = (_mix32(c4 & 0xFFFFFF) + 99) & _M
        r4 = ((_mix32((k4 + 0x9E3779B1) & _M) * rows3) >> 32) * 33
        _prefetch(apm4, r4)
        _prefetch(apm4, r4 + 32)
        _prefetch(apm3, r3)
        _prefetch(apm3, r3 + 32)
        _prefetch(apm2, ((c4 & 0xFF) << 8 | 1) * 33)
        _prefetch(apm2, ((c4 & 0xFF) << 8 | 1) * 33 + 32)  # the APM rows of the first bit
        for j in range(8):
            if j == 0 or j == 4:
                for q in range(N_HASHED):
                    base[q] = _find(t, nb2, ctx[q] + c0 * 0x9E3779B1, _INIT, _COUNT_BITS)
                nib = 1
            elif j == 3:
                for q in range(N_HASHED):
                    _touch(t, nb2, ctx[q] + (c0 << 1) * 0x9E3779B1)
                    _touch(t, nb2, ctx[q] + ((c0 << 1) | 1) * 0x9E3779B1)
            slot[0] = t0[c0]
            slot[1] = t1[(c1 << 8) | c0]
            for q in range(N_HASHED):
                slot[N_DIRECT + q] = t[base[q] + nib]
            seen = 0
            for q in range(N_CTX):
                v = slot[q]
                if 2 <= q < 8 and ((v >> 8) & 127) > 1:
                    seen += 1
                x[q] = stretch[v >> 19]
                slot[q] = ((q * 4 + kind) * 8 + j) * 256 + (v & 255)
                x[N_CTX + q] = stretch[int(smp[slot[q]]) >> 20]
                x[2 * N_CTX + 3 + N_RUN + q] = ((v >> 19) - 2048) >> 1 if opts & CONFIDENCE else 0
                x[3 * N_CTX + 3 + N_RUN + q] = x[N_CTX + q] if opts & CERTAIN and _SAME[v & 255] else 0
            if not opts & ORDER0:
                x[0] = 0
                x[N_CTX] = 0
            for q in range(N_HASHED if opts != ALL else 0):
                if off[q]:
                    x[N_DIRECT + q] = 0
                    x[N_CTX + N_DIRECT + q] = 0
            mctx = -1
            x[2 * N_CTX] = 0
            x[2 * N_CTX + 1] = 0
            if mlen > 0 and (expected >> (8 - j)) == c0:
                bit = (expected >> (7 - j)) & 1
                mctx = 2 * (mlen if mlen < 16 else min(16 + ((mlen - 16) >> 3), 31)) + bit
                x[2 * N_CTX] = stretch[msm[mctx] >> 17]
                if opts & MATCH_VOTE:
                    x[2 * N_CTX + 1] = (2 * bit - 1) * min(mlen, 32) * 32
            for r in range(N_RUN):
                rslot[r] = -1
                x[2 * N_CTX + 2 + r] = 0
                if rexp[r] and (rexp[r] >> (8 - j)) == c0:
                    rb = (rexp[r] >> (7 - j)) & 1
                    rslot[r] = (((r << 4) + min(rcnt[r], 15)) << 4) + (j << 1) + rb
                    x[2 * N_CTX + 2 + r] = stretch[int(rsm[rslot[r]]) >> 20]
            x[2 * N_CTX + 2 + N_RUN] = 256
            sa = (c0 + (0 if mctx < 0 else (256 if mlen < 16 else 512)) + (kind * 4 + kind2) * 768) * N_INPUTS
            sb = ((((c1 << 3) | j) << 2) + kind2) * N_INPUTS
            sc = ((seen * 4 + kind) * 256 + c0) * N_INPUTS
            da, db, dc = _dot3(x, wa, sa, wb, sb, wc, sc, N_INPUTS)
            sd = ((h2sel << 3) | j) * N_INPUTS
            dd = _dot(x, wd, sd, N_INPUTS) if opts & FOURTH_MIXER else 0
            if opts & SECOND_MIXER:
                xf[0] = da
                xf[1] = db
                xf[2] = 256
                if opts & THIRD_MIXER:
                    xf[3] = dc
                if opts & FOURTH_MIXER:
                    xf[4] = dd
                sf = (c0 + (0 if mctx < 0 else (256 if mlen < 16 else 512)) + 768 * seen) * 5
                dot = _dot(xf, wf, sf, 5)
            else:
                sf = 0
                dot = da
            pm = int(squash[dot + 2047])
            a1 = ((mctx + 1) * 256 + c0) * 33 + ((dot + 2048) >> 7)
            aw = (dot + 2048) & 127
            pa1 = _between(int(apm1[a1]), int(apm1[a1 + 1]), aw)
            a2 = ((c1 << 8) | c0) * 33 + ((dot + 2048) >> 7)
            a3 = r3 + ((dot + 2048) >> 7)
            a4 = r4 + ((dot + 2048) >> 7)
            if opts & SECOND_APM:
                pa2 = _between(int(apm2[a2]), int(apm2[a2 + 1]), aw)
                pa3 = _between(int(apm3[a3]), int(apm3[a3 + 1]), aw)
                pa4 = _between(int(apm4[a4]), int(apm4[a4 + 1]), aw)
                p = (pm * 32 + 2 * pa1 + 4 * pa2 + 4 * pa3 + 4 * pa4) >> 4
            else:
                p = (pm * 16 + pa1) >> 1
            p = min(max(p, 32), arith.PROB_ONE - 32)
            if decode:
                y = arith.decode_bit(st, src, p)
            else:
                y = (c >> (7 - j)) & 1
                arith.encode_bit(st, out, p, y)

            miss = (y << 12) - int(squash[da + 2047])
            if miss > _TRAIN_ABOVE or miss < -_TRAIN_ABOVE:
                _train(x, wa, sa, N_INPUTS, (miss * lr) >> 4)
            if opts & SECOND_MIXER:
                miss = (y << 12) - int(squash[db + 2047])
                if miss > _TRAIN_ABOVE or miss < -_TRAIN_ABOVE:
                    _train(x, wb, sb, N_INPUTS, (miss * lr) >> 4)
                if opts & THIRD_MIXER:
                    miss = (y << 12) - int(squash[xf[3] + 2047])
                    if miss > _TRAIN_ABOVE or miss < -_TRAIN_ABOVE:
                        _train(x, wc, sc, N_INPUTS, (miss * lr) >> 4)
                miss = (y << 12) - pm
                if miss > _TRAIN_ABOVE or miss < -_TRAIN_ABOVE:
                    _train(xf, wf, sf, 5, (miss * lr * _LR_FINAL // _LR) >> 4)
                if opts & FOURTH_MIXER:
                    miss = (y << 12) - int(squash[dd + 2047])
                    if miss > _TRAIN_ABOVE or miss < -_TRAIN_ABOVE:
                        _train(x, wd, sd, N_INPUTS, (miss * lr) >> 4)
            t0[c0] = _cnext(int(t0[c0]), y)
            i1 = (c1 << 8) | c0
            t1[i1] = _cnext(int(t1[i1]), y)
            for q in range(N_HASHED):
                iq = base[q] + nib
                t[iq] = _cnext(int(t[iq]), y)
            for q in range(N_CTX):
                smp[slot[q]] = _hm_next(int(smp[slot[q]]), y)
            for r in range(N_RUN):
                if rslot[r] >= 0:
                    rsm[rslot[r]] = _hm_next(int(rsm[rslot[r]]), y)
            if mctx >= 0:
                msm[mctx] = _next(int(msm[mctx]), y, 31)
            apm1[a1] = int(apm1[a1]) + ((((y << 16) - int(apm1[a1])) * (128 - aw)) >> (_APM_RATE + 6))
            apm1[a1 + 1] = int(apm1[a1 + 1]) + ((((y << 16) - int(apm1[a1 + 1])) * aw) >> (_APM_RATE + 6))
            apm2[a2] = int(apm2[a2]) + ((((y << 16) - int(apm2[a2])) * (128 - aw)) >> (_APM_RATE + 6))
            apm2[a2 + 1] = int(apm2[a2 + 1]) + ((((y << 16) - int(apm2[a2 + 1])) * aw) >> (_APM_RATE + 6))
            apm3[a3] = int(apm3[a3]) + ((((y << 16) - int(apm3[a3])) * (128 - aw)) >> (_APM_RATE + 6))
            apm3[a3 + 1] = int(apm3[a3 + 1]) + ((((y << 16) - int(apm3[a3 + 1])) * aw) >> (_APM_RATE + 6))
            apm4[a4] = int(apm4[a4]) + ((((y << 16) - int(apm4[a4])) * (128 - aw)) >> (_APM_RATE + 6))
            apm4[a4 + 1] = int(apm4[a4 + 1]) + ((((y << 16) - int(apm4[a4 + 1])) * aw) >> (_APM_RATE + 6))
            c0 = (c0 << 1) | y
            nib = (nib << 1) | y
            if j < 7:  # the APM rows of the next bit, loaded while the next inputs are mixed
                r3 = ((_mix32(((c4 & 0xFFFF) << 8) | c0) * rows3) >> 32) * 33
                r4 = ((_mix32((k4 + c0 * 0x9E3779B1) & _M) * rows3) >> 32) * 33
                _prefetch(apm4, r4)
                _prefetch(apm4, r4 + 32)
                _prefetch(apm3, r3)
                _prefetch(apm3, r3 + 32)
                _prefetch(apm2, ((c1 << 8) | c0) * 33)
                _prefetch(apm2, ((c1 << 8) | c0) * 33 + 32)
        c = c0 & 0xFF
        if decode:
            data[i] = c

        # Indirect context: what followed the last two occurrences of the previous two bytes.
        i2 = c4 & 0xFFFF
        ind2[i2] = ((int(ind2[i2]) << 8) | c) & 0xFFFF

        # Run model: each context's last byte, and how many times in a row it came.
        for r in range(N_RUN):
            if rexp[r] and (rexp[r] & 0xFF) == c:
                rt[ridx[r]] = (rchk[r] << 16) | (c << 8) | min(rcnt[r] + 1, 255)
            else:
                rt[ridx[r]] = (rchk[r] << 16) | (c << 8) | 1

        # Byte contexts for the next byte.
        c8 = ((c8 << 8) | (c4 >> 24)) & _M
        c4 = ((c4 << 8) | c) & _M
        # UTF-8 characters as units.
        done = False
        if need > 0 and 128 <= c < 192:
            part = (part << 8) | c
            need -= 1
            done = need == 0
        else:
            part = 256 | c
            need = 1 if 192 <= c < 224 else 2 if 224 <= c < 240 else 3 if 240 <= c < 248 else 0
            done = need == 0
        cjk = False
        if done:  # a three-byte character from U+2E80 on (CJK and its punctuation), or a four-byte one
            cjk = part >= 1 << 32 or (part >= 1 << 24 and (part & 0xFFFFFF) >= 0xE2BA80)
            part = 1
        lc = c + 32 if 65 <= c <= 90 else c
        if cjk and opts & CJK_WORDS:  # each CJK character is a word of its own
            word = ((word + lc + 1) * 0x2F0B4A13) & _M
            prev_word2 = prev_word
            prev_word = word
            word = 0
        elif 97 <= lc <= 122 or lc >= 128:
            if word == 0:
                gap = 0
            word = ((word + lc + 1) * 0x2F0B4A13) & _M
        else:
            if word:
                prev_word2 = prev_word
                prev_word = word
                word = 0
            gap = ((gap + c + 1) * 0x01000193) & _M
        if c == 40 or c == 91 or c == 123 or c == 60:
            opener = c
        elif c == 41 or c == 93 or c == 125 or c == 62:
            opener = 0
        elif c == 34:
            opener = 0 if opener == 34 else 34
        lh = ((lh + c + 1) * 0x3C6EF372) & _M
        if c == 10:
            if c1 == 58:  # a line that ends with a colon names who speaks (a play) or what follows
                speaker = lh
            lh = 0
            prev_line = line
            line = i + 1
        col = i + 1 - line
        above = int(data[prev_line + col]) if prev_line + col < line else 0
        h4 = _mix32(c4)
        ctx[0] = _mix32((c4 & 0xFFFF) + (2 << 24))
        ctx[1] = _mix32((c4 & 0xFFFFFF) + (3 << 24))
        ctx[2] = _mix32(h4 + 4)
        ctx[3] = _mix32((h4 + (c8 & 0xFF) * 0x9E3779B + 5) & _M)
        ctx[4] = _mix32((h4 + (c8 & 0xFFFF) * 0x9E3779B + 6) & _M)
        ctx[5] = _mix32((h4 + _mix32(c8 + 8) * 0x2545F491 + 8) & _M)
        ctx[6] = _mix32((word + 0x3C6EF372) & _M) if word else _mix32(c + 0x7F000000)
        ctx[7] = _mix32(((word * 0x1B873593) & _M) ^ _mix32(prev_word + 0x1234))
        ctx[8] = _mix32((min(col, 255) << 16 | above << 8 | c) + (7 << 24))
        ctx[9] = _mix32((c4 & 0xFFFF00) + 9)
        ctx[10] = _mix32(((word * 0x1B873593) & _M) ^ _mix32(speaker + 0x9999))
        ctx[11] = _mix32((c4 & 0xFF00FF) + (11 << 24))
        first = int(data[line]) if line <= i else 10  # the line's first byte (a newline before it has one)
        ctx[12] = _mix32(((word * 0x2545F491) & _M) ^ (first + (12 << 24)))
        ctx[13] = _mix32((int(ind2[c4 & 0xFFFF]) << 16 | (c4 & 0xFFFF)) ^ 0x3D4D51C3)
        ctx[14] = _mix32(((word * 0x2F0B4A13) & _M) ^ _mix32(prev_word2 + 0x7777))
        if not opts & INDIRECT:
            ctx[13] = 0
        if opts & TEXT:
            ctx[15] = _mix32(((ctx[7] * 0x2F0B4A13) & _M) ^ _mix32(prev_word2 + 0x3333))
            ctx[16] = _mix32((_mix32(prev_word + 0x4444) + gap * 0x9E3779B1 + word * 0x2545F491 + 18) & _M)
            ctx[17] = _mix32((_mix32(opener + 0x5555) + word * 0x9E3779B1 + c * 0x2545F491) & _M)
        else:
            ctx[15] = 0
            ctx[16] = 0
            ctx[17] = 0
        if opts & LOW_ORDERS:  # order 0 twice in one bucket: its counters move twice a bit, a fast order 0
            ctx[18] = 0x51C0FFEE
            ctx[19] = 0x51C0FFEE
        else:
            ctx[18] = 0
            ctx[19] = 0
        for q in range(N_HASHED):
            _touch(t, nb2, ctx[q] + 0x9E3779B1)
        for r in range(N_RUN):
            hr = _mix32((ctx[_RUN_Q[r]] + 0x2B1D3C5F) & _M)
            ridx[r] = (hr * run_rows) >> 32
            rchk[r] = hr & 0x7FFF
            _prefetch(rt, ridx[r])

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
