"""Typed model sizes: `13GB`, `500GiB` (bytes), `7B`, `125M` (parameters), `70B:q4_k` (with a type)."""

from __future__ import annotations

import pytest

from kbound.models import describe_model
from model_files import one_line_error


@pytest.mark.parametrize(
    ("typed", "bytes_on_disk", "parameters", "bits"),
    [
        ("13GB", 13 * 10**9, None, None),
        ("500GiB", 500 * 2**30, None, None),
        ("7B", 14 * 10**9, 7 * 10**9, 16),
        ("70B:q4_k", 39_375_000_000, 70 * 10**9, 4.5),
        ("8B:fp16", 16 * 10**9, 8 * 10**9, 16),
        ("1.5M:int8", 1_500_000, 1_500_000, 8),
        ("125M", 250_000_000, 125_000_000, 16),
        ("1.8T:q6_k", 1_476_562_500_000, 1_800_000_000_000, 6.5625),
        ("13GB:q8_0", 13 * 10**9, round(13e9 * 8 / 8.5), 8.5),
    ],
)
def test_typed_sizes(typed: str, bytes_on_disk: int, parameters: int | None, bits: float | None) -> None:
    info = describe_model(typed)
    assert (info.kind, info.bytes_on_disk, info.parameters, info.bits_per_parameter) == (
        "typed", bytes_on_disk, parameters, bits,
    )
    assert info.other_bytes == 0 and info.files == ()


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("7X", "not a model file, directory or typed size"),
        ("70B:q99", "'q99' is not a known dtype"),
        ("70B:q4_k_m", "mixing several tensor types"),
        ("13G", "ambiguous"),
        ("1000", "ambiguous"),
        ("7B:", "nothing after ':'"),
        ("no/such/model.safetensors", "not a model file, directory or typed size"),
        ("a\0b", "not a model file, directory or typed size"),
    ],
)
def test_bad_typed_sizes(typed: str, words: str) -> None:
    assert words in one_line_error(typed)
