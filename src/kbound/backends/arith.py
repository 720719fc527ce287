"""The binary arithmetic coder every model-based backend shares (carry-less, 32-bit, as in lpaq1).

The coder keeps a range [x1, x2] of 32-bit integers. A bit with probability p of being 1
splits it at xmid = x1 + (x2 - x1) * p / 2^16: a 1 keeps the lower part, a 0 the upper. When
the leading bytes of x1 and x2 agree, that byte is settled and goes out. Probabilities have
16 bits, not lpaq1's 12: a model that is sure of a bit (long runs, markup) then pays about
2^-16 rather than 2^-12 of a bit for it, and the rounding costs less on rare events.

The coder state lives in a 4-element int64 array (x1, x2, x, position) so that a model's
njit loop can call these functions without Python in between. All arithmetic stays below
2^63, so the same source gives the same bytes under numba and as plain Python
(NUMBA_DISABLE_JIT=1): the decoder is this source, not the compiler that speeds it up.

Flush: one byte, (x1 >> 24) + 1, names a number inside the final range once the decoder
pads the payload with zero bytes, which it does; for the same reason trailing zero bytes
are dropped from the payload (`finish`).
"""

from __future__ import annotations

import numpy as np

from kbound.backends.jit import njit

PROB_BITS = 16
PROB_ONE = 1 << PROB_BITS
_MASK = 0xFFFFFFFF
_TOP = 0xFF000000


@njit(cache=True)
def new_encoder() -> np.ndarray:
    """A fresh encoder state: the full range, nothing written."""
    st = np.zeros(4, np.int64)
    st[1] = _MASK
    return st


@njit(cache=True)
def new_decoder(src: np.ndarray) -> np.ndarray:
    """A decoder state that has read the first four bytes of `src` (zeros past its end)."""
    st = np.zeros(4, np.int64)
    st[1] = _MASK
    x = 0
    for i in range(4):
        x = (x << 8) | (int(src[i]) if i < src.size else 0)
    st[2] = x
    st[3] = 4
    return st


@njit(cache=True)
def encode_bit(st: np.ndarray, out: np.ndarray, p: int, y: int) -> None:
    """Code bit `y` whose probability of being 1 is p / 2^16, 0 < p < 2^16."""
    x1 = st[0]
    x2 = st[1]
    xmid = x1 + (((x2 - x1) * p) >> PROB_BITS)
    if y:
        x2 = xmid
    else:
        x1 = xmid + 1
    pos = st[3]
    while ((x1 ^ x2) & _TOP) == 0:
        out[pos] = x2 >> 24
        pos += 1
        x1 = (x1 << 8) & _MASK
        x2 = ((x2 << 8) & _MASK) | 0xFF
    st[0] = x1
    st[1] = x2
    st[3] = pos


@njit(cache=True)
def decode_bit(st: np.ndarray, src: np.ndarray, p: int) -> int:
    """Decode one bit coded by `encode_bit` with the same p."""
    x1 = st[0]
    x2 = st[1]
    x = st[2]
    xmid = x1 + (((x2 - x1) * p) >> PROB_BITS)
    if x <= xmid:
        y = 1
        x2 = xmid
    else:
        y = 0
        x1 = xmid + 1
    pos = st[3]
    while ((x1 ^ x2) & _TOP) == 0:
        x1 = (x1 << 8) & _MASK
        x2 = ((x2 << 8) & _MASK) | 0xFF
        x = ((x << 8) & _MASK) | (int(src[pos]) if pos < src.size else 0)
        pos += 1
    st[0] = x1
    st[1] = x2
    st[2] = x
    st[3] = pos
    return y


@njit(cache=True)
def flush(st: np.ndarray, out: np.ndarray) -> int:
    """Write the last byte (if any is needed) and return the number of bytes written."""
    pos = int(st[3])
    if st[0] != 0:
        out[pos] = (st[0] >> 24) + 1
        pos += 1
    return pos


@njit(cache=True)
def room(out: np.ndarray, pos: int, need: int) -> np.ndarray:
    """`out`, or a copy twice as large when fewer than `need` bytes are free after `pos`."""
    if pos + need <= out.size:
        return out
    bigger = np.zeros(2 * out.size + need, np.uint8)
    bigger[: out.size] = out
    return bigger


#: Most bytes one coded byte can emit: 8 bits at up to 16 bits each (p clamped to >= 2^-16).
MAX_BYTES_PER_BYTE = 16


def finish(out: np.ndarray, n: int) -> bytes:
    """The coded bytes, without trailing zeros (the decoder reads zeros past the end anyway)."""
    return bytes(out[:n]).rstrip(b"\0")


@njit(cache=True)
def _encode_bits(bits: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, int]:
    st = new_encoder()
    out = np.zeros(64, np.uint8)
    for i in range(bits.size):
        out = room(out, st[3], 8)
        encode_bit(st, out, int(probs[i]), int(bits[i]))
    out = room(out, st[3], 8)
    return out, flush(st, out)


@njit(cache=True)
def _decode_bits(src: np.ndarray, probs: np.ndarray) -> np.ndarray:
    st = new_decoder(src)
    bits = np.zeros(probs.size, np.uint8)
    for i in range(probs.size):
        bits[i] = decode_bit(st, src, int(probs[i]))
    return bits


def encode_bits(bits: np.ndarray, probs: np.ndarray) -> bytes:
    """Code a bit sequence under given probabilities of 1 (in units of 2^-16); for tests and tools."""
    out, n = _encode_bits(np.asarray(bits, np.uint8), np.asarray(probs, np.int64))
    return finish(out, n)


def decode_bits(payload: bytes, probs: np.ndarray) -> np.ndarray:
    """Invert `encode_bits`: as many bits as there are probabilities."""
    return _decode_bits(np.frombuffer(payload, np.uint8), np.asarray(probs, np.int64))
