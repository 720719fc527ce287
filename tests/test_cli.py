"""The command line through click's CliRunner: formats, exit codes, one-line errors, help text."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

import kbound
from cli_helpers import run
from kbound.cli import cli


def test_quiet_prints_the_best_total_alone(alice: Path) -> None:
    code, out, err = run(str(alice), "-b", "zlib:9", "-b", "bz2:9", "-q")
    report = kbound.estimate([str(alice)], ["zlib:9", "bz2:9"])
    assert report.best is not None
    assert (code, out, err) == (0, f"{report.best.total_bytes}\n", "")


def test_lines_format_is_spec_total_bpb(alice: Path) -> None:
    code, out, _ = run(str(alice), "-b", "zlib:9", "-f", "lines")
    report = kbound.estimate([str(alice)], ["zlib:9"])
    best = report.best
    # The best first, as the bound (with the bit that chooses it among two); then each other row.
    rows = [(best.spec, best.total_bytes, best.bits_per_byte)] + [
        (r.spec, r.total_bytes, r.bits_per_byte) for r in report.results if r.spec != best.spec]
    expected = "".join(f"{spec}\t{total}\t{bpb:.6f}\n" for spec, total, bpb in rows)
    assert code == 0 and out == expected
    assert [line.split("\t")[0] for line in out.splitlines()] == ["zlib:9", "raw"]


def test_non_tty_default_is_lines(alice: Path) -> None:
    assert run(str(alice), "-b", "zlib:9")[1] == run(str(alice), "-b", "zlib:9", "-f", "lines")[1]


def test_json_schema_and_best(alice: Path) -> None:
    code, out, _ = run(str(alice), "-b", "zlib:9", "-b", "xz:9e", "-f", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["schema"] == "kbound/1"
    assert doc["corpus"] == {
        "bytes": 152089, "chars": 152089, "chars_note": None, "documents": 1, "separator": "\x1e",
        "sha256": "7467306ee0feed4971260f3c87421154a05be571d944e9cb021a5713700c38f0",
        "identity": "sha256 of the corpus stream", "sources": [str(alice)], "decompressed": [],
    }
    assert [r["spec"] for r in doc["results"]] == ["raw", "zlib:9", "xz:9e"]
    for r in doc["results"]:
        assert r["verified"] is True and r["status"] == "verified"
        assert r["total_bytes"] == r["payload_bytes"] + r["decoder_bytes"]
        assert r["version"] and r["library"]
    assert doc["results"][1]["payload_bytes"] == 54170  # zlib 1.2.13, level 9: exactly zlib.compress's output
    totals = {r["spec"]: r["total_bytes"] for r in doc["results"]}
    assert doc["best"]["backend"] == min(totals, key=totals.__getitem__)
    assert doc["best"]["total_bits"] == 8 * min(totals.values()) + 2


def test_no_timings_drops_the_timing_fields(alice: Path) -> None:
    _, out, _ = run(str(alice), "-b", "zlib:9", "-f", "json", "--no-timings")
    assert "seconds" not in out


def test_table_has_every_column_and_the_meaning(alice: Path) -> None:
    code, out, _ = run(str(alice), "-b", "zlib:9", "-f", "table")
    assert code == 0
    for column in ("backend", "payload B", "decoder B", "total B", "bpb", "bpc", "comp s", "decomp s", "verified"):
        assert column in out
    assert "◀ best" in out
    assert "upper bound on the Kolmogorov complexity" in out
    assert "\x1b[" not in out  # no colour when not on a terminal


def test_no_verify_is_labelled(alice: Path) -> None:
    _, out, _ = run(str(alice), "-b", "zlib:9", "-f", "table", "--no-verify", "--no-cache")
    assert "unverified" in out and "UNVERIFIED" in out


def test_stdin_and_compressed_stdin(alice_bytes: bytes) -> None:
    plain = run("-", "-b", "zlib:9", "-q", input=alice_bytes)
    packed = run("-", "-b", "zlib:9", "-q", input=gzip.compress(alice_bytes))
    assert plain[0] == 0 and plain == packed


def test_directory_with_glob_reads_the_bundled_corpora() -> None:
    code, out, _ = run("corpora", "--glob", "*.txt", "-b", "zlib:1", "-f", "json", "--no-timings")
    doc = json.loads(out)
    assert code == 0
    assert doc["corpus"]["documents"] == 3
    assert doc["corpus"]["bytes"] == 152089 + 125179 + 1115394 + 2  # two separators


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.txt"], "kbound: error: missing.txt: no such file or directory\n"),
        (["corpora/alice29.txt", "-b", "lz4"], "kbound: error: unknown backend 'lz4' (known: "),
        (["corpora/alice29.txt", "-b", "zstd:99"], "kbound: error: zstd: bad level='99': 99 is outside -7..22\n"),
        (["corpora/alice29.txt", "-b", "zlib", "-b", "zlib:9"], "kbound: error: backend zlib:9 is given twice\n"),
    ],
)
def test_errors_are_one_line_and_exit_1(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 1 and out == ""
    assert err.startswith(message) and err.count("\n") == 1
    assert "Traceback" not in err


def test_truncated_compressed_input_is_exit_1(alice_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "a.gz"
    path.write_bytes(gzip.compress(alice_bytes)[:2000])
    code, _, err = run(str(path), "-b", "zlib:9")
    assert code == 1 and err == f"kbound: error: {path}: truncated gzip data (ended before the end-of-stream marker)\n"


def test_usage_errors_exit_2(alice: Path) -> None:
    assert run(str(alice), "--format", "xml")[0] == 2
    assert run(str(alice), "--jobs", "0")[0] == 2
    assert run(str(alice), "--max-bytes", "lots")[0] == 2
    assert run("estimate")[0] == 2


def test_empty_input_gives_a_bound(tmp_path: Path) -> None:
    empty = tmp_path / "e.txt"
    empty.write_bytes(b"")
    code, out, _ = run(str(empty), "-b", "zlib:9", "-f", "table")
    assert code == 0 and "rates undefined for an empty corpus" in out


def test_backends_lists_every_backend_with_version_and_decoder_rule() -> None:
    code, out, _ = run("backends", "--format", "json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0
    assert rows["zstd"]["available"] and rows["zstd"]["default_spec"] == "zstd:19"
    assert rows["xz"]["version"] and "xz -9e" in rows["xz"]["decoder"]
    assert run("backends")[1].startswith("raw  python ")


def test_every_command_has_help() -> None:
    for name, command in cli.commands.items():
        code, out, _ = run(name, "--help")
        assert code == 0 and command.help and out.startswith(f"Usage: kbound {name}")


def test_version() -> None:
    assert run("--version")[1] == f"kbound, version {kbound.kbound_version()}\n"


def test_max_memory_refuses_a_backend_that_cannot_fit_and_runs_the_rest(alice: Path) -> None:
    # raw's worker fits in 150 MiB; xz:9's estimate (its 64 MiB hash table, the worker) does not.
    code, out, err = run(str(alice), "-b", "xz:9", "--max-memory", "150m", "--no-cache", "-f", "json")
    assert code == 0
    rows = {r["spec"]: r for r in json.loads(out)["results"]}
    assert rows["raw"]["status"] == "verified"
    assert rows["xz:9"]["status"] == "failed" and "more than the 150 MiB this run may use" in rows["xz:9"]["error"]
    assert json.loads(out)["settings"]["max_memory"] == 150 << 20
    code, out, err = run(str(alice), "-b", "xz:9", "--max-memory", "150m", "--no-cache", "-f", "lines")
    assert code == 0 and [line.split("\t")[0] for line in out.splitlines()] == ["raw"]
    assert err.startswith("kbound: xz:9 failed: needs about ") and err.count("\n") == 1


def test_max_memory_must_be_a_size(alice: Path) -> None:
    code, _, err = run(str(alice), "--max-memory", "lots")
    assert code == 2 and "--max-memory" in err


@pytest.mark.parametrize("size", ["0", "100m"])
def test_max_memory_below_one_worker_is_a_usage_error(alice: Path, size: str) -> None:
    code, out, err = run(str(alice), "--max-memory", size)
    assert code == 2 and out == "" and "--max-memory" in err and "runs nothing" in err


@pytest.mark.parametrize(("args", "message"), [
    (["estimate", "--shard-size", "1"], "Invalid value for '--shard-size': '1' is less than 1,048,576 bytes"),
    (["curve", "--points", "100000"], "Invalid value for '--points': 100000 is not in the range 1<=x<=100."),
])
def test_shard_size_and_points_have_sane_limits(args: list[str], message: str, alice: Path) -> None:
    code, out, err = run(args[0], str(alice), *args[1:], "-b", "zlib:1")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == f"Error: {message}"


def test_compare_and_tradeoff_take_the_cache_options(alice: Path, tmp_path: Path) -> None:
    a, b = str(alice), str(alice.parent / "asyoulik.txt")
    assert run("compare", a, b, "-b", "xz:6", "--cache-dir", str(tmp_path / "c"))[0] == 0
    assert len(list((tmp_path / "c" / "results").rglob("*.json"))) == 3  # A, B and A·B
    assert run("compare", a, b, "-b", "xz:6", "--cache-dir", str(tmp_path / "n"), "--no-cache")[0] == 0
    assert not (tmp_path / "n").exists()
    assert run("tradeoff", a, "-b", "zlib:1", "--cache-dir", str(tmp_path / "t"))[0] == 0
    assert (tmp_path / "t" / "decoders.json").is_file()  # timings are never cached; decoder sizes are
    assert run("tradeoff", a, "-b", "zlib:1", "--no-cache")[0] == 0
