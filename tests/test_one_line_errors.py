"""Bad input and hostile surroundings give one line and a documented exit code, never a traceback."""

from __future__ import annotations

import errno
import hashlib
import importlib.util
import io
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import run
from corpus_helpers import corpus_of
from kbound.backends.registry import parse_spec
from kbound.run import executor, worker
from kbound.run.worker import Task, run_task

KBOUND = [sys.executable, "-c", "from kbound.cli import main; main()"]


@pytest.mark.parametrize(("separator", "why"), [
    ("\\x", "truncated \\xXX escape"), ("\\u12", "truncated \\uXXXX escape"), ("\\", "\\ at end of string"),
])
def test_a_separator_whose_escape_does_not_parse_is_a_usage_error(separator: str, why: str, alice: Path) -> None:
    for command in ("estimate", "curve", "compare", "tradeoff"):
        inputs = [str(alice)] * (2 if command == "compare" else 1)
        code, out, err = run(command, *inputs, "--separator", separator, "-b", "zlib:1")
        assert (code, out) == (2, ""), command
        assert err.splitlines()[-1] == f"Error: Invalid value for '--separator': '{separator}': {why}"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", [["--help"], ["--version"], ["curve", "--help"], ["backends"]])
def test_help_on_a_full_device_is_one_line_and_exit_1(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run([*KBOUND, *args], stdout=full, stderr=subprocess.PIPE, timeout=60)
    assert (proc.returncode, proc.stderr.decode()) == (
        1, "kbound: error: cannot write standard output (No space left on device)\n")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["estimate", "--help"]])
