"""The strongest context-mixing backend `cmx2`: its memory bound, a pinned payload, CJK text, no numba.

The round trips on real text and the edge cases every backend gets are in tests/test_backends.py.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED
from kbound.backends import cmx2, cmx2_model
from kbound.backends.base import read_varint
from kbound.backends.cmx import Cmx
from kbound.backends.registry import effort_specs, parse_spec
from kbound.errors import BackendError

CORPORA = Path(__file__).resolve().parent.parent / "corpora"
ALICE = (CORPORA / "alice29.txt").read_bytes()
# Alice's words with every third one a wiki link ([[word]]) and each line a {{template}}: enough
# markup from real text for the markup contexts to count (8 brackets), in a few hundred bytes.
WIKI = b"\n".join(b"{{" + line.split(b" ")[0] + b"}} " + b" ".join(b"[[" + w + b"]]" if i % 3 == 0 else w
                                                                  for i, w in enumerate(line.split(b" ")))
                  for line in ALICE[:6000].split(b"\n"))


def test_tables_stay_within_mem() -> None:
    for mem in (128 << 20, 256 << 20, 2 << 30):
        buckets, match_entries = cmx2_model.table_bytes(mem)
        assert buckets > 0 and 64 * buckets + 4 * match_entries <= mem
        if mem <= 256 << 20:
            t, mt = cmx2_model.new_tables(mem)
            assert t.nbytes + mt.nbytes <= mem


def test_tables_follow_the_input_size_within_mem() -> None:
    assert cmx2.tables_mem(2 << 30, 0) == 256 << 20
    assert cmx2.tables_mem(2 << 30, 152089) == 256 << 20  # alice29: 156 MB wanted, the floor is 256 MiB
    assert cmx2.tables_mem(2 << 30, 1115394) == 2 << 30  # tinyshakespeare.txt: 1.14 GB -> 2 GiB
    assert cmx2.tables_mem(128 << 20, 10**6) == 128 << 20  # mem is the cap, even under the floor
    payload = parse_spec("cmx2:mem=128m").compress(ALICE[:5000])
    length, pos = read_varint(payload)
    assert (length, payload[pos]) == (5000, cmx2.FORMAT)
    assert read_varint(payload, pos + 1)[0] == 128 << 10
    assert parse_spec("cmx2").decompress(payload) == ALICE[:5000]  # the payload's mem, not the spec's


def test_mem_has_room_for_the_fixed_tables() -> None:
    with pytest.raises(BackendError, match="outside"):
        parse_spec("cmx2:mem=64m")  # the mixers' weights, APMs and match tables take 64-72 MiB


def test_pinned_payload_on_alice() -> None:
    # A change here means the model changed, and cmx2.FORMAT must change with it. With the
    # 256 MiB it gets by default, alice29 takes 34,716 bytes (format 2: 34,712; format 1: 35,499), against
    # cmx's 35,790 and paq8px -8's 33,070 (bench/CM_RESULTS.md).
    payload = parse_spec("cmx2").compress(ALICE)
    assert len(payload) == 34716
    assert hashlib.sha256(payload).hexdigest() == "ec1bfb3bb9696be283023131eb17ae21dcea8578952db9135be7b28491558b82"
    assert isinstance(parse_spec("cmx2"), Cmx)  # cmx's backend with another model, format and table sizes


def test_max_effort_has_the_strongest_tier() -> None:
    assert {"cm", "cmx", "cmx2"} <= set(effort_specs("max"))


def _sizer() -> Callable[[bytes, int], int]:
    """The payload bytes of a text under some of cmx2's components (`opts`), on fresh 128 MiB tables each time."""
    tables = cmx2_model.new_tables(128 << 20)

    def size(data: bytes, opts: int) -> int:
        for table in tables:
            table[:] = 0
        _, n = cmx2_model.code(np.frombuffer(data, np.uint8).copy(), *tables, False, np.zeros(0, np.uint8), opts)
        return n

    return size


def test_cjk_characters_are_words() -> None:
    # Chinese has no spaces: taking each CJK character as a word must pay on Chinese text and
    # change nothing on ASCII text (no character of three bytes there).
    title = "第一回　甄士隐梦幻识通灵　贾雨村风尘怀闺秀。"
    text = (title * 3 + "列位看官：你道此书从何而来？说起根由，虽近荒唐，细按则深有趣味。" * 2).encode()
    text = text * 4 + ALICE[:3000]
    size = _sizer()
    without = cmx2_model.ALL & ~cmx2_model.CJK_WORDS
    assert size(text, cmx2_model.ALL) < size(text, without)
    assert size(ALICE[:3000], cmx2_model.ALL) == size(ALICE[:3000], without)


def test_markup_contexts_pay_on_markup_only() -> None:
    # The bracket and segment contexts and the weights the brackets choose must pay on wiki
    # markup, and change nothing on text with fewer than 8 '[', '{' or '<'.
    size = _sizer()
    wiki = SHARED / "enwik8-head.txt"
    if not wiki.is_file():
        pytest.skip(f"{wiki} is absent")
    text = wiki.read_bytes()[:30000]
    markup = cmx2_model.SEGMENT | cmx2_model.NEST | cmx2_model.LINE_ORDER2 | cmx2_model.NEST_MIXERS
    assert size(text, cmx2_model.ALL) < size(text, cmx2_model.ALL & ~markup)
    assert size(ALICE[:6000], cmx2_model.ALL) == size(ALICE[:6000], cmx2_model.ALL & ~markup)


_NO_NUMBA = r"""
import sys; sys.modules['numba'] = None; sys.modules['llvmlite'] = None
import hashlib
from kbound.backends.registry import effort_specs, parse_spec
data = open(sys.argv[1], 'rb').read()
backend = parse_spec('cmx2:mem=128m')
payload = backend.compress(data)
assert backend.decompress(payload) == data
assert 'numba' not in {m.split('.')[0] for m, v in sys.modules.items() if v is not None}
print(hashlib.sha256(payload).hexdigest())
"""


def test_same_bytes_without_numba(tmp_path: Path) -> None:
    data = ALICE[:1000] + "中文，日本語。".encode() + WIKI[:400]  # plain Python codes a few kB a second
    text = tmp_path / "input.txt"
    text.write_bytes(data)
    out = subprocess.run([sys.executable, "-c", _NO_NUMBA, str(text)], capture_output=True, text=True,
                         timeout=600, check=True)
    assert out.stdout.strip() == hashlib.sha256(parse_spec("cmx2:mem=128m").compress(data)).hexdigest()
