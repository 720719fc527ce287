"""Sizes and counts as users write them: `kbound.units`."""

from __future__ import annotations

import pytest

from kbound.units import human_bytes, parse_count, parse_size


@pytest.mark.parametrize(("text", "size"), [
    ("1000", 1000), ("0", 0), ("7b", 7), ("1kB", 1000), ("1kb", 1000), ("5 MB", 5_000_000), ("500GB", 500 * 10**9),
    ("2tb", 2 * 10**12), ("1KiB", 1024), ("4GiB", 4 * 2**30), ("256m", 256 * 2**20), ("1g", 2**30), ("1k", 1024),
    ("1.5GB", 1_500_000_000), ("1.1MiB", 1_153_434), (" 3 TiB ", 3 * 2**40),
])
def test_parse_size_reads_decimal_and_binary_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(("text", "words"), [
    ("5i", "not a size"), ("5ib", "not a size"), ("GB", "not a size"), ("5bb", "not a size"), ("-1", "not a size"),
    ("0.5b", "not a whole number of bytes"), ("1.5", "not a whole number of bytes"),
    ("0.00000001k", "less than one byte"),
])
def test_parse_size_refuses_what_is_not_a_size(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_size(text)


@pytest.mark.parametrize(("text", "count"), [("7B", 7 * 10**9), ("1.5M", 1_500_000), ("125m", 125_000_000),
                                             ("500K", 500_000), ("1.8T", 1_800_000_000_000), ("1000", 1000)])
def test_parse_count_reads_model_card_counts(text: str, count: int) -> None:
    assert parse_count(text) == count


def test_human_bytes_is_decimal() -> None:
    assert (human_bytes(999), human_bytes(39_950_000), human_bytes(2 * 10**12)) == ("999 B", "39.95 MB", "2.00 TB")
