"""Conditional bounds: identical inputs give C(A|A) near 0, unrelated ones NCD near 1; windows are checked."""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import pytest

from cli_helpers import run
from corpus_helpers import corpus_of
from kbound.backends.registry import parse_spec, window_bytes
from kbound.growth.compare import ConditionalReport, conditional, default_specs

CORPORA = Path(__file__).resolve().parent.parent / "corpora"
SPECS = ["zstd:19,long=27", "xz:9e", "zlib:9"]



@pytest.fixture(scope="module")
def same() -> ConditionalReport:
    alice = corpus_of(CORPORA / "alice29.txt")
    return conditional(alice, alice, SPECS, jobs=2)


@pytest.fixture(scope="module")
def different() -> ConditionalReport:
    return conditional(corpus_of(CORPORA / "alice29.txt"), corpus_of(CORPORA / "asyoulik.txt"),
                       SPECS, jobs=2)


def test_identical_inputs_add_almost_nothing(same: ConditionalReport) -> None:
    rows = {r.spec: r for r in same.rows}
    xz = rows["xz:9e"]
    data = (CORPORA / "alice29.txt").read_bytes()
    filters = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
    assert xz.a_payload_bytes == len(lzma.compress(data, format=lzma.FORMAT_XZ, filters=filters))
    assert xz.ab_payload_bytes == len(lzma.compress(data + b"\x1e" + data, format=lzma.FORMAT_XZ, filters=filters))
    for r in (xz, rows["zstd:19,long=27"]):
        assert r.status == "ok" and r.verified
        assert r.conditional_bytes is not None and 0 <= r.conditional_bytes < 200  # C(A|A) near 0 ...
        assert r.ncd is not None and r.ncd < 0.005  # ... against a C(A) of ~49,000 bytes
    assert same.joined_bytes == 2 * 152089 + 1


def test_unrelated_texts_are_mostly_new(different: ConditionalReport) -> None:
    for r in different.rows:
        if r.status == "ok":
            assert r.ncd is not None and r.new_fraction is not None
            assert 0.9 < r.ncd < 1.0 and 0.9 < r.new_fraction < 1.0
            assert r.conditional_bytes == (r.ab_payload_bytes or 0) - (r.a_payload_bytes or 0)
    ok = [r for r in different.rows if r.status == "ok"]
    best = min(ok, key=lambda r: r.conditional_bytes or 0)  # the headline quotes the smallest estimate
    assert different.best == best.spec
    assert all((best.conditional_bytes or 0) <= (r.conditional_bytes or 0) for r in ok)


def test_a_window_smaller_than_a_is_left_out_with_a_warning(different: ConditionalReport) -> None:
    zlib_row = next(r for r in different.rows if r.spec == "zlib:9")
    assert zlib_row.status == "skipped" and zlib_row.conditional_bytes is None
    assert different.warnings == (
        "zlib:9: window 32,506 bytes < |A| = 152,089 bytes; the estimate would be meaningless, left out",
    )


def test_windows_of_the_built_in_backends() -> None:
    windows = {s: window_bytes(parse_spec(s)) for s in (
        "zstd:19", "zstd:19,long=27", "xz:9e", "xz:6,dict=1g", "brotli:11,w=24", "zlib:9", "bz2:9", "raw",
        "ppmd:6,mem=256m")}
    assert windows == {
        "zstd:19": 1 << 23, "zstd:19,long=27": 1 << 27, "xz:9e": 64 << 20, "xz:6,dict=1g": 1 << 30,
        "brotli:11,w=24": (1 << 24) - 16, "zlib:9": 32506, "bz2:9": 899981, "raw": 0, "ppmd:6,mem=256m": 22369621,
    }
    assert default_specs(277269) == ["zstd:19,long=19", "xz:9e,dict=1m", "ppmd:6,mem=16m", "brotli:11,w=24"]
    assert default_specs(10**9) == ["zstd:19,long=30", "xz:9e,dict=1g", "ppmd:6,mem=2g", "brotli:11,w=24"]


def test_compare_cli_formats(tmp_path: Path) -> None:
    a, b = str(CORPORA / "alice29.txt"), str(CORPORA / "asyoulik.txt")
    args = ("compare", a, b, "-b", "xz:9e", "-b", "zlib:9")
    code, out, err = run(*args, "-f", "json")
    doc = json.loads(out)
    assert code == 0 and doc["schema"] == "kbound-compare/1" and doc["best"] == "xz:9e"
    assert err == "kbound: warning: zlib:9: window 32,506 bytes < |A| = 152,089 bytes; the estimate would be " \
                  "meaningless, left out\n"
    row = doc["rows"][0]
    assert row["conditional_bytes"] == row["ab_payload_bytes"] - row["a_payload_bytes"]
    code, out, _ = run(*args, "-f", "lines")
    spec, cond, ncd, new = out.strip().split("\t")
    assert (spec, int(cond), float(ncd), float(new)) == ("xz:9e", row["conditional_bytes"], row["ncd"],
                                                         row["new_fraction"])
    code, out, _ = run(*args, "-f", "table")
    assert code == 0 and "left out" in out and "% of B is new given A" in out and "not a bound" in out
    code, out, _ = run(*args, "-f", "csv")
    assert out.splitlines()[0].startswith("spec,status,window_bytes,a_payload_bytes")
    code, out, _ = run(*args, "-f", "md")
    assert "| `" not in out and "| xz:9e | 67,108,864 |" in out


def test_compare_with_no_backend_that_can_see_a_is_an_error() -> None:
    code, _, err = run("compare", str(CORPORA / "alice29.txt"), str(CORPORA / "asyoulik.txt"), "-b", "zlib:9")
    assert code == 1 and err.startswith("kbound: error: no backend can see A while coding B: zlib:9: window")
    assert err.count("\n") == 1


def test_two_empty_texts_are_at_distance_0_and_b_adds_nothing(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"")
    (tmp_path / "b").write_bytes(b"")
    report = conditional(corpus_of(tmp_path / "a"), corpus_of(tmp_path / "b"), ["brotli:11,w=24", "xz:9e"], jobs=1)
    # The payloads are bare containers (brotli: 1 byte each, 5 for A, separator, B): the formula gave 4.0.
    assert [(r.a_payload_bytes, r.b_payload_bytes, r.ncd, r.new_fraction) for r in report.rows] == [
        (1, 1, 0.0, 0.0), (32, 32, 0.0, 0.0)]


def test_standard_input_as_both_a_and_b_is_a_usage_error() -> None:
    code, out, err = run("compare", "-", "-", input=b"hi\n")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == "Error: standard input (-) is given as both A and B; it can be read only once"
