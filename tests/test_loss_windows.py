"""The window schemes of a measured loss and what it is divided by (no llama.cpp needed: pure schedules and counts)."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import pytest

from kbound.backends.lm_model import Plan
from kbound.models.loss import MeasuredLoss
from kbound.models.loss_texts import TextCounter, per_unit, texts
from kbound.models.loss_windows import Disjoint, Sliding, windows
from kbound.report.models import _measured

ALICE = Path(__file__).resolve().parent.parent / "corpora" / "alice29.txt"


def run(scheme: Disjoint | Sliding, docs: list[list[int]], piece: int) -> list[tuple[list[int], list[int]]]:
    out = []
    for doc in docs:
        for i in range(0, len(doc), piece):
            out += scheme.feed(doc[i : i + piece])
        out += scheme.end()
    return out


@pytest.mark.parametrize("piece", [1, 7, 10, 34])
def test_disjoint_windows_are_lm_evals_rolling_windows(piece: int) -> None:
    # lm-eval's own example (tests/test_utils.py, get_rolling_token_windows with max_seq_len=10,
    # context_len=1, prefix -100) as (context, targets) after its make_disjoint_window.
    got = run(Disjoint(10, -100), [list(range(34))], piece)
    assert got == [
        ([-100], list(range(10))),
        ([9], list(range(10, 20))),
        ([19], list(range(20, 30))),
        ([23, 24, 25, 26, 27, 28, 29], [30, 31, 32, 33]),
    ]


def test_disjoint_starts_each_document_afresh() -> None:
    got = run(Disjoint(4, 99), [[1, 2, 3, 4, 5], [6, 7]], 3)
    assert got == [([99], [1, 2, 3, 4]), ([1, 2, 3, 4], [5]), ([99], [6, 7])]
    no_bos = run(Disjoint(4, None), [[1, 2, 3, 4, 5]], 5)
    assert no_bos == [([], [1, 2, 3, 4]), ([1, 2, 3, 4], [5])]  # the first token is charged uniformly


def test_sliding_windows_keep_the_context_across_documents() -> None:
    plan = Plan(window=6, stride=3, context=2, bos=99, threads=1)
    got = run(Sliding(plan), [[1, 2, 3, 4], [5, 6, 7]], 2)
    # the stream is one text: end() closes it only at the very end
    assert got[:2] == [([99], [1, 2, 3]), ([99, 2, 3], [4])]
    assert got[2:] == [([99, 3, 4], [5, 6, 7])]


@pytest.mark.parametrize(("window", "stride", "bos"), [(10, 5, 1), (10, 9, 1), (8, 8, None), (2, 1, 1), (3, 1, None)])
@pytest.mark.parametrize("scheme", ["sliding", "disjoint"])
def test_every_token_is_scored_once_within_the_window(window: int, stride: int, bos: int | None, scheme: str) -> None:
    plan = Plan(window=window, stride=stride, context=window - (bos is not None) - stride, bos=bos, threads=1)
    docs = [list(range(1000, 1000 + n)) for n in (0, 1, 9, 10, 11, 57)]
    got = run(windows(scheme, plan), docs, 4)
    targets = [t for _, ts in got for t in ts]
    assert targets == [t for d in docs for t in d]
    assert all(len(c) + len(ts) - 1 <= window for c, ts in got)  # what the model reads fits its window


def test_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="sliding or disjoint"):
        windows("strided", Plan(8, 4, 3, 1, 1))


def counts(docs: list[bytes]) -> tuple[int, int, int]:
    """lm-eval's and Huang et al.'s counts, computed whole."""
    text = [d.decode("utf-8", "surrogateescape") for d in docs]
    return sum(map(len, docs)), sum(map(len, text)), sum(len(re.split(r"\s+", t)) for t in text)


DOCS = [
    "  two\tleading spaces, é and 日本 split anywhere \n\n",
    "",
    "one",
    " \u00a0 \u2003",  # Unicode whitespace only: 2 words by re.split
    "trailing space ",
]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64])
@pytest.mark.parametrize("sep", [b"\x1e", b"<|doc|>"])
def test_counts_match_lm_eval_whatever_the_chunks(size: int, sep: bytes) -> None:
    docs = [d.encode() for d in DOCS] + [ALICE.read_bytes()[:3000], b"bad \xff\xfe bytes"]
    stream = sep.join(docs)
    counter = TextCounter()
    for piece in texts((stream[i : i + size] for i in range(0, len(stream), size)), sep):
        if piece is None:
            counter.end()
        else:
            counter.feed(piece)
    assert counter.texts == len(docs)
    assert (counter.bytes, counter.characters, counter.words) == counts(docs)
    assert counts([b"a b"]) == (3, 3, 2) and counts([b""]) == (0, 0, 1)  # re.split's rule, as lm-eval counts


def test_without_a_separator_the_stream_is_one_text() -> None:
    pieces = list(texts([b"a\x1eb", b"", b" c"], None))
    assert pieces == [b"a\x1eb", b" c", None]
    assert list(texts([], b"\x1e")) == [None]  # an empty stream is one empty text


def test_per_unit_figures_are_lm_evals_definitions() -> None:
    nats = 1000.0
    u = per_unit(nats, n_bytes=400, characters=250, words=80)
    assert u.bits_per_byte == nats / (400 * math.log(2))
    assert u.bits_per_character == nats / (250 * math.log(2))
    assert u.byte_perplexity == math.exp(nats / 400)
    assert u.word_perplexity == math.exp(nats / 80)
    assert per_unit(1e6, 1, 1, 1).word_perplexity == math.inf


def test_a_perplexity_past_float64_is_null_in_json() -> None:
    # 1,000 tokens of 8 bits in one 1-word text: 5,545 nats a word, exp() of which overflows.
    nats = 1000 * 8 * math.log(2)
    u = per_unit(nats, n_bytes=1000, characters=1000, words=1)
    m = MeasuredLoss(
        model="m.gguf", windows="disjoint", texts=1, tokens=1000, bytes=1000, characters=1000, words=1, nats=nats,
        bits=8000.0, bits_per_token=8.0, vocab=256, window=64, stride=64, threads=1, escaped_bytes=0,
        sample_seed=None, documents=None, parts_bits_per_byte=(8.0,), seconds=1.0, tokens_per_second=1000.0,
        library_version="test", **dataclasses.asdict(u))
    d = json.loads(json.dumps(_measured(m), allow_nan=False))
    assert d["word_perplexity"] is None
    assert d["byte_perplexity"] == 256.0 and d["bits_per_byte"] == 8.0
