"""The engine turns crashes and wrong bytes into failed rows, and the bounds are combined honestly."""

from __future__ import annotations

import faulthandler
import math
import os
from pathlib import Path

import pytest

import kbound
from corpus_helpers import corpus_of, run_on
from kbound.backends.base import Backend
from kbound.backends.raw import Raw
from kbound.backends.stream import run_coder
from kbound.bounds.results import Best
from kbound.run.worker import first_difference


class WholeBuffer(Raw):
    """Raw through the whole-buffer path, so that overriding `compress`/`decompress` takes effect."""

    streams = False
    compressor = Backend.compressor
    decompressor = Backend.decompressor

    def compress(self, data: bytes) -> bytes:
        return run_coder(Raw.compressor(self), data)

    def decompress(self, payload: bytes) -> bytes:
        return run_coder(Raw.decompressor(self), payload)


class Crashes(WholeBuffer):
    """Dies in 'native code' the way pyppmd has: the worker process is killed by a signal."""

    name = "crashes"

    def compress(self, data: bytes) -> bytes:
        faulthandler.disable()  # pytest's handler would print a traceback for this deliberate crash
        os.abort()


class Corrupts(WholeBuffer):
    """Returns a payload whose decoding is wrong from byte 1,000 on."""

    name = "corrupts"

    def decompress(self, payload: bytes) -> bytes:
        data = bytearray(super().decompress(payload))
        data[1000] ^= 0xFF
        return bytes(data)


class Raises(WholeBuffer):
    name = "raises"

    def compress(self, data: bytes) -> bytes:
        raise MemoryError("model too large")


def test_a_native_crash_is_a_failed_row_not_the_end_of_the_run(alice: Path) -> None:
    outcomes = run_on([Crashes(), Raw()], alice, jobs=2)
    assert outcomes[0].error == "the backend crashed (SIGABRT) in native code"
    assert outcomes[0].payload_bytes is None
    assert outcomes[1].verified and outcomes[1].payload_bytes == 152_093  # 3-byte length + text + end mark


def test_a_wrong_round_trip_is_reported_with_where_it_went_wrong(alice: Path) -> None:
    [outcome] = run_on([Corrupts()], alice)
    assert outcome.error == "round trip failed: decoder returned 152,089 of 152,089 bytes; first wrong byte at 1,000"
    assert not outcome.verified


def test_library_errors_are_reported_with_their_type(alice: Path) -> None:
    [outcome] = run_on([Raises()], alice)
    assert outcome.error == "MemoryError: model too large"


def test_failed_rows_are_never_the_best_bound(alice: Path) -> None:
    corpus = corpus_of(alice)
    report = kbound.estimate(corpus, ["zlib:9"])
    ok = {r.spec: r for r in report.results}
    assert report.best is not None and report.best.spec == "zlib:9"
    # Without verification nothing can be called verified, and the best bound says so.
    unverified = kbound.estimate(corpus, ["zlib:9"], verify=False, use_cache=False)
    assert [r.status for r in unverified.results] == ["unverified", "unverified"]
    assert unverified.best is not None and not unverified.best.verified
    assert unverified.results[1].payload_bytes == ok["zlib:9"].payload_bytes
    assert unverified.results[1].decompress_seconds is None


def test_pyppmd_fails_on_one_large_encode_call_and_kbound_feeds_it_in_pieces(shakespeare: Path) -> None:
    """PROVENANCE.md: pyppmd 1.3.1, variant I, order 8 on tinyshakespeare.txt fails to round-trip.

    The fault is in the encoder given one large buffer; fed 64 KiB at a time it is right.
    """
    import pyppmd

    if pyppmd.__version__ != "1.3.1":
        pytest.skip(f"the failure was recorded with pyppmd 1.3.1, not {pyppmd.__version__}")
    data = shakespeare.read_bytes()
    encoder = pyppmd.Ppmd8Encoder(8, 16 << 20, 0)
    whole = bytes(encoder.encode(data)) + bytes(encoder.flush())
    with pytest.raises(ValueError, match="Corrupt"):
        pyppmd.Ppmd8Decoder(8, 16 << 20, 0).decode(whole, len(data))
    report = kbound.estimate([str(shakespeare)], ["ppmd:o=8,mem=16m,v=I", "bz2:9"], use_cache=False)
    row = {r.spec: r for r in report.results}["ppmd:8,mem=16m,v=I"]
    assert row.status == "verified"
    assert report.best is not None and report.best.spec == "ppmd:8,mem=16m,v=I"


