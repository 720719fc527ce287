"""The arithmetic coder and the model-based backends (`order`, `cm`): exact round trips and code lengths."""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kbound.backends import arith
from kbound.backends.base import write_varint
from kbound.backends.registry import parse_spec
from kbound.errors import BackendError

CORPORA = Path(__file__).resolve().parent.parent / "corpora"
ALICE = (CORPORA / "alice29.txt").read_bytes()
SHAKESPEARE = (CORPORA / "tinyshakespeare.txt").read_bytes()

#: Small memory settings keep table allocation out of the timings; the model is the same.
SPECS = ["order:0,mem=1m", "order:3,mem=4m", "order:6,mem=4m", "cm:mem=16m"]


def _bits_of(data: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, np.uint8))


# --- the coder ---------------------------------------------------------------------------------


def test_coder_at_one_half_writes_the_complemented_bits() -> None:
    # At p = 1/2 a 1 keeps the lower half, so each byte comes out complemented, with no flush byte.
    bits = _bits_of(b"hello")
    payload = arith.encode_bits(bits, np.full(bits.size, arith.PROB_ONE // 2))
    assert payload == bytes(255 - c for c in b"hello")


def test_coder_round_trips_known_probability_sequences_within_two_bytes_of_ideal() -> None:
    rng = np.random.default_rng(7)
    for n in (0, 1, 7, 100, 5000):
        probs = rng.integers(1, arith.PROB_ONE, n)
        bits = (rng.random(n) < probs / arith.PROB_ONE).astype(np.uint8)
        payload = arith.encode_bits(bits, probs)
        assert np.array_equal(arith.decode_bits(payload, probs), bits)
        ideal = -np.sum(np.where(bits == 1, np.log2(probs / arith.PROB_ONE), np.log2(1 - probs / arith.PROB_ONE)))
        # xmid is rounded down on a range of >= 2^24 (bar rare straddles): a few parts in 2^16
        # of a bit per coded bit, plus the one flush byte.
        assert len(payload) <= math.ceil(ideal / 8) + 2, (n, len(payload), ideal / 8)


def test_coder_at_the_probability_limits() -> None:
    # A certain-looking bit that comes out the other way costs 16 bits, never breaks the coder.
    bits = np.array([1, 0, 1, 1, 0, 0, 1] * 50, np.uint8)
    for p in (1, arith.PROB_ONE - 1):
        probs = np.full(bits.size, p)
        payload = arith.encode_bits(bits, probs)
        assert np.array_equal(arith.decode_bits(payload, probs), bits)
        wrong = int(np.sum(bits == (0 if p == arith.PROB_ONE - 1 else 1)))
        assert len(payload) * 8 <= 16 * wrong + 8 + 1


# --- round trips -------------------------------------------------------------------------------

EDGE_CASES = {
    "empty": b"",
    "one byte": b"x",
    "zero byte": b"\0",
    "all byte values": bytes(range(256)) * 3,
    "long run": b"a" * 20000,
    "zero run": b"\0" * 5000,
    "alice head": ALICE[:20000],
}


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("case", EDGE_CASES)
def test_round_trip(spec: str, case: str) -> None:
    backend = parse_spec(spec)
    data = EDGE_CASES[case]
    payload = backend.compress(data)
    assert backend.decompress(payload) == data


#: What 20 kB of random bytes may cost beyond their length, as a fraction. KT counts pay about
#: (contexts / 2) log2(n) bits to learn there is nothing to learn: under 1 % at order 6. `cm`
#: pays while its mixers' weight sets learn to trust no input (0.55 % at 20 kB).
RANDOM_OVERHEAD = {"order": 0.01, "cm": 0.01}


@pytest.mark.parametrize("spec", SPECS)
def test_random_bytes_barely_expand(spec: str) -> None:
    data = np.random.default_rng(3).integers(0, 256, 20000, dtype=np.uint8).tobytes()
    backend = parse_spec(spec)
    payload = backend.compress(data)
    assert backend.decompress(payload) == data
    assert len(payload) <= len(data) * (1 + RANDOM_OVERHEAD[backend.name]) + 16


@pytest.mark.parametrize("spec", SPECS)
def test_deterministic(spec: str) -> None:
    data = SHAKESPEARE[:30000]
    assert parse_spec(spec).compress(data) == parse_spec(spec).compress(data)


def test_long_run_costs_next_to_nothing() -> None:
    assert len(parse_spec("order:2,mem=1m").compress(b"a" * 20000)) < 40


def test_payload_is_self_describing() -> None:
    # A decoder built with other settings still reads the settings from the header.
    payload = parse_spec("order:5,mem=2m").compress(ALICE[:3000])
    assert parse_spec("order:1,mem=1m").decompress(payload) == ALICE[:3000]


def test_bad_specs() -> None:
    for spec in ("order:7", "order:x", "order:3,mem=1", "order:3,q=1"):
        with pytest.raises(BackendError):
            parse_spec(spec)


def test_exact_payloads_on_alice() -> None:
    # Integer-only models: these payloads are the same in every run on every machine; a change
    # means the model changed (and, for cm, that FORMAT must change with it).
    cm, order = parse_spec("cm:mem=16m").compress(ALICE), parse_spec("order:3,mem=4m").compress(ALICE)
    assert (len(cm), len(order)) == (37465, 52983)
    assert hashlib.sha256(cm).hexdigest() == "da98f1b958614ee109f35be0bda5c309b6251e24cbce475eb54f395aa4c788ac"
    assert hashlib.sha256(order).hexdigest() == "d15f3ba1f71c0d0f697e60dfe43e02b1c6b3d929edea4b0dd71e545ee3604456"


def test_through_the_engine() -> None:
    import kbound

    report = kbound.estimate([str(CORPORA / "alice29.txt")], ["order:3,mem=4m", "cm:mem=16m"], jobs=2)
    rows = {r.backend: r for r in report.results}
    assert rows["order"].status == rows["cm"].status == "verified"
    assert rows["cm"].payload_bytes == 37465
    # The decoder is a few kilobytes of kbound's own source.
    assert 0 < rows["cm"].decoder_bytes < 20000


# --- the order-k KT code length against numpy ----------------------------------------------------


def _contexts(data: bytes, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For every bit: the context (previous k bytes, bits of the byte so far) and the bit."""
    x = np.frombuffer(data, np.uint8).astype(np.int64)
    hist = np.zeros(x.size, np.int64)
    for d in range(1, k + 1):
        hist |= np.concatenate([np.zeros(d, np.int64), x[:-d]]) << (8 * (d - 1))
    bits = np.unpackbits(x.astype(np.uint8)).astype(np.int64).reshape(-1, 8)
    c0 = np.ones((x.size, 8), np.int64)
    for j in range(1, 8):
        c0[:, j] = (c0[:, j - 1] << 1) | bits[:, j - 1]
    return ((hist[:, None] << 8) | c0).ravel(), bits.ravel()


def _kt_bits(ctx: np.ndarray, bits: np.ndarray) -> float:
    """The KT code length in closed form: -log2 Γ(a+½)Γ(b+½) / (π Γ(a+b+1)) summed over contexts."""
    _, inverse = np.unique(ctx, return_inverse=True)
    ones = np.bincount(inverse, weights=bits)
    total = np.bincount(inverse)
    nats = sum(
        math.lgamma(n + 1) + math.log(math.pi) - math.lgamma(b + 0.5) - math.lgamma(n - b + 0.5)
        for n, b in zip(total.tolist(), ones.tolist(), strict=True)
    )
    return nats / math.log(2)


def _quantized_kt_bits(ctx: np.ndarray, bits: np.ndarray) -> float:
    """The same counts, with each probability rounded as the backend hands it to the coder."""
    order = np.argsort(ctx, kind="stable")
    c, b = ctx[order], bits[order]
    start = np.r_[True, c[1:] != c[:-1]]
    group = np.cumsum(start) - 1
    first = np.flatnonzero(start)
    ones_before = np.cumsum(b) - b - (np.cumsum(b) - b)[first][group]
    seen_before = np.arange(c.size) - first[group]
    p = ((2 * ones_before + 1) << arith.PROB_BITS) // (2 * seen_before + 2)
    p = np.clip(p, 1, arith.PROB_ONE - 1) / arith.PROB_ONE
    return float(-np.sum(np.where(b == 1, np.log2(p), np.log2(1 - p))))


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5])
def test_order_code_length_is_the_kt_code_length(k: int) -> None:
    data = ALICE[:12000]
    ctx, bits = _contexts(data, k)
    exact, quantized = _kt_bits(ctx, bits), _quantized_kt_bits(ctx, bits)
    backend = parse_spec(f"order:{k},mem=4m")
    header = len(write_varint(len(data))) + 1 + len(write_varint(4 << 10))
    coded = len(backend.compress(data)) - header
    # The coder adds the flush byte and rounds xmid down on a range of >= 2^24: under 2 bytes.
    assert math.ceil(quantized / 8) - 1 <= coded <= math.ceil(quantized / 8) + 2
    # Rounding probabilities down to 16 bits moves the code length by well under 0.1 %.
    assert abs(quantized - exact) <= 0.001 * exact


# --- the decoder is the Python source -----------------------------------------------------------


@pytest.mark.parametrize("spec", ["order:2,mem=64k", "cm:mem=16m"])
def test_decodes_without_numba(spec: str) -> None:
    # The bound counts this package's source as the decoder; check the source alone decodes.
    data = ALICE[:200]
    payload = parse_spec(spec).compress(data)
    code = (
        "import sys; from kbound.backends.registry import parse_spec;"
        f"sys.stdout.buffer.write(parse_spec({spec!r}).decompress({payload!r}))"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120, check=True)
    assert out.stdout == data


# --- zpaq (optional) -------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"x", bytes(range(256)), ALICE[:20000]])
def test_zpaq_round_trip(data: bytes) -> None:
    pytest.importorskip("zpaq")
    backend = parse_spec("zpaq:3")
    assert backend.decompress(backend.compress(data)) == data


def test_zpaq_is_deterministic_and_beats_method_1() -> None:
    pytest.importorskip("zpaq")
    data = ALICE[:20000]
    strong, fast = parse_spec("zpaq:5").compress(data), parse_spec("zpaq:1").compress(data)
    assert strong == parse_spec("zpaq:5").compress(data)
    assert len(strong) < len(fast)


def test_max_effort_has_the_model_backends() -> None:
    from kbound.backends.registry import effort_specs

    specs = effort_specs("max")
    assert "cm" in specs
    assert ("zpaq:5" in specs) == (importlib.util.find_spec("zpaq") is not None)
    assert not any(s.startswith(("cm", "zpaq", "order")) for s in effort_specs("default") + effort_specs("fast"))
