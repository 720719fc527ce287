"""Every registered backend runs the shared checks on real text and edge cases; plus exact sizes."""

from __future__ import annotations

import bz2
import lzma
import os
import zlib

import pytest

from backend_checks import check_bad_specs, check_config, check_deterministic, check_round_trip
from kbound.backends.base import read_varint
from kbound.backends.registry import EFFORTS, entries, parse_spec
from kbound.errors import BackendError

#: `lm` needs a model file in its spec: tests/test_lm_backend.py runs these same checks with a tiny model.
NEEDS_A_FILE = {"lm"}
AVAILABLE = [name for name, e in entries().items() if e.cls is not None and name not in NEEDS_A_FILE]
EDGE_CASES = {
    "empty": b"",
    "one byte": b"x",
    "all byte values": bytes(range(256)) * 3,
    "long run": b"a" * 100_000,
    "random": os.urandom(20_000),
    # Broken UTF-8: stray continuation bytes, a truncated three-byte and four-byte character, overlong forms.
    "invalid UTF-8": "日本語テキスト".encode()[:7] + b"\x80\xbf abc \xe6\x97 \xf0\x9f\x98 \xc0\xaf\xff\xfe" * 50,
}


def test_the_default_libraries_are_all_available() -> None:
    assert {"raw", "zlib", "bz2", "xz", "zstd", "brotli", "ppmd"} <= set(AVAILABLE)


@pytest.mark.parametrize("name", AVAILABLE)
def test_round_trip_on_real_text(name: str, alice_bytes: bytes) -> None:
    backend = parse_spec(name)
    payload = check_round_trip(backend, alice_bytes)
    if name != "raw":
        assert len(payload) < len(alice_bytes) // 2, "every real codec at least halves English text"


@pytest.mark.parametrize("case", list(EDGE_CASES))
@pytest.mark.parametrize("name", AVAILABLE)
def test_round_trip_on_edge_cases(name: str, case: str) -> None:
    check_round_trip(parse_spec(name), EDGE_CASES[case])


@pytest.mark.parametrize("name", AVAILABLE)
def test_deterministic(name: str, alice_bytes: bytes) -> None:
    check_deterministic(parse_spec(name), alice_bytes[:50_000])


@pytest.mark.parametrize("name", AVAILABLE)
def test_config_echo(name: str) -> None:
    check_config(parse_spec(name))


@pytest.mark.parametrize("name", [n for n in AVAILABLE if n != "raw"])
def test_bad_specs(name: str) -> None:
    check_bad_specs(name)


@pytest.mark.parametrize("effort", list(EFFORTS))
def test_effort_presets_parse_and_echo(effort: str) -> None:
    for spec in EFFORTS[effort]:
        check_config(parse_spec(spec))


def test_raw_takes_no_settings() -> None:
    with pytest.raises(BackendError, match="raw"):
        parse_spec("raw:9")


def test_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(BackendError, match=r"unknown backend 'lz4' \(known: raw, zlib"):
        parse_spec("lz4:1")


def test_spec_strings_users_type() -> None:
    assert parse_spec("xz:9e").spec == "xz:9e"
    assert parse_spec("xz:6,dict=64m").spec == "xz:6,dict=64m"
    assert parse_spec("zstd:22,long=27").spec == "zstd:22,long=27"
    assert parse_spec("ppmd:o=8,mem=1g").spec == "ppmd:8,mem=1g,v=H"
    assert parse_spec("ppmd:4,mem=16m,v=i").config == {"o": 4, "mem": 16 << 20, "v": "I"}
    assert parse_spec("brotli:5,w=22").spec == "brotli:5,w=22"


@pytest.mark.parametrize("spec", ["zstd:23", "zstd:19,long=5", "xz:10", "xz:9x", "ppmd:o=1", "ppmd:mem=1000", "bz2:0"])
def test_out_of_range_settings_are_refused(spec: str) -> None:
    with pytest.raises(BackendError):
        parse_spec(spec)


def test_stdlib_payloads_are_exactly_the_libraries_output(alice_bytes: bytes) -> None:
    assert parse_spec("zlib:9").compress(alice_bytes) == zlib.compress(alice_bytes, 9)
    assert parse_spec("bz2:9").compress(alice_bytes) == bz2.compress(alice_bytes, 9)
    xz = parse_spec("xz:9e").compress(alice_bytes)
    assert xz == lzma.compress(alice_bytes, preset=9 | lzma.PRESET_EXTREME)
    assert lzma.decompress(xz) == alice_bytes


def test_raw_payload_is_the_data_in_length_prefixed_pieces(alice_bytes: bytes) -> None:
    # 152,089 needs three 7-bit groups; a zero length ends the payload.
    assert parse_spec("raw").compress(alice_bytes) == bytes([0x99, 0xA4, 0x09]) + alice_bytes + b"\x00"
    big = alice_bytes * 20  # 3,041,780 bytes: pieces of 1 MiB (0x80 0x80 0x40), then the rest
    payload = parse_spec("raw").compress(big)
    assert len(payload) == len(big) + 3 * 3 + 1 and payload[:3] == bytes([0x80, 0x80, 0x40])


def test_zstd_long_mode_payload_is_a_standard_frame(alice_bytes: bytes) -> None:
    import zstandard

    payload = parse_spec("zstd:19,long=27").compress(alice_bytes)
    # A stream's size is not known in advance, so the frame header does not carry it: decode as a stream.
    assert zstandard.ZstdDecompressor(max_window_size=1 << 27).decompressobj().decompress(payload) == alice_bytes


def test_ppmd_payload_header_carries_its_settings(alice_bytes: bytes) -> None:
    payload = parse_spec("ppmd:o=4,mem=16m,v=I").compress(alice_bytes)
    assert payload[:2] == bytes([1, 4])  # variant I, order 4
    assert read_varint(payload, 2) == (16 << 10, 5)  # memory in KiB
    assert read_varint(payload, 5) == (152_089, 12)  # the length, seven bytes wide: written once it was known
    # Another instance (other settings) still decodes it: the payload describes itself.
    assert parse_spec("ppmd").decompress(payload) == alice_bytes


def test_truncated_payloads_are_errors(alice_bytes: bytes) -> None:
    for name in ("zlib", "bz2", "xz", "zstd", "brotli", "raw"):
        backend = parse_spec(name)
        payload = backend.compress(alice_bytes[:5000])
        with pytest.raises(Exception):  # noqa: B017 - each library has its own error type
            backend.decompress(payload[: len(payload) // 2])