def test_best_bound_charges_log2_k_bits_for_the_choice(alice: Path) -> None:
    report = kbound.estimate([str(alice)], ["zlib:9", "bz2:9", "xz:9e", "ppmd:o=6,mem=16m"])
    best = report.best
    assert isinstance(best, Best)
    totals = [r.total_bytes for r in report.results if r.total_bytes is not None]
    assert best.candidates == 5
    assert best.selector_bits == math.ceil(math.log2(5)) == 3
    assert best.total_bits == 8 * min(totals) + 3
    assert best.total_bytes == min(totals) + 1
    assert best.bits_per_byte == pytest.approx(best.total_bits / 152_089)
    row = next(r for r in report.results if r.spec == best.spec)
    assert row.total_bytes == row.payload_bytes + row.decoder_bytes  # type: ignore[operator]
    assert row.bits_per_byte == pytest.approx(8 * row.total_bytes / 152_089)  # type: ignore[operator]


def test_empty_corpus_has_a_bound_but_no_rates(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    report = kbound.estimate([str(empty)], ["zlib:9"])
    raw = report.results[0]
    assert raw.payload_bytes == 1  # the zero length that ends a raw payload
    assert raw.bits_per_byte is None and raw.bits_per_char is None
    assert report.best is not None and report.best.bits_per_byte is None


def test_invalid_utf8_gives_bits_per_byte_but_not_per_char(tmp_path: Path) -> None:
    path = tmp_path / "b.bin"
    path.write_bytes(bytes(range(256)) * 100)
    report = kbound.estimate([str(path)], ["zlib:9"])
    assert all(r.bits_per_char is None for r in report.results)
    assert all(r.bits_per_byte is not None for r in report.results)
    assert report.corpus.chars_note is not None and "not valid UTF-8" in report.corpus.chars_note


def test_first_difference_says_where_two_streams_part() -> None:
    assert first_difference([b"abcdef"], [b"ab", b"c"]) == "the bytes it returned are right"
    assert first_difference([b"abc"], [b"abcdef"]) == "then extra bytes"
    assert first_difference([b"x" * 3000, b"x" * 2001], [b"x" * 5000 + b"y"]) == "first wrong byte at 5,000"
    assert first_difference([b"same"], [b"sa", b"", b"me"]).startswith("the bytes are the same")


def test_decoder_sizes_count_the_native_library(alice: Path) -> None:
    report = kbound.estimate([str(alice)], ["xz:9e", "zlib:9"])
    rows = {r.backend: r for r in report.results}
    assert "liblzma" in (rows["xz"].decoder_method or "")
    assert "libz" in (rows["zlib"].decoder_method or "")
    # A native library compresses to tens of kilobytes; raw's decoder is two small Python files.
    assert rows["xz"].decoder_bytes is not None and rows["xz"].decoder_bytes > 20_000
    assert rows["raw"].decoder_bytes is not None and rows["raw"].decoder_bytes < 10_000


def test_decoder_archive_order_does_not_depend_on_the_install_prefix() -> None:
    from kbound.backends.decoder import decoder_files

    files = decoder_files(("_lzma",), ("lzma", "_compression", "kbound.backends.xz"))
    names = [os.path.basename(f) for f in files]
    assert names == sorted(names)
    assert "xz.py" in names and any(n.startswith("liblzma") for n in names)
