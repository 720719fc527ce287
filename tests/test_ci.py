"""kbound in CI jobs and pipelines: exit codes, baselines, thresholds, the result cache, clean streams."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from backend_checks import sigint_default
from cli_helpers import children
from kbound.cli import cli

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="kbound")
    return result.exit_code, result.stdout, result.stderr


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_output_file_is_the_json_report_and_stdout_stays_usable(alice: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "sub" / "report.json"
    code, out, _ = run(str(alice), "-b", "zlib:9", "-q", "-o", str(out_file))
    doc = json.loads(out_file.read_text())
    assert code == 0
    assert out == f"{doc['best']['total_bytes']}\n"
    assert doc["schema"] == "kbound/1"
    assert [p.name for p in out_file.parent.iterdir()] == ["report.json"]  # no temporary file left behind


def test_two_runs_give_byte_identical_json(alice: Path, tmp_path: Path) -> None:
    args = (str(alice), "-b", "zlib:9", "-b", "bz2:9", "-f", "json", "--no-timings", "--cache-dir", str(tmp_path))
    first, second = run(*args), run(*args)  # the second comes from the cache
    assert first[0] == 0 and first[1] == second[1]
    assert run(*args[:-2], "--no-cache")[1] == first[1]


def test_baseline_deltas_in_every_format(alice: Path, tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    run(str(alice), "-b", "zlib:9", "-o", str(base), "-q")
    grown = tmp_path / "grown.txt"
    grown.write_bytes(alice.read_bytes() + b"A new chapter, never seen before.\n" * 10)
    code, out, _ = run(str(grown), "-b", "zlib:9", "--baseline", str(base), "-f", "json")
    doc = json.loads(out)
    before = json.loads(base.read_text())
    assert code == 0
    assert doc["baseline"]["corpus_changed"] is True
    zlib_delta = next(d for d in doc["baseline"]["results"] if d["spec"] == "zlib:9")
    now = next(r for r in doc["results"] if r["spec"] == "zlib:9")
    then = next(r for r in before["results"] if r["spec"] == "zlib:9")
    assert zlib_delta["delta_bytes"] == now["total_bytes"] - then["total_bytes"] > 0
    assert doc["baseline"]["best"]["delta_bytes"] == doc["best"]["total_bytes"] - before["best"]["total_bytes"]
    lines = run(str(grown), "-b", "zlib:9", "--baseline", str(base), "-f", "lines")[1].splitlines()
    best, moved = doc["best"], doc["baseline"]["best"]
    assert lines[0] == f"zlib:9\t{best['total_bytes']}\t{best['bits_per_byte']:.6f}\t{moved['delta_bytes']}"
    for fmt, marker in (("table", "Δ total B"), ("md", "Δ total B"), ("csv", "delta_bytes")):
        assert marker in run(str(grown), "-b", "zlib:9", "--baseline", str(base), "-f", fmt)[1]


def test_baseline_with_another_library_version_is_refused(alice: Path, tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    run(str(alice), "-b", "zlib:9", "-o", str(base), "-q")
    doc = json.loads(base.read_text())
    doc["results"][1]["version"] = "0.9"
    base.write_text(json.dumps(doc))
    code, _, err = run(str(alice), "-b", "zlib:9", "--baseline", str(base))
    assert code == 1
    assert err.startswith(f"kbound: error: {base}: library versions differ for zlib:9 (zlib 0.9 in the baseline, ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "baseline is not JSON"),
        ('{"schema": "other/2"}', "baseline schema is 'other/2', expected 'kbound/1'"),
        ('{"schema": "kbound/1", "corpus": {}, "results": []}', "no backend has a bound in both"),
    ],
)
def test_bad_baselines_are_one_line_errors(alice: Path, tmp_path: Path, content: str, message: str) -> None:
    base = tmp_path / "base.json"
    base.write_text(content)
    code, _, err = run(str(alice), "-b", "zlib:9", "--baseline", str(base))
    assert code == 1 and message in err and err.count("\n") == 1


@pytest.mark.parametrize(("where", "value", "message"), [
    ("best", "x", 'best.total_bytes is "x", not a whole number of bytes > 0'),
    ("best", -5, "best.total_bytes is -5, not a whole number of bytes > 0"),
    ("best", 0, "best.total_bytes is 0, not a whole number of bytes > 0"),
    ("best", 1.5, "best.total_bytes is 1.5, not a whole number of bytes > 0"),
    ("row", "x", 'results[zlib:9].total_bytes is "x", not a whole number of bytes > 0'),
    ("row", [1], "results[zlib:9].total_bytes is [1], not a whole number of bytes > 0"),
    ("rate", "x", 'best.bits_per_byte is "x", not a number >= 0'),
])
def test_a_malformed_baseline_is_one_line_and_never_passes_max_growth(
    where: str, value: object, message: str, alice: Path, tmp_path: Path
) -> None:
    base = tmp_path / "base.json"
    run(str(alice), "-b", "zlib:9", "-o", str(base), "-q")
    doc = json.loads(base.read_text())
    if where == "best":
        doc["best"]["total_bytes"] = value
    elif where == "rate":
        doc["best"]["bits_per_byte"] = value
    else:
        next(r for r in doc["results"] if r["spec"] == "zlib:9")["total_bytes"] = value
    base.write_text(json.dumps(doc))
    code, out, err = run(str(alice), "-b", "zlib:9", "--baseline", str(base), "--max-growth", "5", "-q")
    assert (code, out, err) == (1, "", f"kbound: error: {base}: {message}\n")


def test_a_baseline_without_a_best_bound_does_not_pass_max_growth(alice: Path, tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    run(str(alice), "-b", "zlib:9", "-o", str(base), "-q")
    doc = json.loads(base.read_text())
    doc["best"] = None
    base.write_text(json.dumps(doc))
    code, _, err = run(str(alice), "-b", "zlib:9", "--baseline", str(base), "--max-growth", "5", "-q")
    assert (code, err) == (3, "kbound: threshold breached: --max-growth 5% cannot be checked: the baseline or this "
                              "run has no best bound\n")


def test_a_baseline_nested_100000_deep_is_one_line(alice: Path, tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    base.write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = run(str(alice), "-b", "zlib:9", "--baseline", str(base))
    assert (code, err) == (1, f"kbound: error: {base}: baseline is not a kbound report (JSON nested too deeply)\n")


def test_thresholds_exit_3_with_one_line_each(alice: Path, tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    run(str(alice), "-b", "zlib:9", "-o", str(base), "-q")
    assert run(str(alice), "-b", "zlib:9", "--max-bpb", "8", "-q")[0] == 0
    code, _, err = run(str(alice), "-b", "zlib:9", "--max-bpb", "2.5", "-q")
    assert code == 3
    assert re.fullmatch(r"kbound: threshold breached: best bound [\d.]+ bits/byte exceeds --max-bpb 2.5\n", err)
    both = tmp_path / "both.txt"
    both.write_bytes(alice.read_bytes() + (ROOT / "corpora" / "asyoulik.txt").read_bytes())
    code, _, err = run(str(both), "-b", "zlib:9", "--baseline", str(base), "--max-growth", "5", "-q")
    assert code == 3 and "over the baseline, more than --max-growth 5%" in err
    assert run(str(alice), "-b", "zlib:9", "--baseline", str(base), "--max-growth", "5", "-q")[0] == 0
    assert run(str(alice), "-b", "zlib:9", "--max-growth", "5")[0] == 2  # needs --baseline


def test_corrupt_cache_entries_are_recomputed_not_trusted(alice: Path, tmp_path: Path) -> None:
    args = (str(alice), "-b", "zlib:9", "-f", "json", "--cache-dir", str(tmp_path))
    truth = json.loads(run(*args)[1])
    entries = sorted((tmp_path / "results").rglob("*.json"))
    assert len(entries) == 2  # raw and zlib:9
    for entry in entries:
        doc = json.loads(entry.read_text())
        doc["body"]["payload_bytes"] = 1  # tampered, checksum no longer matches
        entry.write_text(json.dumps(doc))
    again = json.loads(run(*args)[1])
    assert [r["payload_bytes"] for r in again["results"]] == [r["payload_bytes"] for r in truth["results"]]
    assert [r["cached"] for r in again["results"]] == [False, False]
    entries[0].write_text("{ truncated")
    third = json.loads(run(*args)[1])
    assert third["results"][0]["payload_bytes"] == truth["results"][0]["payload_bytes"]
    assert [r["cached"] for r in json.loads(run(*args)[1])["results"]] == [True, True]


def test_closed_pipe_ends_quietly(alice: Path) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(
        ["kbound", str(alice), "-b", "zlib:9", "-f", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes away before kbound writes
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert err == b""


def test_ctrl_c_prints_finished_rows_and_exits_130(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    text = (ROOT / "corpora" / "tinyshakespeare.txt").read_bytes()
    # ~4.5 MB: cm codes about 0.4-0.7 MB/s, so it cannot finish in the seconds before the interrupt.
    big.write_bytes(b"".join(text[i::k] for k in (7, 5, 3, 11) for i in range(k)))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(
        ["kbound", str(big), "-b", "zlib:1", "-b", "cm", "-j", "2", "-f", "lines", "--no-cache"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, preexec_fn=sigint_default,
    )
    # kbound handles SIGINT once it runs rows: wait for its first worker (starting Python takes seconds on a
    # loaded machine), then give zlib:1 time to finish.
    deadline = time.monotonic() + 60
    while Path("/proc/self").exists() and not children(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(4.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    specs = [line.split("\t")[0] for line in out.splitlines()]
    assert "cm:256m" not in specs and "zlib:1" in specs
    assert err.endswith("kbound: interrupted (SIGINT)\n") and "Traceback" not in err


def test_the_documented_ci_recipe_runs_as_written(tmp_path: Path) -> None:
    """The kbound commands in docs/ci.md's GitHub Actions job, run here in order on a small dataset."""
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    recipe = re.search(r"<!-- ci -->\n```yaml\n(.*?)```\n<!-- /ci -->", text, re.S)
    assert recipe, "docs/ci.md has no CI recipe"
    commands = [m.group(1) for m in re.finditer(r"run: (kbound .*)", recipe.group(1))]
    assert len(commands) == 2  # make the baseline, then check against it
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(ROOT / "corpora" / "alice29.txt", data)
    make_baseline, check = (c.replace('>> "$GITHUB_STEP_SUMMARY"', "") for c in commands)
    assert shell(make_baseline, tmp_path).returncode == 0
    ok = shell(check, tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads((tmp_path / "kbound.json").read_text())["baseline"]["best"]["delta_bytes"] == 0
    shutil.copy(ROOT / "corpora" / "asyoulik.txt", data)  # the dataset grows by 80 %
    grown = shell(check, tmp_path)
    assert grown.returncode == 3 and "more than --max-growth" in grown.stderr


def test_a_cache_directory_that_cannot_be_written_is_said_once(alice: Path, tmp_path: Path) -> None:
    # Root may write anywhere, so the cache's results directory is made a file: every write fails.
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "results").write_text("not a directory")
    text = tmp_path / "t.txt"
    text.write_bytes(alice.read_bytes()[:20_000])
    code, out, err = run(str(text), "-b", "zlib:1", "-b", "bz2:1", "--cache-dir", str(cache), "-q")
    assert code == 0 and out.strip().isdigit()
    assert err == (f"kbound: warning: the cache directory {cache} cannot be written (Not a directory): results are"
                   " not kept for the next run\n")
