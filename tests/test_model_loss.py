"""`--model-loss measure`: a GGUF model's loss on the corpus through llama.cpp, with tiny models written here."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import run
from kbound.errors import KboundError
from kbound.models.loss import measure_loss
from kbound.sources.corpus import open_corpus
from llm_models import VOCAB, write_tiny_llama

pytest.importorskip("llama_cpp", reason="the llm extra (llama-cpp-python) is not installed")
pytestmark = pytest.mark.llm

ALICE = Path(__file__).resolve().parent.parent / "corpora" / "alice29.txt"


def loss(model: Path, path: Path | list[Path], **kw: object):  # type: ignore[no-untyped-def]
    paths = path if isinstance(path, list) else [path]
    with open_corpus([str(p) for p in paths]) as corpus:
        return measure_loss(str(model), corpus.selection(), **kw)  # type: ignore[arg-type]


#: Three documents; the last is not ASCII, so that characters and bytes differ.
DOCS = [ALICE.read_bytes()[:5000], ALICE.read_bytes()[5000:5600], "naïve café — 日本語, the end.\n".encode() * 20]


def write_docs(tmp_path: Path) -> list[Path]:
    paths = [tmp_path / f"doc{i}.txt" for i in range(len(DOCS))]
    for p, d in zip(paths, DOCS, strict=True):
        p.write_bytes(d)
    return paths


def tokens_of(text: bytes) -> int:
    # The tiny vocabulary is the 256 bytes and one merge, "Ġt": " t" is one token, every other byte one.
    return len(text) - text.count(b" t")


@pytest.mark.parametrize("scheme", ["sliding", "disjoint"])
def test_zero_model_gives_every_figure_exactly(tmp_path: Path, scheme: str) -> None:
    model = write_tiny_llama(tmp_path / "zero.gguf", zero=True)
    m = loss(model, write_docs(tmp_path), windows=scheme, window=64)
    # disjoint: each document on its own, as lm-eval; sliding: the stream with its separators, as one text
    texts = DOCS if scheme == "disjoint" else [b"\x1e".join(DOCS)]
    tokens = sum(map(tokens_of, texts))
    n_bytes = sum(map(len, texts))
    chars = sum(len(t.decode()) for t in texts)
    words = sum(len(re.split(r"\s+", t.decode())) for t in texts)
    assert (m.windows, m.texts, m.tokens, m.bytes, m.characters, m.words) == (
        scheme, len(texts), tokens, n_bytes, chars, words)
    assert chars < n_bytes and words < chars
    # The zero model gives every token probability 1/V: LL = -tokens·ln V, and every figure follows.
    ln_v = math.log(VOCAB)
    assert m.nats == pytest.approx(tokens * ln_v, rel=1e-12)
    assert m.bits_per_token == pytest.approx(math.log2(VOCAB), rel=1e-12)
    assert m.bits_per_byte == pytest.approx(tokens * ln_v / (n_bytes * math.log(2)), rel=1e-12)
    assert m.bits_per_character == pytest.approx(tokens * ln_v / (chars * math.log(2)), rel=1e-12)
    assert m.byte_perplexity == pytest.approx(math.exp(tokens * ln_v / n_bytes), rel=1e-12)
    assert m.word_perplexity == pytest.approx(math.exp(tokens * ln_v / words), rel=1e-12)
    assert m.stride == (64 if scheme == "disjoint" else 32)


def test_disjoint_scores_each_document_apart(tmp_path: Path) -> None:
    model = write_tiny_llama(tmp_path / "tiny.gguf", seed=1)
    paths = write_docs(tmp_path)
    together = loss(model, paths, windows="disjoint", window=64)
    apart = [loss(model, p, windows="disjoint", window=64) for p in paths]
    assert together.tokens == sum(a.tokens for a in apart) == sum(map(tokens_of, DOCS))
    assert together.nats == pytest.approx(sum(a.nats for a in apart), rel=1e-12)
    assert together.words == sum(a.words for a in apart)
    # The sliding window carries context across documents and scores the separators: other bits.
    sliding = loss(model, paths, windows="sliding", window=64)
    assert sliding.tokens == together.tokens + 2
    assert abs(sliding.nats - together.nats) > 1.0


def test_one_window_is_the_same_evaluation_in_both_schemes(tmp_path: Path) -> None:
    model = write_tiny_llama(tmp_path / "tiny.gguf", seed=1)
    text = tmp_path / "t.txt"
    text.write_bytes(ALICE.read_bytes()[:100])  # fewer tokens than the window: BOS + the text, once
    disjoint = loss(model, text, windows="disjoint", window=128)
    sliding = loss(model, text, windows="sliding", window=128, stride=127)
    assert disjoint.tokens == sliding.tokens == tokens_of(ALICE.read_bytes()[:100])
    assert disjoint.nats == sliding.nats


def test_disjoint_scores_every_token_once_whatever_the_window(tmp_path: Path) -> None:
    model = write_tiny_llama(tmp_path / "tiny.gguf", seed=1)
    paths = write_docs(tmp_path)
    runs = [loss(model, paths, windows="disjoint", window=w) for w in (16, 64, 512)]
    assert [r.tokens for r in runs] == [sum(map(tokens_of, DOCS))] * 3
    assert len({r.nats for r in runs}) == 3  # more context, other bits


def test_uniform_model_costs_log2_vocab_per_token(tmp_path: Path) -> None:
    model = write_tiny_llama(tmp_path / "zero.gguf", zero=True)
    text = tmp_path / "t.txt"
    text.write_bytes(ALICE.read_bytes()[:20000])
    m = loss(model, text, window=64)
    assert m.vocab == VOCAB
    assert m.bytes == 20000  # every byte of the text was scored
    assert m.bits_per_token == pytest.approx(math.log2(VOCAB), rel=1e-12)
    assert m.bits == pytest.approx(m.tokens * math.log2(VOCAB), rel=1e-12)
    assert m.escaped_bytes == 0


def test_every_token_scored_once_whatever_the_window(tmp_path: Path) -> None:
    model = write_tiny_llama(tmp_path / "tiny.gguf", seed=1)
    text = tmp_path / "t.txt"
    text.write_bytes(ALICE.read_bytes()[:6000])
    runs = [loss(model, text, window=w, stride=s) for w, s in ((32, 31), (64, 16), (128, None))]
    assert len({r.tokens for r in runs}) == 1
    assert all(r.bytes == 6000 for r in runs)
    assert runs[2].stride == 64 and runs[1].window == 64
    # A random model is no uniform one: its loss differs, and more context changes the bits.
    assert all(abs(r.bits_per_token - math.log2(VOCAB)) > 0.01 for r in runs)
    assert runs[0].bits != runs[1].bits
    assert loss(model, text, window=64, stride=16).bits == runs[1].bits  # the same evaluation gives the same bits


def test_bytes_the_tokenizer_cannot_reproduce_are_scored_as_byte_tokens(tmp_path: Path) -> None:
    model = write_tiny_llama(tmp_path / "zero.gguf", zero=True)
    text = tmp_path / "bin.txt"
    data = b"plain line\n" * 50 + b"bad \xff\xfe bytes\n" + b"more text\n" * 50
    text.write_bytes(data)
    m = loss(model, text, window=64)
    assert m.bytes == len(data)
    # only the two bytes that are not UTF-8: they never reach llama.cpp's tokenizer (which aborts
    # the process on some invalid UTF-8); the text around them is tokenized as usual
    assert m.escaped_bytes == 2


def test_window_cut_to_the_models_context(tmp_path: Path) -> None:
    model = write_tiny_llama(tmp_path / "short.gguf", zero=True, n_ctx=64)
    text = tmp_path / "t.txt"
    text.write_bytes(ALICE.read_bytes()[:3000])
    m = loss(model, text, window=1000)
    assert m.window == 64
    assert any("context length, 64" in n for n in m.notes)


_CONTEXTS = r"""
import json, sys
import llama_cpp
from kbound.backends import lm_model
asked = []
real = llama_cpp.Llama
def recording(*args, **kwargs):
    asked.append(kwargs["n_ctx"])
    return real(*args, **kwargs)
