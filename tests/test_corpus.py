"""The corpus loader on real files: plain, compressed, directories, stdin, JSON lines and bad input."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
from pathlib import Path

import pytest
import zstandard

from kbound.errors import CorpusError
from kbound.sources.corpus import DEFAULT_SEPARATOR, compression_of, load_corpus

COMPRESSORS = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": lambda d: zstandard.ZstdCompressor(level=3).compress(d),
}


def test_one_file(alice: Path, alice_bytes: bytes) -> None:
    c = load_corpus([str(alice)])
    assert c.data == alice_bytes
    assert c.n_bytes == 152_089
    assert c.chars == 152_089
    assert c.documents == 1
    assert c.sha256 == "7467306ee0feed4971260f3c87421154a05be571d944e9cb021a5713700c38f0"


def test_files_are_joined_with_the_separator(alice: Path, tmp_path: Path) -> None:
    b = tmp_path / "b.txt"
    b.write_bytes(b"second")
    c = load_corpus([str(alice), str(b)])
    assert c.data == alice.read_bytes() + DEFAULT_SEPARATOR + b"second"
    assert c.documents == 2
    assert load_corpus([str(alice), str(b)], separator=b"\n\n").data.endswith(b"\n\nsecond")


@pytest.mark.parametrize("ext", list(COMPRESSORS))
def test_compressed_inputs_are_read_decompressed(ext: str, alice_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / f"alice.{ext}"
    path.write_bytes(COMPRESSORS[ext](alice_bytes))
    c = load_corpus([str(path)])
    assert c.data == alice_bytes
    assert c.decompressed == (f"{path} ({compression_of(path.read_bytes()[:6])})",)


@pytest.mark.parametrize("ext", list(COMPRESSORS))
def test_truncated_compressed_input_is_a_clear_error(ext: str, alice_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / f"alice.{ext}"
    whole = COMPRESSORS[ext](alice_bytes)
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorpusError, match=f"{path}: (truncated|corrupt)"):
        load_corpus([str(path)])


def test_a_decompression_bomb_stops_at_max_bytes(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.gz"
    bomb.write_bytes(gzip.compress(b"\0" * 50_000_000))  # 48 kB on disk
    with pytest.raises(CorpusError, match=r"exceeds --max-bytes \(1,000,000 bytes\)"):
        load_corpus([str(bomb)], max_bytes=1_000_000)


def test_max_bytes_counts_all_inputs_together(alice: Path) -> None:
    load_corpus([str(alice)], max_bytes=152_089)
    with pytest.raises(CorpusError, match="exceeds --max-bytes"):
        load_corpus([str(alice), str(alice)], max_bytes=200_000)


def test_directories_are_walked_sorted_and_filtered(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "b.txt").write_text("B")
    (tmp_path / "sub" / "a.txt").write_text("A")
    (tmp_path / "notes.md").write_text("M")
    (tmp_path / ".hidden" / "h.txt").write_text("H")
    c = load_corpus([str(tmp_path)], glob="*.txt", separator=b"|")
    assert c.data == b"B|A"
    assert c.sources == (str(tmp_path / "b.txt"), str(tmp_path / "sub" / "a.txt"))
    with pytest.raises(CorpusError, match=r"no files matching '\*\.csv'"):
        load_corpus([str(tmp_path)], glob="*.csv")


def test_stdin_is_read_once(alice_bytes: bytes) -> None:
    c = load_corpus(["-"], stdin=io.BytesIO(gzip.compress(alice_bytes)))
    assert c.data == alice_bytes
    assert c.sources == ("-",)
    with pytest.raises(CorpusError, match="only once"):
        load_corpus(["-", "-"], stdin=io.BytesIO(b"x"))


def test_jsonl_field_takes_one_document_per_line(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    rows = [{"text": "first doc", "id": 1}, {"text": "zweites Dokument — ü", "id": 2}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    c = load_corpus([str(path)], field="text", separator=b"\n")
    assert c.data == "first doc\nzweites Dokument — ü".encode()
    assert c.documents == 2
    assert c.chars == len("first doc\nzweites Dokument — ü")


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text('{"text": "ok"}\n{"body": "no text"}\n')
    with pytest.raises(CorpusError, match=r"docs.jsonl:2: no string field 'text'"):
        load_corpus([str(path)], field="text")
    path.write_text('{"text": "ok"}\nnot json\n')
    with pytest.raises(CorpusError, match=r"docs.jsonl:2: not a JSON line"):
        load_corpus([str(path)], field="text")


def test_invalid_utf8_has_no_char_count_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "bin.dat"
    path.write_bytes(b"abc\xff\xfedef")
    c = load_corpus([str(path)])
    assert c.chars is None
    assert c.chars_reason == "not valid UTF-8 (byte 3: invalid start byte)"
    assert c.sha256 == hashlib.sha256(b"abc\xff\xfedef").hexdigest()


def test_multibyte_utf8_counts_characters(tmp_path: Path) -> None:
    path = tmp_path / "u.txt"
    path.write_text("naïve café ☕", encoding="utf-8")
    c = load_corpus([str(path)])
    assert (c.n_bytes, c.chars) == (16, 12)


def test_empty_file_is_a_valid_corpus(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    c = load_corpus([str(path)])
    assert (c.n_bytes, c.chars, c.documents) == (0, 0, 1)


def test_missing_and_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"nope.txt: no such file or directory"):
        load_corpus([str(tmp_path / "nope.txt")])
    with pytest.raises(CorpusError, match="no input given"):
        load_corpus([])
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "gone.txt")
    with pytest.raises(CorpusError, match=r"dangling.txt: cannot read \(No such file or directory\)"):
        load_corpus([str(dangling)])


def test_loading_never_modifies_inputs(alice: Path, tmp_path: Path) -> None:
    path = tmp_path / "a.txt.gz"
    path.write_bytes(gzip.compress(alice.read_bytes()))
    before = (path.read_bytes(), path.stat().st_mtime_ns, sorted(tmp_path.iterdir()))
    load_corpus([str(path)])
    assert (path.read_bytes(), path.stat().st_mtime_ns, sorted(tmp_path.iterdir())) == before