def test_help_into_a_closed_pipe_ends_quietly_with_141(args: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)  # as `kbound --help | true` once true has gone
    try:
        proc = subprocess.run([*KBOUND, *args], stdout=write, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (141, b"")


def test_an_output_encoding_that_cannot_spell_a_character_gets_an_escape(alice: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "latin-1"}
    proc = subprocess.run([*KBOUND, str(alice), "-b", "zlib:1", "-f", "md", "--no-progress"], env=env,
                          capture_output=True, timeout=120)
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert b"\\u2026" in proc.stdout  # the table's `…` (not in latin-1), escaped


class _FullDisk(io.BytesIO):
    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_temporary_directory_is_one_line_that_says_where(
    alice: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(worker.tempfile, "TemporaryFile", lambda **_: _FullDisk())
    monkeypatch.setattr(worker.tempfile, "tempdir", str(tmp_path))
    corpus = corpus_of(alice)
    # ppmd spools its payload (raw and the dictionary coders verify beside the encoder and write nothing).
    result = run_task(Task(parse_spec("ppmd:4,mem=16m"), corpus.selection(), 152_089), write_cache=False)
    assert result["error"] == (f"no space left in the temporary directory {tmp_path} "
                               "(No space left on device): set TMPDIR to a larger disk")


def test_a_url_whose_protocol_needs_a_missing_package_names_that_package(alice: Path) -> None:
    # fsspec is there (the dask extra); its s3:// protocol needs s3fs, which the test environment lacks.
    pytest.importorskip("fsspec")
    if importlib.util.find_spec("s3fs") is not None:
        pytest.skip("s3fs is installed here")
    code, out, err = run("s3://bucket/corpus.txt", "-b", "zlib:1")
    assert (code, out) == (1, "")
    assert err == ("kbound: error: s3://bucket/corpus.txt: fsspec needs another package for s3:// URLs"
                   " (Install s3fs to access S3)\n")
    code, out, err = run("nosuch://bucket/corpus.txt", "-b", "zlib:1")
    assert (code, out) == (1, "")
    assert err == "kbound: error: nosuch://bucket/corpus.txt: not a URL fsspec can read (Protocol not known: nosuch)\n"


def test_the_lines_format_says_where_the_model_comparison_went(alice: Path) -> None:
    code, out, err = run(str(alice), "-b", "zlib:1", "--model", "7B", "-f", "lines")
    assert code == 0 and [line.split("\t")[0] for line in out.splitlines()] == ["zlib:1", "raw"]
    assert err == ("kbound: the --model comparison is not in the lines format (a row per backend);"
                   " -f table, md or json shows it\n")
    assert run(str(alice), "-b", "zlib:1", "--model", "7B", "-f", "json")[2] == ""


def test_a_json_line_error_names_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok"}\n{"text": "x" 5}\n', encoding="utf-8")
    code, out, err = run(str(path), "--field", "text", "-b", "zlib:1")
    assert (code, out) == (1, "")
    assert err == f"kbound: error: {path}:2: not a JSON line (Expecting ',' delimiter: column 14)\n"


@pytest.mark.parametrize("magic", [b"BZh9", b"PAR1", b"\x1f\x8b", b"\x28\xb5\x2f\xfd"])
def test_a_text_that_begins_with_a_containers_magic_is_read_as_it_is_with_plain(tmp_path: Path, magic: bytes) -> None:
    text = magic + b" is how this text happens to begin.\nThe rest is plain prose.\n"
    path = tmp_path / "odd.txt"
    path.write_bytes(text)
    code, out, err = run(str(path), "-b", "zlib:1", "-q")
    assert (code, out) == (1, "") and "if it is text, --plain reads it as it is" in err and err.count("\n") == 1, err
    for args, given in (((str(path),), None), (("-",), text)):  # a file, and the same on standard input
        code, out, err = run(*args, "-b", "zlib:1", "--plain", "-f", "json", input=given)
        assert (code, err) == (0, ""), err
        corpus = json.loads(out)["corpus"]
        assert (corpus["bytes"], corpus["sha256"]) == (len(text), hashlib.sha256(text).hexdigest())
    code, _, err = run(str(path), "--plain", "--field", "text", "-b", "zlib:1")
    assert code == 2 and "--plain reads every input as text as it is; --field reads JSON lines or Parquet" in err
    code, _, err = run("curve", str(path), "--plain", "--field", "text", "-b", "zlib:1")
    assert code == 2 and "--plain reads every input as text as it is" in err


def _no_room(*_: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _forked_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers by fork, so that the test's patches reach them (an earlier test may have loaded a llama.cpp model
    in this process, after which kbound spawns them; these workers never run the model)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("the patches reach workers by fork")
    monkeypatch.setattr(executor, "context", lambda: multiprocessing.get_context("fork"))


def test_a_full_temporary_directory_in_any_worker_call_says_where(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Not only a payload: pass 1 keeps the duplicate index's partitions in the work directory too.
    _forked_workers(monkeypatch)
    monkeypatch.setattr(executor.tempfile, "tempdir", str(tmp_path))
    [result] = executor.LocalExecutor(jobs=1).run([executor.Call(_no_room, ())])
    assert result == executor.Failure(f"no space left in the temporary directory {tmp_path} "
                                      "(No space left on device): set TMPDIR to a larger disk")


def test_a_run_in_which_every_row_failed_is_an_error_and_a_limit_it_cannot_check_is_breached(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _forked_workers(monkeypatch)
    shards = tmp_path / "shards"
    shards.mkdir()
    words = Path(__file__).resolve().parent.parent / "corpora" / "alice29.txt"
    paragraphs = [p for p in words.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    (shards / "a.jsonl").write_text("".join(json.dumps({"text": p}) + "\n" for p in paragraphs * 2), encoding="utf-8")
    monkeypatch.setattr(executor.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(executor, "_store", _no_room)  # every kept result (the rows of a run with the stage)
    args = [str(shards), "--field", "text", "-b", "zstd:3", "--no-cache", "--no-progress", "-f", "lines"]
    code, out, err = run(*args)
    failed = f"failed: no space left in the temporary directory {tmp_path} (No space left on device): set TMPDIR"
    assert (code, out) == (1, ""), err
    assert failed in err and err.endswith("kbound: error: no backend produced a bound (every row failed)\n"), err
    code, out, err = run(*args, "--max-bpb", "8")
    assert (code, out) == (3, "")
    assert err.endswith("kbound: threshold breached: --max-bpb 8 cannot be checked: this run has no best bound\n")
