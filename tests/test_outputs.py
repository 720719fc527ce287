"""What kbound writes: `-o` and `--plot` paths (regular files, symlinks, devices, FIFOs, modes), standard
output on a full device, names that are not UTF-8, and the `lines` format's order."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cli_helpers import run
from kbound.report.files import OutputError, display_name, write_output


def test_output_through_a_symlink_replaces_its_target_and_keeps_the_link(alice: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.json"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    code, _, _ = run(str(alice), "-b", "zlib:1", "-q", "-o", str(link))
    assert code == 0
    assert link.is_symlink() and os.readlink(link) == target.name
    assert json.loads(target.read_text())["schema"] == "kbound/1"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # an existing file keeps its mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "target.json"]  # no temporary left


def test_a_new_output_file_gets_its_mode_from_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_output(tmp_path / "new.json", b"{}\n")
        os.umask(0o077)
        write_output(tmp_path / "private.json", b"{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600


def test_a_fifo_is_written_to_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_output(fifo, b"report\n")
    reader.join(timeout=10)
    assert got == [b"report\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_a_device_is_written_to_not_replaced() -> None:
    write_output("/dev/null", b"report\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_an_output_that_is_a_directory_or_under_a_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a directory"):
        write_output(tmp_path, b"x")
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="Not a directory"):
        write_output(tmp_path / "file" / "r.json", b"x")
    write_output(tmp_path / "new" / "dir" / "r.json", b"x")  # missing directories are made
    assert (tmp_path / "new" / "dir" / "r.json").read_bytes() == b"x"


def test_an_output_that_cannot_be_written_loses_nothing_printed(alice: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    code, out, err = run(str(alice), "-b", "zlib:1", "-f", "lines", "-o", str(tmp_path / "file" / "r.json"))
    assert code == 1
    assert out.splitlines()[0].startswith("zlib:1\t")  # the results went to stdout first
    assert err.strip().splitlines() == [f"kbound: error: {tmp_path / 'file' / 'r.json'}: cannot write "
                                        "(Not a directory)"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_standard_output_on_a_full_device_is_one_line_and_exit_1(alice: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "kbound", str(alice), "-b", "zlib:1", "-f", "json"],
                              stdout=full, stderr=subprocess.PIPE, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.decode().strip().splitlines() == [
        "kbound: error: cannot write standard output (No space left on device)"]


def test_names_that_are_not_utf8_are_escaped_in_json(alice_bytes: bytes, tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.txt")
    try:
        (tmp_path / name).write_bytes(alice_bytes[:5000])
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    out_file = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "kbound", name, "-b", "zlib:1", "-f", "json", "-o", str(out_file)],
                          cwd=tmp_path, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for raw in (proc.stdout, out_file.read_bytes()):
        doc = json.loads(raw.decode("utf-8"))  # strict UTF-8: a raw 0xE9 byte would fail here
        assert doc["corpus"]["sources"] == ["caf\\xe9.txt"]
    assert display_name("plain.txt") == "plain.txt"


def test_lines_puts_the_best_bound_first(alice: Path) -> None:
    code, out, _ = run(str(alice), "-b", "zlib:1", "-b", "bz2:9", "-f", "json")
    best = json.loads(out)["best"]["backend"]
    code, out, _ = run(str(alice), "-b", "zlib:1", "-b", "bz2:9", "-f", "lines")
    rows = [line.split("\t") for line in out.splitlines()]
    assert code == 0 and rows[0][0] == best
    assert sorted(r[0] for r in rows) == ["bz2:9", "raw", "zlib:1"]


def test_the_first_line_is_the_bound_that_quiet_and_json_give(alice: Path) -> None:
    # zlib:9's row is 125,110 bytes (payload 54,170); the bound adds the bit that chooses it among two: 1,000,881
    # bits, 125,111 bytes.
    args = (str(alice), "-b", "zlib:9")
    first = run(*args, "-f", "lines")[1].splitlines()[0].split("\t")
    best = json.loads(run(*args, "-f", "json")[1])["best"]
    row = next(r for r in json.loads(run(*args, "-f", "json")[1])["results"] if r["spec"] == "zlib:9")
    assert first == ["zlib:9", "125111", f"{best['bits_per_byte']:.6f}"]
    assert run(*args, "-q")[1] == "125111\n" == f"{best['total_bytes']}\n"
    assert row["total_bytes"] == 125_110 and row["payload_bytes"] == 54_170


def test_an_empty_corpus_has_no_bits_per_byte_in_lines(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    code, out, _ = run(str(empty), "-b", "zlib:1", "-f", "lines")
    assert code == 0
    assert {line.split("\t")[2] for line in out.splitlines()} == {"-"}


def test_backends_lists_the_specs_each_effort_runs() -> None:
    from kbound.backends.registry import EFFORTS

    code, out, _ = run("backends", "-f", "json")
    xz = next(row for row in json.loads(out) if row["name"] == "xz")
    assert code == 0
    assert xz["efforts"] == {e: [s for s in specs if s.startswith("xz")]
                             for e, specs in EFFORTS.items() if any(s.startswith("xz") for s in specs)}


def test_curve_without_a_fittable_backend_is_exit_1_with_a_reason(alice_bytes: bytes, tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_bytes(alice_bytes[:3000])
    code, _, err = run("curve", str(small), "-b", "zlib:1", "-f", "lines")
    assert code == 1
    assert err.strip() == "kbound: error: no backend could be fitted (zlib:1: 1 usable point(s); a fit needs 3)"


@pytest.mark.parametrize("value", ["0", "-1", "abc"])
def test_curve_bits_per_param_must_be_positive(alice: Path, value: str) -> None:
    code, _, err = run("curve", str(alice), "--bits-per-param", value)
    assert code == 2 and "--bits-per-param" in err


@pytest.mark.parametrize("how", ["same", "symlink", "hard link", "in a directory"])
def test_an_output_that_is_an_input_is_a_usage_error_and_the_input_is_kept(how: str, tmp_path: Path) -> None:
    mine = tmp_path / "ds" / "mine.txt"
    mine.parent.mkdir()
    mine.write_bytes(b"my data\n")
    given, output = str(mine), str(mine)
    if how == "symlink":
        output = str(tmp_path / "link.json")
        os.symlink(mine, output)
    elif how == "hard link":
        output = str(tmp_path / "hard.json")
        os.link(mine, output)
    elif how == "in a directory":
        given = str(mine.parent)
    code, out, err = run(given, "-b", "raw", "-q", "--no-cache", "-o", output)
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (f"Error: --output {output} is one of the inputs: kbound does not write over "
                                    "what it reads")
    assert mine.read_bytes() == b"my data\n"


@pytest.mark.parametrize("command", ["curve", "tradeoff"])
def test_a_plot_that_is_an_input_is_a_usage_error(command: str, tmp_path: Path) -> None:
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"not really a picture, but my data")
    code, _, err = run(command, str(tmp_path), "-b", "zlib:1", "--plot", str(mine))
    assert code == 2
    assert err.splitlines()[-1] == f"Error: --plot {mine} is one of the inputs: kbound does not write over what it " \
                                   "reads"
    assert mine.read_bytes() == b"not really a picture, but my data"


@pytest.mark.parametrize("command", ["estimate", "curve", "compare", "tradeoff"])
def test_a_cache_directory_inside_an_input_directory_is_a_usage_error(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "a.txt").write_bytes(b"A" * 100)
    cache = tmp_path / "ds" / "cache" / "kbound"  # not there yet: it would be made inside ds
    monkeypatch.setenv("KBOUND_CACHE_DIR", str(cache))
    inputs = [str(tmp_path / "ds")] * (2 if command == "compare" else 1)
    code, _, err = run(command, *inputs, "-b", "zlib:1")
    assert code == 2
    assert err.splitlines()[-1] == (f"Error: the cache directory {cache} is inside an input directory, so its files "
                                    "would be read as corpus: put it elsewhere (--cache-dir or $KBOUND_CACHE_DIR)")
    assert not (tmp_path / "ds" / "cache").exists()
    monkeypatch.setenv("KBOUND_CACHE_DIR", str(tmp_path / "ds" / ".cache"))  # hidden: the walk never reads it
    assert run("estimate", str(tmp_path / "ds"), "-b", "zlib:1", "-q")[0] == 0


def test_an_output_that_is_a_directory_exits_1_after_printing_the_results(alice: Path, tmp_path: Path) -> None:
    code, out, err = run(str(alice), "-b", "zlib:1", "-f", "lines", "--no-cache", "-o", str(tmp_path))
    assert code == 1  # as docs/outputs.md says (click's own check made it a usage error, 2)
    assert out.splitlines()[0].startswith("zlib:1\t")
    assert err == f"kbound: error: {tmp_path}: is a directory\n"