llama_cpp.Llama = recording
_, plan = lm_model.open_model(sys.argv[1], int(sys.argv[2]), None, 1, logits_all=False)
print(json.dumps({"asked": asked, "window": plan.window, "notes": list(plan.notes)}))
"""


@pytest.mark.parametrize("window", [1000, 65536])
def test_the_context_length_is_read_before_llama_cpp_allocates_a_window(tmp_path: Path, window: int) -> None:
    # A window past the model's context is cut before any context is made: a 65,536-token one may not fit in memory.
    from kbound.backends.gguf_scan import scan_header

    model = write_tiny_llama(tmp_path / "short.gguf", zero=True, n_ctx=64)
    assert scan_header(model) == 64
    out = subprocess.run([sys.executable, "-c", _CONTEXTS, str(model), str(window)], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout) == {"asked": [64], "window": 64,
                                      "notes": [f"window {window} tokens cut to the model's context length, 64"]}


def test_a_file_llama_cpp_rejects_is_one_error(tmp_path: Path) -> None:
    model = write_tiny_llama(tmp_path / "tiny.gguf")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(model.read_bytes()[: model.stat().st_size // 2])  # tensor data cut short
    with pytest.raises(KboundError, match=r"broken\.gguf: llama\.cpp could not run the model"):
        loss(broken, ALICE)


def test_cli_measure_adds_the_measured_two_part_code(tmp_path: Path) -> None:
    model = write_tiny_llama(tmp_path / "zero.gguf", zero=True)
    text = tmp_path / "t.txt"
    text.write_bytes(ALICE.read_bytes()[:10000])
    args = ["estimate", str(text), "-b", "xz:9", "-m", str(model), "--model-loss", "measure", "--loss-window", "64"]
    code, out, err = run(*args, "-f", "json", "--no-cache")
    assert code == 0, err
    tp = json.loads(out)["models"][0]["comparison"]["two_part"]
    assert tp["measured"]["bits_per_token"] == pytest.approx(math.log2(VOCAB), rel=1e-6)
    assert tp["loss_bits_per_byte"] == tp["measured"]["bits_per_byte"]
    assert tp["model_bits"] == 8 * model.stat().st_size
    assert "llama.cpp on the corpus" in tp["loss_from"]
    _, table, _ = run(*args, "-f", "table", "--no-cache")
    assert "Measured loss: 8.0112 bits/token" in table
    assert "sliding window 64 tokens, stride 32" in table


def test_cli_disjoint_windows_carry_lm_evals_figures(tmp_path: Path) -> None:
    model = write_tiny_llama(tmp_path / "zero.gguf", zero=True)
    write_docs(tmp_path)
    code, out, err = run("estimate", str(tmp_path), "--glob", "*.txt", "-b", "xz:9", "-m", str(model),
                         "--model-loss", "measure", "--loss-windows", "disjoint", "--loss-window", "64",
                         "-f", "json", "--no-cache")
    assert code == 0, err
    m = json.loads(out)["models"][0]["comparison"]["two_part"]["measured"]
    tokens, n_bytes = sum(map(tokens_of, DOCS)), sum(map(len, DOCS))
    assert (m["windows"], m["texts"], m["window"], m["tokens"], m["bytes"]) == ("disjoint", 3, 64, tokens, n_bytes)
    assert m["nats"] == pytest.approx(tokens * math.log(VOCAB), rel=1e-12)
    assert m["byte_perplexity"] == round(math.exp(tokens * math.log(VOCAB) / n_bytes), 6)
    assert m["bits_per_byte"] == round(tokens * math.log2(VOCAB) / n_bytes, 6)
    assert {"bits_per_character", "word_perplexity", "characters", "words"} <= m.keys()


def test_cli_sample_of_documents(tmp_path: Path) -> None:
    model = write_tiny_llama(tmp_path / "zero.gguf", zero=True)
    for i in range(20):
        (tmp_path / f"doc{i:02}.txt").write_bytes(ALICE.read_bytes()[i * 1000 : (i + 1) * 1000])
    code, out, err = run("estimate", str(tmp_path), "--glob", "*.txt", "-b", "xz:9", "-m", str(model), "--model-loss",
                         "measure", "--loss-window", "64", "--loss-sample", "5k", "--loss-seed", "3", "-f", "json",
                         "--no-cache")
    assert code == 0, err
    m = json.loads(out)["models"][0]["comparison"]["two_part"]["measured"]
    assert m["sample_seed"] == 3 and m["documents"] == 20
    assert 5000 <= m["bytes"] < 20000  # whole documents, at least the size asked for


@pytest.mark.parametrize(("args", "code", "message"), [
    (["-m", "7B", "--model-loss", "measure"], 2, "runs a GGUF model"),
    (["--loss-window", "64", "-m", "7B", "--model-loss", "1.0"], 2, "go with --model-loss measure"),
    (["-m", "7B", "--model-loss", "abc"], 2, "neither a number nor 'measure'"),
    (["--loss-windows", "disjoint", "-m", "7B", "--model-loss", "1.0"], 2, "go with --model-loss measure"),
    (["--loss-windows", "disjoint", "--loss-stride", "8", "-m", "7B", "--model-loss", "measure"], 2,
     "--loss-stride goes with --loss-windows sliding"),
])
def test_cli_usage_errors(args: list[str], code: int, message: str) -> None:
    got, _, err = run("estimate", str(ALICE), "-b", "xz:9", *args)
    assert got == code
    assert message in err


def test_a_signal_during_scoring_prints_the_finished_rows_and_exits_with_its_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    from kbound.models import loss
    from kbound.run.signals import Terminated

    model = write_tiny_llama(tmp_path / "zero.gguf", zero=True)
    text = tmp_path / "t.txt"
    text.write_bytes(b"a small text to score, then a signal arrives.\n" * 40)

    def stopped(*args: object, **kw: object) -> object:
        raise Terminated(signal.SIGTERM)  # as SIGTERM arriving while llama.cpp scores

    monkeypatch.setattr(loss, "measure_loss", stopped)
    code, out, err = run(str(text), "-b", "zlib:6", "--model", str(model), "--model-loss", "measure",
                         "--no-cache", "-f", "lines")
    assert code == 143 and err.endswith("kbound: terminated (SIGTERM)\n")
    assert sorted(line.split("\t")[0] for line in out.splitlines()) == ["raw", "zlib:6"] and "Traceback" not in err


def test_a_run_stopped_during_the_backends_does_not_go_on_to_score(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses
    import signal

    from kbound.cli import estimate as command
    from kbound.models import loss

    model = write_tiny_llama(tmp_path / "zero.gguf", zero=True)
    text = tmp_path / "t.txt"
    text.write_bytes(b"some text\n" * 100)
    real = command.estimate
    monkeypatch.setattr(command, "estimate", lambda *a, **kw: dataclasses.replace(
        real(*a, **kw), interrupted=True, signal=signal.SIGTERM))  # as if SIGTERM came while coding
    scored: list[object] = []
    monkeypatch.setattr(loss, "measure_loss", lambda *a, **kw: scored.append(a))
    code, out, _ = run(str(text), "-b", "zlib:6", "--model", str(model), "--model-loss", "measure", "--no-cache",
                       "-f", "lines")
    assert code == 143 and scored == []
    assert sorted(line.split("\t")[0] for line in out.splitlines()) == ["raw", "zlib:6"]
