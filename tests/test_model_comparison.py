"""The model-versus-bound comparison, the two-part code, and token counts."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from kbound.bounds.tokens import count_tokens
from kbound.models import ModelInfo, compare, describe_model
from kbound.models.verdict import NO_ROOM
from model_files import minilm_dir


def typed(bytes_on_disk: int, other_bytes: int = 0) -> ModelInfo:
    return ModelInfo(
        source="m", kind="typed", bytes_on_disk=bytes_on_disk, other_bytes=other_bytes, parameters=None, dtypes={},
        bits_per_parameter=None, files=(),
    )


def test_model_with_room() -> None:
    c = compare(typed(1000), bound_bits=2000, corpus_bytes=1000)
    assert (c.model_bits, c.bound_bits, c.ratio, c.model_has_room) == (8000, 2000.0, 4.0, True)
    assert c.verdict == "the model has room to store a lossless copy of the corpus (4.0 times over)"
    assert c.bound_bits_per_byte == 2.0
    assert c.parameters_needed == 1000
    assert c.two_part is None and not c.scaled


def test_model_without_room_is_inconclusive() -> None:
    c = compare(typed(100), bound_bits=2001, corpus_bytes=1000, bits_per_param=4.0)
    assert c.ratio == 800 / 2001 and not c.model_has_room
    assert c.verdict == NO_ROOM
    assert "inconclusive, because K is uncomputable" in c.verdict
    assert c.parameters_needed == 501  # ceil(2001 / 4)


def test_exactly_equal_has_room() -> None:
    c = compare(typed(250), bound_bits=2000, corpus_bytes=1000)
    assert c.ratio == 1.0 and c.model_has_room


def test_two_part_code_and_break_even() -> None:
    c = compare(typed(1000, other_bytes=250), bound_bits=3000, corpus_bytes=1000, model_loss_bpb=1.0)
    tp = c.two_part
    assert tp is not None
    assert tp.model_bits == 10_000  # weights and tokenizer/config
    assert (tp.loss_bits, tp.code_length_bits, tp.bits_per_byte) == (1000.0, 11_000.0, 11.0)
    assert tp.beats_bound is False
    assert tp.break_even_bytes == 10_000 / (3.0 - 1.0)


def test_two_part_never_breaks_even_when_loss_is_no_better() -> None:
    c = compare(typed(10), bound_bits=3000, corpus_bytes=1000, model_loss_bpb=3.0)
    assert c.two_part is not None and c.two_part.break_even_bytes is None


def test_two_part_from_nats_per_token() -> None:
    c = compare(typed(10), bound_bits=3000, corpus_bytes=1000, loss_nats_per_token=math.log(2), tokens=250)
    assert c.two_part is not None
    assert c.two_part.loss_bits_per_byte == pytest.approx(0.25, abs=1e-15)
    assert c.two_part.loss_from == "nats per token over 250 tokens"
    with pytest.raises(ValueError, match="--tokens"):
        compare(typed(10), bound_bits=3000, corpus_bytes=1000, loss_nats_per_token=1.0)
    with pytest.raises(ValueError, match="not both"):
        compare(typed(10), bound_bits=3000, corpus_bytes=1000, loss_nats_per_token=1.0, tokens=5, model_loss_bpb=1)


def test_corpus_size_scaling() -> None:
    model = describe_model("7B")  # 14e9 bytes = 1.12e11 bits
    c = compare(model, bound_bits=2_000_000, corpus_bytes=1_000_000, corpus_size_bytes=10**12, model_loss_bpb=0.5)
    assert c.scaled and c.corpus_bytes == 10**12 and c.measured_corpus_bytes == 1_000_000
    assert c.bound_bits == 2.0 * 10**12
    assert c.ratio == 1.12e11 / 2e12 and c.verdict == NO_ROOM
    assert c.parameters_needed == 10**12
    assert any("constant 2.0000 bits per byte" in a for a in c.assumptions)
    assert c.two_part is not None
    assert c.two_part.code_length_bits == 1.12e11 + 0.5e12
    assert c.two_part.beats_bound is True
    assert c.two_part.break_even_bytes == 1.12e11 / 1.5


def test_corpus_size_scales_the_payload_and_counts_the_fixed_bits_once() -> None:
    # 1,000 bytes: 800 bits of payload and 80,000 of decoder; at 1 MB the decoder is still counted once.
    c = compare(typed(10), bound_bits=80_800, corpus_bytes=1000, corpus_size_bytes=10**6, fixed_bits=80_000)
    assert c.bound_bits == 0.8 * 10**6 + 80_000
    assert c.bound_bits_per_byte == 0.88
    assert any("constant 0.8000 bits per byte, plus 80000 bits of decoder and selector counted once" in a
               for a in c.assumptions)
    with pytest.raises(ValueError, match="fixed part"):
        compare(typed(10), bound_bits=100, corpus_bytes=10, fixed_bits=101)


@pytest.mark.parametrize(
    "kwargs",
    [{"bits_per_param": 0}, {"model_loss_bpb": -1.0}, {"corpus_size_bytes": 0}, {"bits_per_param": float("inf")}],
)
def test_comparison_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        compare(typed(10), bound_bits=3000, corpus_bytes=1000, **kwargs)  # type: ignore[arg-type]


@pytest.mark.model
def test_count_tokens_ignores_the_tokenizers_padding() -> None:
    pytest.importorskip("tokenizers")
    tok = minilm_dir() / "tokenizer.json"
    text = (Path(__file__).parent.parent / "corpora" / "alice29.txt").read_text()
    assert count_tokens(tok, "Hello world, this is kbound.\n" * 3) == 24
    n = count_tokens(tok, text)
    assert 30_000 < n < 45_000
