"""A small seeded fuzz through the command line: deep JSON, damaged Parquet files and malformed baselines.

Each case runs `kbound` as a user would (click's runner, workers in their own processes) and must
end with a documented exit code (docs/outputs.md: 0, 1, 2 or 3), with no exception escaping the
command and no traceback in its output; a refusal is one line. tests/fuzz_inputs.py fuzzes the
readers themselves much longer; this holds the command's promise for the same inputs.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbound.cli import cli

ALICE = Path(__file__).resolve().parent.parent / "corpora" / "alice29.txt"
DOCUMENTED = {0, 1, 2, 3}


def _kbound(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="kbound")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    code, out, err = result.exit_code, result.stdout, result.stderr
    assert code in DOCUMENTED, (code, err)
    assert "Traceback" not in out + err
    if code == 1:
        assert err.startswith("kbound: error: ") and err.count("\n") == 1, err
    if code == 2:
        assert "Error: " in err, err
    return code, out, err


def _lines(seed: int) -> list[str]:
    text = ALICE.read_text(encoding="latin-1").splitlines()
    rng = random.Random(seed)
    start = rng.randrange(len(text) - 200)
    return [line for line in text[start : start + 200] if line.strip()]


def _deep(kind: str, depth: int) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a": ' * depth + "1" + "}" * depth
    if kind == "open":  # never closed
        return '{"text": ' + "[" * depth
    return '{"text": "ok", "meta": ' + "[" * depth + "]" * depth + "}"  # deep beside a good field


@pytest.mark.parametrize("kind", ["array", "object", "open", "beside"])
def test_deep_json_lines(tmp_path: Path, kind: str) -> None:
    good = json.dumps({"text": "a first document"})
    for depth in (100, 1_000, 100_000):
        path = tmp_path / f"{kind}-{depth}.jsonl"
        path.write_text(f"{good}\n{_deep(kind, depth)}\n{good}\n", encoding="utf-8")
        code, _, err = _kbound(str(path), "--field", "text", "-b", "zlib:1", "-q")
        if kind == "beside" and depth == 100:  # the field is a string: the document is read
            assert code == 0, err
        else:  # not a document, or nested past what the parser follows: refused, naming the line
            assert code == 1 and f"{path.name}:2: " in err, err
        assert _kbound(str(path), "-b", "zlib:1", "-q")[0] == 0  # without --field: bytes, read as they are


def _parquet(path: Path) -> bytes:
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    pq.write_table(pa.table({"text": _lines(1), "n": list(range(len(_lines(1))))}), path, row_group_size=40)
    return path.read_bytes()


def _mutants(data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    n = len(data)
    cases = [("empty", b""), ("magic only", b"PAR1"), ("bad head magic", b"PAR0" + data[4:]),
             ("bad tail magic", data[:-4] + b"PAR0"), ("footer length huge", data[:-8] + b"\xff\xff\xff\x7fPAR1"),
             ("footer length zero", data[:-8] + b"\x00\x00\x00\x00PAR1"), ("cut before the footer", data[: n - 9])]
    for _ in range(6):
        cut = rng.randrange(1, n)
        cases.append((f"cut at {cut}", data[:cut]))
    for _ in range(10):
        buf = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            buf[rng.randrange(n)] ^= 1 << rng.randrange(8)
        cases.append(("flipped bits", bytes(buf)))
    return cases


def test_damaged_parquet_files(tmp_path: Path) -> None:
    data = _parquet(tmp_path / "good.parquet")
    assert _kbound(str(tmp_path / "good.parquet"), "--field", "text", "-b", "zlib:1", "-q")[0] == 0
    refused = 0
    for i, (what, mutant) in enumerate(_mutants(data, random.Random(7))):
        path = tmp_path / f"m{i}.parquet"
        path.write_bytes(mutant)
        code, _, err = _kbound(str(path), "--field", "text", "-b", "zlib:1", "-q")
        assert code in (0, 1), (what, err)
        refused += code == 1
    assert refused >= 7  # every structural case at least; a flipped bit in a page may still read


@pytest.mark.parametrize("best", [
    '"x"', "-5", "0", "null", "[]", "{}", '{"total_bytes": "x"}', '{"total_bytes": -5}', '{"total_bytes": 0}',
    '{"total_bytes": 1e400}', '{"total_bytes": NaN}', '{"total_bytes": -Infinity}', '{"total_bytes": 12.5}',
    '{"total_bytes": true}', '{"total_bytes": 100, "bits_per_byte": NaN}',
    '{"total_bytes": 100, "bits_per_byte": 1e999}',
    '{"total_bytes": ' + "[" * 50_000 + "]" * 50_000 + "}",
])
def test_malformed_baselines(alice: Path, tmp_path: Path, best: str) -> None:
    good = json.loads(_kbound(str(alice), "-b", "zlib:1", "-f", "json")[1])
    base = tmp_path / "base.json"
    base.write_text(json.dumps(good)[:-1] + f', "best": {best}}}', encoding="utf-8")
    code, out, err = _kbound(str(alice), "-b", "zlib:1", "--baseline", str(base), "--max-growth", "5", "-q")
    assert code != 0  # never a pass of --max-growth against nonsense
    if best in ("null", "{}"):  # no best bound to grow from: the limit cannot be checked (docs/ci.md)
        assert code == 3 and "cannot be checked" in err, err
    else:
        assert code == 1 and out == "" and err.startswith(f"kbound: error: {base}: "), err


def test_baselines_cut_and_nested_as_a_whole(alice: Path, tmp_path: Path) -> None:
    text = _kbound(str(alice), "-b", "zlib:1", "-f", "json")[1]
    rng = random.Random(3)
    base = tmp_path / "base.json"
    for content in [text[: rng.randrange(len(text))] for _ in range(4)] + ["[" * 100_000, "{}", "[]", "\xff"]:
        base.write_text(content, encoding="utf-8", errors="surrogateescape")
        code, out, err = _kbound(str(alice), "-b", "zlib:1", "--baseline", str(base), "-q")
        assert code == 1 and out == "", err
