"""The `cmx2` model: `cmx`'s model (`kbound.backends.cmx_model`) with more inputs, contexts and mixers.

The strongest, slowest tier. Everything `cmx_model` describes is here, the same, with these
additions (each can be switched off through `opts` to measure it; `bench/bench_cm.py --ablate
BYTES --ablate-model cmx2`):

* CONFIDENCE: a third input per context, its counter's probability in the linear domain
  ((p - 1/2) at 11 bits), as paq8's context maps add beside st(p).
* TEXT: three more hashed word contexts: the current word with the previous two; the
  previous word, the bytes since it ended (spaces, punctuation) and the current word; the
  innermost open bracket or quote with the current word and the last byte.
* CJK_WORDS: a UTF-8 character of three bytes from U+2E80 on (CJK ideographs, kana, their
  punctuation) or of four bytes ends a word of its own, so the word contexts become character
  contexts for Chinese and Japanese, which have no spaces (`cmx` treats a whole run of
  non-ASCII bytes as one word).
* LOW_ORDERS: order 0 again as two hashed contexts in one bucket, so its counters and history
  move twice a bit: an order 0 that adapts faster than the direct one, with the inputs above.
* FOURTH_MIXER: a first-layer mixer whose weight set is chosen by a 2048-way hash of the
  previous two bytes and the bit position.

Format 2 added, after paq8px's word and match models (bench/CM_RESULTS.md measures each):

* MATCH_CTX: a hashed context of the match model's expected byte and length (the previous
  byte when there is no match), so what usually follows a predicted byte is learnt.
* CLASSES: contexts of byte classes (lower case, upper case, digit, non-ASCII, any other byte
  itself) of the last 8 bytes, and of the last 4 with the last 2 bytes (paq8px's `groups`).
* GAP_WORD: the current word, the bytes before it (since the word before ended) and the last byte.
* BLOCK: the current word in the current 1 KiB block (words that come in bursts).
* WORD_DISTANCE: how far back (log2) the word so far last ended as a whole word, with the
  word, and with the previous word and the gap since it (paq8px's `dist`).
* KEYWORD: the word before the last ':' or '=' on the line, with the current word and byte.
* COLUMNS: four column contexts: with the last byte; with the previous line's length; with
  whether the last byte is a space; with the classes of the last two bytes.
* LONG_MATCH: a second match model that finds the last place the previous 16 bytes
  occurred (two inputs: its history map's st(p) and a vote by length).
* WORD_MIXER, CLASS_MIXER, LENGTH_MIXER: three more first-layer mixers, chosen by a hash
  of the word and the previous byte with the match state; by a hash of the last three
  bytes' classes and the bit position; by the letters in the word so far and the partial byte.
* SECOND_FINAL: a second final mixer (chosen by the word's length, the previous byte's kind,
  the bit position and the column), averaged with the first in the stretched domain.
* MORE_APMS: two more APMs, by a hash of the word and the previous byte, and by which of the
  last 8 bits the coder mispredicted with the previous byte.

Format 3 added, for markup (bench/CM_RESULTS.md; enwik8-head 1.2 % smaller, alice29.txt 4 bytes larger):

* NEST: the open brackets and tags ('[', '{', '(', '<', 4 bits each, the last 8; a closing one
  pops its match; a newline empties the stack unless '{' is innermost, as templates span lines)
  with the word and the last byte, with order 2 and with order 3.
* SEGMENT: a hash of the bytes since the last '[', '{', '<' or '|' (while under 24 bytes: a
  link's target, a template's name, a table cell), and it with its head (inside '[' or '{',
  the first segment once a '|' ended it: the link's target, the template's name).
* LINE_ORDER2: the line's first byte with order 2 (lists, headings, table rows).
* NEST_MIXERS: the innermost bracket chooses weights in the second final mixer (in place of the
  column), the length mixer (with the letters in the word) and the class mixer, and joins the
  misses APM's key.

These count only once the text has had 8 '[', '{' or '<' (markup): before, their contexts take
one bucket and their inputs are zero, and the mixers' starting weights stay format 2's (3/113 an
input), so prose codes almost as format 2 did (the tables' layout moved: alice29.txt +4 bytes).

Format 1's CERTAIN input (the history's st(p) where the bit history was all zeros or all
ones) was dropped: it cost a quarter of the mixers' work for nothing (alice29.txt 3 bytes smaller
without). History maps chosen by the counter's count as well (four buckets) gave 2-12 bytes on
alice29 and 1 MB of enwik8-head for a 4 MiB map that missed the cache: not kept.

The tables grow to 1 KiB an input byte (cmx: 256 B), 2 GiB at most by default (`cmx2.tables_mem`);
the fixed tables (mixer weights, APMs, match tables) take 64-72 MiB, so `mem` is at least 128 MiB.
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
N_HASHED = 38  # orders 2-6, 8; word; word pair; column; sparse; speaker; sparse; line start; indirect; words 0 and 2;
# three words; the previous word and what followed it; the nearest open bracket or quote; order 0 twice;
# the match model's expected byte; two of byte classes; the word and the gap before it; the word in its
# 1 KiB block; two of how far back the word last ended; the keyword; four of the column; and in markup
# (format 3): the segment, three of the open brackets, the line start with order 2, the segment and its head
_MARKUP_Q = 32  # the first of the markup contexts, whose inputs are zero until the text has had 8 brackets or tags
N_CTX = N_DIRECT + N_HASHED
_RUN_Q = np.array([0, 1, 2, 4, 6, 7], np.int64)  # the hashed contexts with a run model: orders 2-4, 6, words
N_RUN = _RUN_Q.size
# Per context: counter, history, confidence; then match confidence and vote, runs, bias, long match and vote.
N_INPUTS = 3 * N_CTX + 3 + N_RUN + 2
_W0_INPUTS = 113  # format 2's inputs: the initial weights are theirs, so text without markup starts as it did
_RUN_ROWS = 1 << 22  # entries of the run table (16 MiB), mem allowing
_LIMIT = 127  # counters keep a 7-bit count (cm: 5), so stationary contexts settle to 1/128.5
_COUNT_BITS = 7
_INIT = (1 << 30) | 1  # p = 1/2, count 0, empty history, with the 7-bit count
_APM_RATE = 6
_MIN_MATCH = 6
_MIN_LONG = 16  # the long match model's: it finds the last place the previous 16 bytes occurred
_LR16 = 28  # the mixers' rate in 1/16ths (cmx: 32): 0.03-0.12 % smaller than 24 here, 20 and 32 no better on alice29
_LR_BOOST = 4  # the mixers' rate starts at 5 x _LR16 and is (1 + 4 D / (i + D)) x _LR16 at byte i
_LR_DECAY = 4096
_APM3_ROWS = 1 << 16  # rows of the hashed APMs (hashed context and partial byte), mem allowing
_HISTORY_ROWS = 256 * 8 * 4  # a history map per context: bit history x bit position x kind of previous byte
_TRAIN_ABOVE = 16
_SETS_A = 4 * 4 * 3 * 256  # kinds of the previous two bytes x match state x partial byte
_SETS_B = 256 * 8 * 4  # previous byte x bit position x kind of the byte before it
_SETS_C = 7 * 4 * 256  # how many of orders 2-6 and 8 have been seen x kind of previous byte x partial byte
_SETS_D = 2048 * 8  # a hash of the previous two bytes x bit position
_SETS_E = 4096 * 3  # a hash of the word and the previous byte x match state
_SETS_G = 2048 * 8  # a hash of the classes of the last three bytes x bit position
_SETS_H = 4 * 16 * 256  # the innermost bracket (markup only) x letters in the current word x partial byte
_SETS_F = 7 * 3 * 256  # final mixer: seen x match state x partial byte
_SETS_F2 = 8 * 4 * 8 * 16  # second final mixer: letters in the word x kind of previous byte x bit position x column
# (in markup: the innermost bracket and whether the line just began, in place of the column)
_N_MIXERS = 8  # the final mixers' inputs: mixers A, B, bias, C, D, E, G, H

#: Components `opts` can switch off, for measuring them; the backend uses ALL.
ORDER0, HIGH_ORDERS, SPARSE, WORDS, SECOND_MIXER, SECOND_APM, MATCH_VOTE, THIRD_MIXER = 1, 2, 4, 8, 16, 32, 64, 128
INDIRECT, RUNS, LINES = 256, 512, 1024
CONFIDENCE, CJK_WORDS, TEXT, FOURTH_MIXER, LOW_ORDERS = 2048, 4096, 16384, 32768, 65536
MATCH_CTX, WORD_MIXER, MORE_APMS = 1 << 17, 1 << 19, 1 << 20
CLASSES, GAP_WORD, BLOCK, CLASS_MIXER, LENGTH_MIXER = 1 << 21, 1 << 22, 1 << 23, 1 << 24, 1 << 25
LONG_MATCH, WORD_DISTANCE, KEYWORD, COLUMNS, SECOND_FINAL = 1 << 26, 1 << 27, 1 << 28, 1 << 29, 1 << 30
SEGMENT, NEST, LINE_ORDER2, NEST_MIXERS = 1 << 31, 1 << 32, 1 << 33, 1 << 34
ALL = (1 << 35) - 1 - 8192 - (1 << 18)  # 8192: format 1's CERTAIN input; 1 << 18: a history-map choice tried


def table_bytes(mem: int) -> tuple[int, int]:
    """How `mem` is split: the number of 64-byte buckets and of match-table entries."""
    weights = (_SETS_A + _SETS_B + _SETS_C + _SETS_D + _SETS_E + _SETS_G + _SETS_H) * N_INPUTS
    weights += _N_MIXERS * (_SETS_F + _SETS_F2)
    match_entries = mem // 32
    apms = 2 * 33 * (65 * 256 + 65536 + 4 * _apm3_rows(match_entries))
    runs = 4 * _run_rows(match_entries) + 4 * N_RUN * 256
    fixed = runs + 4 * (match_entries // 4) + 4 * (2 * 65536 + 256 + weights + _HISTORY_ROWS * N_CTX + 64) + apms
    buckets = (mem - fixed - 4 * match_entries) // 64
    return buckets, match_entries


def new_tables(mem: int) -> tuple[np.ndarray, np.ndarray]:
    """The zeroed context and match tables that `mem` allows (buckets on 64-byte boundaries)."""
    buckets, match_entries = table_bytes(mem)
    raw = np.zeros(buckets * 16 + 16, np.int32)
    start = (-raw.ctypes.data // 4) % 16
    return raw[start : start + buckets * 16], np.zeros(match_entries, np.int32)


@njit(cache=True)
def _prefetch_row(w: np.ndarray, start: int) -> None:
    """Prefetch a mixer's weight row (N_INPUTS int32 from w[start]: 8 or 9 cache lines)."""
    for k in range(0, N_INPUTS + 16, 16):
        _prefetch(w, start + k)


