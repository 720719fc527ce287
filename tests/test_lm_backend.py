"""The `lm` backend: text range-coded with a GGUF model's probabilities, on tiny llama models written here."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from backend_checks import check_bad_specs, check_config, check_deterministic, check_round_trip
from cli_helpers import run
from kbound.backends import lm_model
from kbound.backends.registry import parse_spec
from kbound.errors import BackendError
from kbound.models.loss import measure_loss
from kbound.sources.corpus import open_corpus
from llm_models import VOCAB, write_tiny_llama

pytest.importorskip("llama_cpp", reason="the llm extra (llama-cpp-python) is not installed")
pytestmark = pytest.mark.llm

ALICE = Path(__file__).resolve().parent.parent / "corpora" / "alice29.txt"
EDGE_CASES = {
    "empty": b"",
    "one byte": b"x",
    "all byte values": bytes(range(256)) * 3,
    "long run": b"a" * 5_000,
    "random": os.urandom(3_000),
    "invalid UTF-8 among text": b"plain line\n" * 20 + b"bad \xff\xfe\xc3 bytes\n" + b"more\n" * 20,
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_llama(tmp_path_factory.mktemp("lm") / "tiny.gguf", seed=1)


@pytest.fixture(scope="module")
def zero(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_llama(tmp_path_factory.mktemp("lm") / "zero.gguf", zero=True)


def test_the_shared_backend_checks(tiny: Path) -> None:
    backend = parse_spec(f"lm:{tiny},window=64")
    check_config(backend)
    check_bad_specs("lm", f"{tiny},")
    check_deterministic(backend, ALICE.read_bytes()[:3_000])
    payload = check_round_trip(backend, ALICE.read_bytes()[:10_000])
    assert len(payload) < 10_000 * 1.3  # a random model is no good predictor, but no worse than bytes


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_round_trip_on_edge_cases(tiny: Path, case: str) -> None:
    check_round_trip(parse_spec(f"lm:{tiny},window=32,stride=7"), EDGE_CASES[case])


def test_payload_is_the_measured_loss_plus_a_few_bytes(tiny: Path, tmp_path: Path) -> None:
    data = ALICE.read_bytes()[:15_000]
    text = tmp_path / "t.txt"
    text.write_bytes(data)
    with open_corpus([str(text)]) as corpus:
        loss = measure_loss(str(tiny), corpus.selection(), window=64, stride=20)
    payload = parse_spec(f"lm:{tiny},window=64,stride=20").compress(data)
    # The same tokens with the same context: only the header (12 bytes), the coder's flush and stop
    # symbol, and the integer frequencies' rounding separate the two.
    assert 0 < len(payload) - loss.bits / 8 < 32


def test_a_uniform_model_codes_every_token_at_its_integer_frequency(zero: Path) -> None:
    data = ALICE.read_bytes()[:4_000]
    payload = parse_spec(f"lm:{zero},window=64").compress(data)
    tokens = 4_000 - data.count(b" t")  # the vocabulary's one merge, "Ġt", makes " t" one token
    freq = lm_model.SCALE // VOCAB + 1  # floor(p * SCALE) + 1 for p = 1/VOCAB
    total = VOCAB * freq + 1  # and the stop symbol
    bits = tokens * math.log2(total / freq) + math.log2(total)
    assert 0 < len(payload) - bits / 8 < 24


def test_the_decoder_follows_the_payload_not_the_spec(tiny: Path) -> None:
    data = ALICE.read_bytes()[:3_000]
    payload = parse_spec(f"lm:{tiny},window=48,stride=10,threads=2").compress(data)
    assert parse_spec(f"lm:{tiny}").decompress(payload) == data  # window, stride and threads come from the header


def test_a_window_past_the_models_context_is_cut_to_it(tmp_path: Path) -> None:
    short = write_tiny_llama(tmp_path / "short.gguf", seed=2, n_ctx=40)
    backend = parse_spec(f"lm:{short},window=1k")
    data = ALICE.read_bytes()[:2_000]
    payload = backend.compress(data)
    assert payload[1] == 40  # the header's window (a one-byte varint)
    assert backend.decompress(payload) == data


def test_damaged_payloads_fail_with_a_value_error(tiny: Path, tmp_path: Path) -> None:
    backend = parse_spec(f"lm:{tiny},window=64")
    payload = backend.compress(ALICE.read_bytes()[:2_000])
    with pytest.raises(ValueError, match="truncated"):
        backend.decompress(payload[:-3])
    with pytest.raises(ValueError, match="trailing"):
        backend.decompress(payload + b"\0")
    with pytest.raises(ValueError, match="format"):
        backend.decompress(b"\x09" + payload[1:])
    other = write_tiny_llama(tmp_path / "other.gguf", seed=5)
    with pytest.raises(ValueError, match="another model"):
        parse_spec(f"lm:{other}").decompress(payload)


def test_bad_specs_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model\n")
    cases = {
        "lm": "needs a GGUF model file",
        f"lm:{tmp_path / 'missing.gguf'}": "cannot read",
        f"lm:{tmp_path / 'notes.txt'}": "not a GGUF file",
        f"lm:{tmp_path / 'fifo.gguf'}": "not a regular file",
    }
    os.mkfifo(tmp_path / "fifo.gguf")
    for spec, message in cases.items():
        with pytest.raises(BackendError, match=message):
            parse_spec(spec)


def lm_row(*args: str) -> dict[str, object]:
    code, out, err = run(*args, "-f", "json")
    assert code == 0, err
    return next(r for r in json.loads(out)["results"] if r["backend"] == "lm")


def test_cli_bound_counts_the_model_and_is_verified(tiny: Path, tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_bytes(ALICE.read_bytes()[:6_000])
    args = (str(text), "-b", f"lm:{tiny},window=64", "--cache-dir", str(tmp_path / "cache"))
    row = lm_row(*args)
    assert row["verified"] is True and row["error"] is None
    assert row["decoder_bytes"] > tiny.stat().st_size  # type: ignore[operator]  # the model, llama.cpp, kbound
    assert f"plus {tiny.name}, {tiny.stat().st_size:,} bytes as stored" in str(row["decoder_method"])
    assert row["library"] == "llama-cpp-python"
    again = lm_row(*args)
    assert again["cached"] is True and again["payload_bytes"] == row["payload_bytes"]
    write_tiny_llama(tiny, seed=1)  # the same weights written again: a new mtime, the same sha256
    assert lm_row(*args)["cached"] is True
    changed = tmp_path / "changed.gguf"
    write_tiny_llama(changed, seed=3)
    os.replace(changed, tiny)  # another model under the same name: the cached row must not be recalled
    third = lm_row(*args)
    assert third["cached"] is False and third["payload_bytes"] != row["payload_bytes"]
    write_tiny_llama(tiny, seed=1)


def test_a_model_llama_cpp_cannot_load_fails_its_row_only(tmp_path: Path) -> None:
    import gguf

    bad = tmp_path / "bad.gguf"
    w = gguf.GGUFWriter(str(bad), "llama")  # a well-formed header with no tensors: kbound's scan accepts it
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    text = tmp_path / "t.txt"
    text.write_bytes(ALICE.read_bytes()[:2_000])
    code, out, err = run(str(text), "-b", f"lm:{bad}", "-b", "zstd:3", "-f", "json", "--no-cache")
    assert code == 0, err
    rows = {r["backend"]: r for r in json.loads(out)["results"]}
    assert rows["lm"]["error"] and "\n" not in rows["lm"]["error"]
    assert rows["lm"]["verified"] is False
    assert rows["zstd"]["verified"] is True


def test_measuring_loss_after_llama_cpp_ran_in_this_process(tiny: Path, tmp_path: Path) -> None:
    # A forked child of a process holding llama.cpp's thread pool hung in its first evaluation
    # (found when this file ran before test_model_loss.py): the worker is spawned then. Run in a
    # subprocess with a timeout, so that a hang fails the test instead of stopping the suite.
    import subprocess
    import sys

    text = tmp_path / "t.txt"
    text.write_bytes(ALICE.read_bytes()[:2_000])
    script = (
        "import sys\n"
        "from kbound.backends.registry import parse_spec\n"
        "from kbound.models.loss import measure_loss\n"
        "from kbound.sources.corpus import open_corpus\n"
        "b = parse_spec(f'lm:{sys.argv[1]},window=32,threads=2')\n"
        "assert b.decompress(b.compress(b'loaded in this process')) == b'loaded in this process'\n"
        "with open_corpus([sys.argv[2]]) as c:\n"
        "    m = measure_loss(sys.argv[1], c.selection(), window=32)\n"
        "print(m.bytes)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tiny), str(text)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["2000"]