@njit(cache=True, fastmath=True)
def _dot4(
    x: np.ndarray, w1: np.ndarray, s1: int, w2: np.ndarray, s2: int, w3: np.ndarray, s3: int, w4: np.ndarray, s4: int,
    n: int,
) -> tuple[int, int, int, int]:
    """Four mixers' outputs in one pass over the inputs, exact as `cmx_model._dot3` is (n < 2^16)."""
    r1 = w1[s1 : s1 + n]
    r2 = w2[s2 : s2 + n]
    r3 = w3[s3 : s3 + n]
    r4 = w4[s4 : s4 + n]
    d1 = 0.0
    d2 = 0.0
    d3 = 0.0
    d4 = 0.0
    for k in range(n):
        xk = float(x[k])
        d1 += xk * float(r1[k])
        d2 += xk * float(r2[k])
        d3 += xk * float(r3[k])
        d4 += xk * float(r4[k])
    return (
        min(max(int(d1) >> 16, -2047), 2047),
        min(max(int(d2) >> 16, -2047), 2047),
        min(max(int(d3) >> 16, -2047), 2047),
        min(max(int(d4) >> 16, -2047), 2047),
    )


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
    w0 = (1 << 16) * 12 // (4 * _W0_INPUTS)  # format 2's weights start summing to 3 (cmx: 2.25; 0.01-0.03 % smaller)
    wa = np.full(_SETS_A * N_INPUTS, w0, np.int32)
    wb = np.full(_SETS_B * N_INPUTS, w0, np.int32)
    wc = np.full(_SETS_C * N_INPUTS, w0, np.int32)
    wd = np.full(_SETS_D * N_INPUTS, w0, np.int32)
    we = np.full(_SETS_E * N_INPUTS, w0, np.int32)
    wg = np.full(_SETS_G * N_INPUTS, w0, np.int32)
    wh = np.full(_SETS_H * N_INPUTS, w0, np.int32)
    nf = _N_MIXERS
    on = np.array([1, 1, 0, 1, opts & FOURTH_MIXER, opts & WORD_MIXER, opts & CLASS_MIXER, opts & LENGTH_MIXER])
    share = (1 << 16) // int(np.sum(on != 0))
    wf = np.zeros(_SETS_F * nf, np.int32)
    wf2 = np.zeros(_SETS_F2 * nf, np.int32)
    for k in range(nf):
        if on[k]:
            wf[k::nf] = share
            wf2[k::nf] = share
    xf = np.zeros(nf, np.int32)
    misses = 0
    col = 0
    wlen = 0
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
    apm5 = np.zeros(rows3 * 33, np.uint16)
    apm6 = np.zeros(rows3 * 33, np.uint16)
    _apm_init(apm5)
    _apm_init(apm6)
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
    if not opts & MATCH_CTX:
        off[20] = 1
    if not opts & CLASSES:
        off[21] = 1
        off[22] = 1
    if not opts & GAP_WORD:
        off[23] = 1
    if not opts & BLOCK:
        off[24] = 1
    if not opts & WORD_DISTANCE:
        off[25] = 1
        off[26] = 1
    if not opts & KEYWORD:
        off[27] = 1
    if not opts & COLUMNS:
        off[28:32] = 1
    if not opts & SEGMENT:
        off[32] = 1
        off[37] = 1
    if not opts & NEST:
        off[33:36] = 1
    if not opts & LINE_ORDER2:
        off[36] = 1
    seg = 0  # a hash of the bytes since the last '[', '{', '<' or '|'
    seglen = 0
    seg_open = 0  # the byte that began the segment
    head = 0  # inside '[' or '{': the first segment (a link's target, a template's name) once a '|' has ended it
    nest = 0  # the open brackets and tags, 4 bits each, innermost lowest (a newline empties it unless '{' is innermost)
    marks = 0  # how many '[', '{' and '<' the text has had (to 255)
    markup = False  # from 8 on: the markup contexts count, and the innermost brackets choose weights
    nm = 0  # nest in markup, else 0
    nm_sets = False
    prev_len = 0  # the previous line's length
    wpos = np.zeros(1 << 16, np.int64)  # where each word (by a 16-bit hash) last ended, with a 16-bit check
    keyword = 0  # the word before the last ':' or '=' on this line
    wdist = 0
    mt2 = np.zeros(match_entries // 4, np.int32)
    msm2 = np.full(64, _INIT_MATCH, np.int32)
    mlen2 = 0
    mptr2 = 0

    st = arith.new_decoder(src) if decode else arith.new_encoder()
    out = np.zeros(64 if decode else data.size // 3 + 64, np.uint8)
    ctx = np.zeros(N_HASHED, np.int64)
    base = np.zeros(N_HASHED, np.int64)
    x = np.zeros(N_INPUTS, np.int32)  # inputs fit 12 bits; int32 halves the mixers' loads
    c4 = 0
    c8 = 0
    gap = 0  # a hash of the bytes since the last word ended
    gap1 = 0  # the gap before the current (or last) word
    ga = 0  # classes of the last four bytes, and of the four before them
    gb = 0
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
        lr = _LR16 + (_LR16 * _LR_BOOST * _LR_DECAY) // (i + _LR_DECAY)  # in 1/16ths
        if not decode:
            out = arith.room(out, st[3], arith.MAX_BYTES_PER_BYTE)
        c = 0 if decode else int(data[i])
        c1 = c4 & 0xFF
        kind = _kind(c1)
        expected = int(data[mptr]) | 256 if mlen > 0 else 0
        expected2 = int(data[mptr2]) | 256 if mlen2 > 0 else 0
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
        k5 = (_mix32((word + 0x6A09E667) & _M) + c1 * 0x2545F491) & _M
        k6 = _mix32(((misses & 0xFF) | c1 << 8) + 0x7A5B3C00 + ((nm & 0xFF) << 16))  # the last 8 bits' misses,
        # the previous byte and (in markup) the two innermost brackets
        r5 = ((_mix32((k5 + 0x9E3779B1) & _M) * rows3) >> 32) * 33
        r6 = ((_mix32((k6 + 0x9E3779B1) & _M) * rows3) >> 32) * 33
        wsel = (_mix32((word + c1 * 0x1B873593 + 0x5BD1E995) & _M) * 4096) >> 32
        gsel = (_mix32((ga & 0xFFFFFF) + 0x2F0B4A1 + ((nm & 0xF) << 24)) * 2048) >> 32
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
            if not opts & ORDER0:
                x[0] = 0
                x[N_CTX] = 0
            if not markup:
                for q in range(N_DIRECT + _MARKUP_Q, N_CTX):
                    x[q] = 0
                    x[N_CTX + q] = 0
                    x[2 * N_CTX + 3 + N_RUN + q] = 0
            for q in range(N_HASHED if opts != ALL else 0):
                if off[q]:
                    x[N_DIRECT + q] = 0
                    x[N_CTX + N_DIRECT + q] = 0
                    x[2 * N_CTX + 3 + N_RUN + N_DIRECT + q] = 0
            mctx = -1
            x[2 * N_CTX] = 0
            x[2 * N_CTX + 1] = 0
            if mlen > 0 and (expected >> (8 - j)) == c0:
                bit = (expected >> (7 - j)) & 1
                mctx = 2 * (mlen if mlen < 16 else min(16 + ((mlen - 16) >> 3), 31)) + bit
                x[2 * N_CTX] = stretch[msm[mctx] >> 17]
                if opts & MATCH_VOTE:
                    x[2 * N_CTX + 1] = (2 * bit - 1) * min(mlen, 32) * 32
            mctx2 = -1
            x[3 * N_CTX + 3 + N_RUN] = 0
            x[3 * N_CTX + 4 + N_RUN] = 0
            if mlen2 > 0 and (expected2 >> (8 - j)) == c0:
                bit2 = (expected2 >> (7 - j)) & 1
                mctx2 = 2 * min(mlen2 >> 2, 31) + bit2
                x[3 * N_CTX + 3 + N_RUN] = stretch[msm2[mctx2] >> 17]
                x[3 * N_CTX + 4 + N_RUN] = (2 * bit2 - 1) * min(mlen2, 64) * 16
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
            sd = ((h2sel << 3) | j) * N_INPUTS
            se = (wsel * 3 + (0 if mctx < 0 else 1 + (mctx & 1))) * N_INPUTS
            sg = ((gsel << 3) | j) * N_INPUTS
            sh = ((((nm & 3) << 4 | min(wlen, 15)) << 8) | c0) * N_INPUTS
            da, db, dc = _dot3(x, wa, sa, wb, sb, wc, sc, N_INPUTS)
            dd, de, dg, dh = _dot4(x, wd, sd, we, se, wg, sg, wh, sh, N_INPUTS)
            dot2 = 0
            sf2 = 0
            if opts & SECOND_MIXER:
                xf[0] = da
                xf[1] = db
                xf[2] = 256
                xf[3] = dc if opts & THIRD_MIXER else 0
                xf[4] = dd if opts & FOURTH_MIXER else 0
                xf[5] = de if opts & WORD_MIXER else 0
                xf[6] = dg if opts & CLASS_MIXER else 0
                xf[7] = dh if opts & LENGTH_MIXER else 0
                sf = (c0 + (0 if mctx < 0 else (256 if mlen < 16 else 512)) + 768 * seen) * nf
                dot = _dot(xf, wf, sf, nf)
                dot1 = dot
                if opts & SECOND_FINAL:  # a second final mixer, and the two averaged
                    sf2 = ((((min(wlen, 7) * 4 + kind) * 8 + j) * 16) + (min(col, 15) if not nm_sets else
                           (nest & 7) * 2 + (col == 0))) * nf
                    dot2 = _dot(xf, wf2, sf2, nf)
                    dot = (dot1 + dot2) >> 1
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
            a5 = r5 + ((dot + 2048) >> 7)
            a6 = r6 + ((dot + 2048) >> 7)
            if opts & SECOND_APM:
                pa2 = _between(int(apm2[a2]), int(apm2[a2 + 1]), aw)
                pa3 = _between(int(apm3[a3]), int(apm3[a3 + 1]), aw)
                pa4 = _between(int(apm4[a4]), int(apm4[a4 + 1]), aw)
                if opts & MORE_APMS:
                    pa5 = _between(int(apm5[a5]), int(apm5[a5 + 1]), aw)
                    pa6 = _between(int(apm6[a6]), int(apm6[a6 + 1]), aw)
                    p = (pm * 32 + 2 * pa1 + 3 * pa2 + 3 * pa3 + 2 * pa4 + 2 * pa5 + 2 * pa6) >> 4
                else:
                    p = (pm * 32 + 2 * pa1 + 4 * pa2 + 4 * pa3 + 4 * pa4) >> 4
            else:
                p = (pm * 16 + pa1) >> 1
            p = min(max(p, 32), arith.PROB_ONE - 32)
            if decode:
                y = arith.decode_bit(st, src, p)
            else:
                y = (c >> (7 - j)) & 1
                arith.encode_bit(st, out, p, y)
            misses = ((misses << 1) | ((p >= 32768) != y)) & 0xFFFF

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
                if opts & SECOND_FINAL:
                    miss = (y << 12) - int(squash[dot2 + 2047])
                    if miss > _TRAIN_ABOVE or miss < -_TRAIN_ABOVE:
                        _train(xf, wf2, sf2, nf, (miss * lr // 2) >> 4)
                    miss = (y << 12) - int(squash[dot1 + 2047])
                else:
                    miss = (y << 12) - pm
                if miss > _TRAIN_ABOVE or miss < -_TRAIN_ABOVE:
                    _train(xf, wf, sf, nf, (miss * lr // 2) >> 4)
                if opts & FOURTH_MIXER:
                    miss = (y << 12) - int(squash[dd + 2047])
                    if miss > _TRAIN_ABOVE or miss < -_TRAIN_ABOVE:
                        _train(x, wd, sd, N_INPUTS, (miss * lr) >> 4)
                if opts & WORD_MIXER:
                    miss = (y << 12) - int(squash[de + 2047])
                    if miss > _TRAIN_ABOVE or miss < -_TRAIN_ABOVE:
                        _train(x, we, se, N_INPUTS, (miss * lr) >> 4)
                if opts & CLASS_MIXER:
                    miss = (y << 12) - int(squash[dg + 2047])
                    if miss > _TRAIN_ABOVE or miss < -_TRAIN_ABOVE:
                        _train(x, wg, sg, N_INPUTS, (miss * lr) >> 4)
                if opts & LENGTH_MIXER:
                    miss = (y << 12) - int(squash[dh + 2047])
                    if miss > _TRAIN_ABOVE or miss < -_TRAIN_ABOVE:
                        _train(x, wh, sh, N_INPUTS, (miss * lr) >> 4)
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
            if mctx2 >= 0:
                msm2[mctx2] = _next(int(msm2[mctx2]), y, 31)
            apm1[a1] = int(apm1[a1]) + ((((y << 16) - int(apm1[a1])) * (128 - aw)) >> (_APM_RATE + 6))
            apm1[a1 + 1] = int(apm1[a1 + 1]) + ((((y << 16) - int(apm1[a1 + 1])) * aw) >> (_APM_RATE + 6))
            apm2[a2] = int(apm2[a2]) + ((((y << 16) - int(apm2[a2])) * (128 - aw)) >> (_APM_RATE + 6))
            apm2[a2 + 1] = int(apm2[a2 + 1]) + ((((y << 16) - int(apm2[a2 + 1])) * aw) >> (_APM_RATE + 6))
            apm3[a3] = int(apm3[a3]) + ((((y << 16) - int(apm3[a3])) * (128 - aw)) >> (_APM_RATE + 6))
            apm3[a3 + 1] = int(apm3[a3 + 1]) + ((((y << 16) - int(apm3[a3 + 1])) * aw) >> (_APM_RATE + 6))
            apm4[a4] = int(apm4[a4]) + ((((y << 16) - int(apm4[a4])) * (128 - aw)) >> (_APM_RATE + 6))
            apm4[a4 + 1] = int(apm4[a4 + 1]) + ((((y << 16) - int(apm4[a4 + 1])) * aw) >> (_APM_RATE + 6))
            if opts & MORE_APMS:
                apm5[a5] = int(apm5[a5]) + ((((y << 16) - int(apm5[a5])) * (128 - aw)) >> (_APM_RATE + 6))
                apm5[a5 + 1] = int(apm5[a5 + 1]) + ((((y << 16) - int(apm5[a5 + 1])) * aw) >> (_APM_RATE + 6))
                apm6[a6] = int(apm6[a6]) + ((((y << 16) - int(apm6[a6])) * (128 - aw)) >> (_APM_RATE + 6))
                apm6[a6 + 1] = int(apm6[a6 + 1]) + ((((y << 16) - int(apm6[a6 + 1])) * aw) >> (_APM_RATE + 6))
            c0 = (c0 << 1) | y
            nib = (nib << 1) | y
            if j < 7:  # the APM rows of the next bit, loaded while the next inputs are mixed
                r3 = ((_mix32(((c4 & 0xFFFF) << 8) | c0) * rows3) >> 32) * 33
                r4 = ((_mix32((k4 + c0 * 0x9E3779B1) & _M) * rows3) >> 32) * 33
                r5 = ((_mix32((k5 + c0 * 0x9E3779B1) & _M) * rows3) >> 32) * 33
                k6 = _mix32(((misses & 0xFF) | c1 << 8) + 0x7A5B3C00 + ((nm & 0xFF) << 16))
                r6 = ((_mix32((k6 + c0 * 0x9E3779B1) & _M) * rows3) >> 32) * 33
                _prefetch(apm4, r4)
                _prefetch(apm4, r4 + 32)
                _prefetch(apm3, r3)
                _prefetch(apm3, r3 + 32)
                _prefetch(apm2, ((c1 << 8) | c0) * 33)
                _prefetch(apm2, ((c1 << 8) | c0) * 33 + 32)
                _prefetch(apm5, r5)
                _prefetch(apm5, r5 + 32)
                _prefetch(apm6, r6)
                _prefetch(apm6, r6 + 32)
                # The next bit's weight rows (their likely ones: a hint only), loaded while this bit's counters move.
                live = mlen > 0 and (expected >> (7 - j)) == c0
                jn = j + 1
                _prefetch_row(wa, (c0 + (0 if not live else (256 if mlen < 16 else 512)) + (kind * 4 + kind2) * 768)
                              * N_INPUTS)
                _prefetch_row(wb, ((((c1 << 3) | jn) << 2) + kind2) * N_INPUTS)
                _prefetch_row(wc, ((seen * 4 + kind) * 256 + c0) * N_INPUTS)
                _prefetch_row(wd, ((h2sel << 3) | jn) * N_INPUTS)
                _prefetch_row(we, (wsel * 3 + (0 if not live else 1 + ((expected >> (7 - jn)) & 1))) * N_INPUTS)
                _prefetch_row(wg, ((gsel << 3) | jn) * N_INPUTS)
                _prefetch_row(wh, ((((nm & 3) << 4 | min(wlen, 15)) << 8) | c0) * N_INPUTS)
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
            wlen += 1
            if word == 0:
                wlen = 1
                gap1 = gap
                gap = 0
            word = ((word + lc + 1) * 0x2F0B4A13) & _M
        else:
            if word:
                wpos[word & 0xFFFF] = ((word >> 16) << 40) | (i + 1)
                prev_word2 = prev_word
                prev_word = word
                word = 0
            if c == 58 or c == 61:
                keyword = prev_word
            elif c == 10:
                keyword = 0
            gap = ((gap + c + 1) * 0x01000193) & _M
            wlen = 0
        gb = ((gb << 8) | (ga >> 24)) & _M
        cls = 1 if 97 <= c <= 122 else 2 if 65 <= c <= 90 else 3 if 48 <= c <= 57 else 4 if c >= 128 else c
        ga = ((ga << 8) | cls) & _M  # classes: lower case, upper case, digit, non-ASCII, any other byte itself
        if c == 40 or c == 91 or c == 123 or c == 60:
            opener = c
        elif c == 41 or c == 93 or c == 125 or c == 62:
            opener = 0
        elif c == 34:
            opener = 0 if opener == 34 else 34
        # Markup (wiki text, XML): the open brackets and tags, and the segment since the last of them or '|'.
        if c == 124 and (seg_open == 91 or seg_open == 123):
            head = seg
        elif c == 91 or c == 123:
            head = 0
        if c == 91 or c == 123 or c == 60 or c == 124:
            seg_open = c
            seg = c + 1
            seglen = 0
        else:
            seg = ((seg + c + 1) * 0x2F0B4A13) & _M
            seglen += 1
        if c == 91 or c == 123 or c == 40 or c == 60:
            nest = ((nest << 4) | (1 if c == 91 else 2 if c == 123 else 3 if c == 40 else 4)) & _M
            if c != 40:
                marks = min(marks + 1, 255)
        elif c == 93 or c == 125 or c == 41 or c == 62:
            if (nest & 15) == (1 if c == 93 else 2 if c == 125 else 3 if c == 41 else 4):
                nest >>= 4
        elif c == 10 and (nest & 15) != 2:
            nest = 0
        markup = marks >= 8
        nm = nest if markup and opts & NEST_MIXERS else 0
        nm_sets = markup and (opts & NEST_MIXERS) != 0
        lh = ((lh + c + 1) * 0x3C6EF372) & _M
        if c == 10:
            if c1 == 58:  # a line that ends with a colon names who speaks (a play) or what follows
                speaker = lh
            lh = 0
            prev_len = i + 1 - line
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
        ctx[21] = _mix32((_mix32(gb + 0x5BE0CD19) + ga * 0x2545F491) & _M)  # the classes of the last 8 bytes
        ctx[22] = _mix32((_mix32(ga + 0x510E527F) + (c4 & 0xFFFF) * 0x9E3779B1) & _M)  # of 4, and 2 bytes
        ctx[23] = _mix32((_mix32(gap1 + 0x9B05688C) + word * 0x2545F491 + c * 0x9E3779B1) & _M)
        ctx[24] = _mix32((_mix32((i >> 10) + 0x3956C25B) + word * 0x2545F491 + c * 0x1B873593) & _M)
        e = int(wpos[word & 0xFFFF]) if word else 0
        last = e & ((1 << 40) - 1) if (e >> 40) == (word >> 16) else 0
        if word:  # how far back the word so far last ended, in bits (0: never)
            wdist = 0
            far = i + 1 - last if last else 0
            while far:
                far >>= 1
                wdist += 1
        ctx[25] = _mix32((_mix32(wdist + 0x71374491) + word * 0x2545F491) & _M)
        ctx[26] = _mix32((_mix32(wdist + 0x3956C25B) + prev_word * 0x2545F491 + gap * 0x9E3779B1 + 29) & _M)
        ctx[27] = _mix32((_mix32(keyword + 0x923F82A4) + word * 0x2545F491 + c * 0x9E3779B1) & _M)
        ctx[28] = _mix32(((min(col, 255) << 8 | c) + (32 << 24)) & _M)
        ctx[29] = _mix32(((min(col, 255) << 12 | min(prev_len, 4095)) + (33 << 24)) & _M)
        ctx[30] = _mix32(((min(col, 255) << 1 | (c == 32)) + (34 << 24)) & _M)
        ctx[31] = _mix32(((min(col, 255) << 16 | (ga & 0xFFFF)) + 0x35000000 * 3) & _M)
        if markup:
            ctx[32] = _mix32((seg * 0x9E3779B1 + 0x6C8E9CF5) & _M) if seglen < 24 else _mix32(c + 0x6D000000)
            ctx[33] = _mix32((_mix32(nest + 0x3C6EF372) + word * 0x2545F491 + c * 0x9E3779B1 + 35) & _M)
            ctx[34] = _mix32((_mix32(nest + 0x7F4A7C15) + (c4 & 0xFFFF) * 0x2545F491) & _M)
            ctx[35] = _mix32((_mix32(nest + 0x1F83D9AB) + (c4 & 0xFFFFFF) * 0x2545F491) & _M)
            ctx[36] = _mix32((_mix32(first + 0x6A09E667) + (c4 & 0xFFFF) * 0x2545F491 + 0x123) & _M)
            ctx[37] = _mix32((_mix32(head + 0x428A2F98) + seg * 0x9E3779B1 + seg_open * 0x2545F491) & _M)
        else:  # one bucket, whose inputs the mixers do not see
            ctx[_MARKUP_Q:] = 0x11
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
        if opts & LONG_MATCH:
            if mlen2 > 0:
                if int(data[mptr2]) == c:
                    mlen2 = min(mlen2 + 1, 65535)
                    mptr2 += 1
                else:
                    mlen2 = 0
            if pos >= _MIN_LONG:
                hh = 0x2545F491
                for k in range(_MIN_LONG):
                    hh = ((hh ^ int(data[pos - 1 - k])) * 0x01000193) & _M
                hm2 = (_mix32(hh) * mt2.size) >> 32
                if mlen2 == 0:
                    cand = int(mt2[hm2])
                    if cand > 0:
                        n = 0
                        while n < 64 and n < cand and data[cand - 1 - n] == data[pos - 1 - n]:
                            n += 1
                        if n >= _MIN_LONG:
                            mlen2 = n
                            mptr2 = cand
                mt2[hm2] = pos
        if opts & MATCH_CTX:
            if mlen > 0:
                ctx[20] = _mix32(((int(data[mptr]) << 8) | min(mlen, 15) << 4 | 0x5000000) + c1 * 0x10000)
            else:
                ctx[20] = _mix32(0x6000000 + c1)
            _touch(t, nb2, ctx[20] + 0x9E3779B1)
        else:
            ctx[20] = 0
    if decode:
        return out, 0
    out = arith.room(out, st[3], 8)
    return out, arith.flush(st, out)
