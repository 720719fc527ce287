"""The source layer on real files: plain, compressed, directories, stdin, FIFOs, JSON lines, Parquet, bad input."""

from __future__ import annotations

import bz2
import ctypes
import gzip
import hashlib
import io
import itertools
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
import zstandard

from cli_helpers import run
from corpus_helpers import corpus_of, read_all
from kbound.errors import CorpusError, InputWarning
from kbound.sources import DEFAULT_SEPARATOR, Piece, Sampling, Selection, open_corpus, read_selection
from kbound.sources.readers import compression_of
from kbound.sources.stream import scan

COMPRESSORS = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": lambda d: zstandard.ZstdCompressor(level=3).compress(d),
}


def test_one_file(alice: Path, alice_bytes: bytes) -> None:
    data, stats = read_all(alice)
    assert data == alice_bytes
    assert (stats.bytes, stats.chars, stats.documents) == (152_089, 152_089, 1)
    assert stats.sha256 == hashlib.sha256(alice_bytes).hexdigest()


def test_files_are_joined_with_the_separator(alice: Path, tmp_path: Path) -> None:
    b = tmp_path / "b.txt"
    b.write_bytes(b"second")
    data, stats = read_all(alice, b)
    assert data == alice.read_bytes() + DEFAULT_SEPARATOR + b"second"
    assert stats.documents == 2
    assert read_all(alice, b, separator=b"\n\n")[0].endswith(b"\n\nsecond")


@pytest.mark.parametrize("ext", list(COMPRESSORS))
def test_compressed_inputs_are_read_decompressed(ext: str, alice_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / f"alice.txt.{ext}"
    path.write_bytes(COMPRESSORS[ext](alice_bytes))
    corpus = corpus_of(path)
    assert corpus.read()[0] == alice_bytes
    assert compression_of(path.read_bytes()[:6]) is not None
    assert corpus.decompressed == (f"{path} ({corpus.sources[0].compression})",)


@pytest.mark.parametrize("ext", list(COMPRESSORS))
def test_truncated_compressed_input_is_a_clear_error(ext: str, alice_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / f"alice.txt.{ext}"
    path.write_bytes(COMPRESSORS[ext](alice_bytes)[:-40])
    with pytest.raises(CorpusError, match=r"alice.txt\.\w+: (truncated|corrupt) \w+ data"):
        read_all(path)


def test_a_decompression_bomb_stops_at_max_bytes_while_streaming(tmp_path: Path) -> None:
    # 1 GiB of zeros in a 1 MB file: refused at the limit, holding a chunk at a time, never the whole.
    bomb = tmp_path / "bomb.txt.zst"
    bomb.write_bytes(zstandard.ZstdCompressor(level=19).compress(bytes(1 << 30)))
    corpus = corpus_of(bomb, max_bytes=10_000_000)
    with pytest.raises(CorpusError, match=r"larger than --max-bytes 10,000,000 bytes"):
        scan(corpus.selection(), corpus.max_bytes)


def test_a_zstd_bomb_is_refused_at_max_bytes_having_held_a_chunk(tmp_path: Path) -> None:
    # RLE blocks expand 32,768-fold: one 16 KiB read decoded in one call made 512 MiB before the limit
    # was looked at (a process reached 883 MB with --max-bytes 10MB). Decoded a chunk at a time, it holds ~1.
    bomb = tmp_path / "bomb.txt.zst"
    bomb.write_bytes(zstandard.ZstdCompressor(level=19).compress(bytes(1 << 30)))
    code = (
        "import resource, sys\n"
        "from kbound.errors import CorpusError\n"
        "from kbound.sources import open_corpus\n"
        "from kbound.sources.stream import scan\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "with open_corpus([sys.argv[1]], max_bytes=10_000_000) as c:\n"
        "    try:\n"
        "        scan(c.selection(), c.max_bytes)\n"
        "    except CorpusError as e:\n"
        "        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(bomb)], capture_output=True, text=True, check=True).stdout
    grown_kib, message = out.split(" ", 1)
    assert "larger than --max-bytes 10,000,000 bytes" in message
    assert int(grown_kib) < 48 << 10, f"the scan grew by {int(grown_kib) >> 10} MiB"


def test_zstd_frames_are_followed_to_their_end(tmp_path: Path) -> None:
    # Two frames (the second with a checksum), a skippable frame between them: read whole; cut anywhere
    # inside a frame, or followed by bytes that start no frame, refused.
    one = zstandard.ZstdCompressor(level=3).compress(b"alpha " * 50_000)
    two = zstandard.ZstdCompressor(level=3, write_checksum=True, write_content_size=True).compress(b"beta")
    skippable = (0x184D2A53).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc"
    path = tmp_path / "f.txt.zst"
    path.write_bytes(one + skippable + two)
    assert read_all(path)[0] == b"alpha " * 50_000 + b"beta"
    for damaged, word in ((one + skippable + two[:-2], "truncated"), (one[:-1], "truncated"),
                          (one + b"\x00\x01", "corrupt")):
        path.write_bytes(damaged)
        with pytest.raises(CorpusError, match=rf"f.txt.zst: {word} zstd data"):
            read_all(path)


def _long_line_text(shakespeare: Path, size: int) -> str:
    """Real text with escapes, accents, an emoji (a surrogate pair in JSON's \\u form) and backslashes."""
    text = shakespeare.read_text(encoding="utf-8").replace("the", "thé").replace("and", "and 😀 \\ \"")
    return (text * (size // len(text) + 1))[:size]


def test_a_very_long_json_line_is_read_in_pieces_with_the_same_bytes(tmp_path: Path, shakespeare: Path) -> None:
    text = _long_line_text(shakespeare, 9_000_000)
    path = tmp_path / "long.jsonl"
    with path.open("w", encoding="utf-8") as f:  # the long line between short ones, \u escapes and raw UTF-8
        f.write(json.dumps({"text": "before"}) + "\n" + json.dumps({"id": 1, "text": text}) + "\n")
        f.write(json.dumps({"text": text[:-3]}, ensure_ascii=False) + "\n" + json.dumps({"text": "after"}) + "\n")
    want = "\x1e".join(["before", text, text[:-3], "after"]).encode()
    data, stats = read_all(path, field="text")
    assert data == want and stats.documents == 4
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "x"}) + "\n" + json.dumps({"text": text})[:-1] + "\n")
    with pytest.raises(CorpusError, match=r"bad.jsonl:2: not a JSON line"):
        read_all(bad, field="text")


def test_a_very_long_json_line_is_held_about_once(tmp_path: Path, shakespeare: Path) -> None:
    # A 40 MB line was held about 3.6 times over (the line grown a chunk at a time, the parser's copy, its
    # str, the document, the join with its neighbours); read in pieces, about once.
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps({"text": _long_line_text(shakespeare, 40_000_000)}) + "\n", encoding="utf-8")
    code = (
        "import resource, sys\n"
        "from kbound.sources import open_corpus\n"
        "from kbound.sources.stream import scan\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "with open_corpus([sys.argv[1]], field='text') as c:\n"
        "    stats = scan(c.selection())\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, stats.sha256)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True).stdout
    grown, sha256 = out.split()
    grown_kib = int(grown)
    assert sha256 == hashlib.sha256(_long_line_text(shakespeare, 40_000_000).encode()).hexdigest()
    assert grown_kib << 10 < 1.6 * path.stat().st_size, f"grew by {grown_kib >> 10} MiB"


def test_max_bytes_counts_all_inputs_together_and_plain_files_are_refused_before_reading(alice: Path) -> None:
    corpus_of(alice, max_bytes=152_089)
    with pytest.raises(CorpusError, match=r"the input is 304,178 bytes, more than --max-bytes 200,000"):
        corpus_of(alice, alice, max_bytes=200_000)
    with pytest.raises(CorpusError, match="at least 1 byte"):
        corpus_of(alice, max_bytes=0)


def test_no_default_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.txt.zst"
    big.write_bytes(zstandard.ZstdCompressor(level=3).compress(bytes(5 << 30 >> 2)))  # 1.25 GiB of text
    assert scan(corpus_of(big).selection()).bytes == 5 << 30 >> 2


def test_directories_are_walked_sorted_and_filtered(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_bytes(b"A")
    (tmp_path / "b.txt").write_bytes(b"B")
    (tmp_path / ".hidden.txt").write_bytes(b"H")
    (tmp_path / "c.csv").write_bytes(b"C")
    assert read_all(tmp_path, glob="*.txt", separator=b"|")[0] == b"B|A"
    with pytest.raises(CorpusError, match="has no files matching"):
        corpus_of(tmp_path, glob="*.md")


def test_stdin_is_read_once_into_an_anonymous_spool(alice_bytes: bytes) -> None:
    with open_corpus(["-"], stdin=io.BytesIO(gzip.compress(alice_bytes))) as corpus:
        assert corpus.read()[0] == alice_bytes
        assert corpus.read()[0] == alice_bytes  # workers may open it again and again
        assert corpus.spooled == ("<stdin>",)
    with open_corpus(["-"], stdin=io.BytesIO(alice_bytes)) as corpus:
        source = corpus.sources[0]
        assert source.compression == "zstd"  # plain text is spooled at zstd level 1
        assert corpus.read()[0] == alice_bytes
    with pytest.raises(CorpusError, match="given twice"):
        corpus_of("-", "-", stdin=io.BytesIO(b"x"))


def test_a_fifo_is_read_once(alice_bytes: bytes, tmp_path: Path) -> None:
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as f:
            f.write(alice_bytes)

    writer = threading.Thread(target=feed)
    writer.start()
    with open_corpus([str(fifo)]) as corpus:
        writer.join(timeout=10)
        assert corpus.read()[0] == alice_bytes
        assert corpus.read()[0] == alice_bytes
        assert corpus.spooled == (str(fifo),)


def _jsonl(path: Path, docs: list[str], extra: bool = True) -> None:
    lines = [json.dumps({"id": i, "text": t, **({"meta": {"n": i}} if extra else {})}) for i, t in enumerate(docs)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_jsonl_field_takes_one_document_per_line(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    _jsonl(path, ["first doc", "zweites Dokument — ü"])
    data, stats = read_all(path, field="text", separator=b"\n")
    assert data == "first doc\nzweites Dokument — ü".encode()
    assert stats.documents == 2


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad.jsonl:2: not a JSON line"):
        read_all(path, field="text")
    path.write_text('{"text": "ok"}\n{"body": "no text"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad.jsonl:2: no string field 'text'"):
        read_all(path, field="text")


def _parquet(path: Path, docs: list[str | None], row_group_size: int = 1000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": list(range(len(docs))), "text": pa.array(docs, pa.string())})
    pq.write_table(table, path, row_group_size=row_group_size)


def _paragraphs(alice: Path) -> list[str]:
    return [p for p in alice.read_text(encoding="utf-8").split("\n\n") if p]


def test_parquet_and_jsonl_give_the_same_corpus_bytes(alice: Path, tmp_path: Path) -> None:
    docs = _paragraphs(alice)
    _jsonl(tmp_path / "a.jsonl", docs)
    _parquet(tmp_path / "a.parquet", list(docs), row_group_size=97)
    lines = (tmp_path / "a.jsonl").read_bytes()
    (tmp_path / "a.jsonl.zst").write_bytes(zstandard.ZstdCompressor(level=3).compress(lines))
    want = "\x1e".join(docs).encode()
    for name in ("a.jsonl", "a.parquet", "a.jsonl.zst"):
        data, stats = read_all(tmp_path / name, field="text")
        assert data == want, name
        assert stats.documents == len(docs)


def test_a_large_parquet_row_group_is_read_in_batches(alice: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from kbound.sources import documents

    docs = _paragraphs(alice)
    # One row group, and a struct column before the text: the text's leaf is not its top-level index.
    table = pa.table({"meta": [{"source": "a", "n": i} for i in range(len(docs))], "text": list(docs)})
    pq.write_table(table, tmp_path / "one-group.parquet", row_group_size=len(docs))
    monkeypatch.setattr(documents, "PARQUET_BATCH", 20_000)
    sizes: list[int] = []
    rows = documents.Pieces._rows

    def counted(self: object, arr: object, *args: object) -> object:
        sizes.append(len(arr))  # type: ignore[arg-type]
        return rows(self, arr, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(documents.Pieces, "_rows", counted)
    data, stats = read_all(tmp_path / "one-group.parquet", field="text")
    assert data == "\x1e".join(docs).encode() and stats.documents == len(docs)
    assert len(sizes) > 5 and max(sizes) < len(docs) / 5  # batches of about 20 kB of text, not the group


def test_parquet_errors_name_the_column(alice: Path, tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    _parquet(path, ["one", None, "three"])
    with pytest.raises(CorpusError, match=r"a.parquet: row 1: null in column 'text'"):
        read_all(path, field="text")
    with pytest.raises(CorpusError, match=r"a.parquet: no column 'body' \(columns: id, text\)"):
        read_all(path, field="body")
    with pytest.raises(CorpusError, match=r"a.parquet: column 'id' holds int64, not strings"):
        read_all(path, field="id")
    with pytest.raises(CorpusError, match=r"a.parquet: is a Parquet file: name its text column with --field"):
        corpus_of(path)


def test_pieces_of_a_file_concatenate_to_the_file(alice: Path, tmp_path: Path) -> None:
    docs = _paragraphs(alice)
    _jsonl(tmp_path / "a.jsonl", docs)
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress((tmp_path / "a.jsonl").read_bytes()))
    for name, field in (("a.jsonl", "text"), ("a.jsonl.gz", "text"), (str(alice), None)):
        corpus = corpus_of(tmp_path / name, field=field)
        whole = corpus.read()[0]
        source = corpus.sources[0]
        size = (tmp_path / "a.jsonl").stat().st_size if field else alice.stat().st_size
        cuts = sorted({0, 1, 1000, 1001, 77_777, size // 3, size})
        selections = [Selection((Piece(source, a, b if b < size else None),), end_separator=bool(field) and b < size)
                      for a, b in itertools.pairwise(cuts)]
        parts = [read_selection(s)[0] for s in selections]
        assert b"".join(parts) == whole, name


def test_document_samples_are_nested_and_seeded(alice: Path, tmp_path: Path) -> None:
    docs = _paragraphs(alice)
    _jsonl(tmp_path / "a.jsonl", docs)
    source = corpus_of(tmp_path / "a.jsonl", field="text").sources[0]
    kept = []
    for fraction in (0.1, 0.4, 0.8):
        data, stats = read_selection(Selection((Piece(source),), sample=Sampling(7, int(fraction * 2**64))))
        kept.append(set(data.split(b"\x1e")))
        assert abs(stats.documents / len(docs) - fraction) < 0.1
    assert kept[0] <= kept[1] <= kept[2]
    again, _ = read_selection(Selection((Piece(source),), sample=Sampling(7, int(0.4 * 2**64))))
    other, _ = read_selection(Selection((Piece(source),), sample=Sampling(8, int(0.4 * 2**64))))
    assert set(again.split(b"\x1e")) == kept[1] and set(other.split(b"\x1e")) != kept[1]


def test_invalid_utf8_has_no_char_count_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("café".encode("latin-1") + b" and more")
    _, stats = read_all(path)
    assert stats.chars is None
    assert stats.chars_reason == "not valid UTF-8 (byte 3: invalid continuation byte)"


def test_multibyte_utf8_counts_characters_across_chunks(tmp_path: Path) -> None:
    path = tmp_path / "utf8.txt"
    text = "größer als €" * 200_000  # chunks end inside characters
    path.write_text(text, encoding="utf-8")
    _, stats = read_all(path)
    assert (stats.bytes, stats.chars) == (len(text.encode()), len(text))


def test_empty_file_is_a_valid_corpus(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    _, stats = read_all(path)
    assert (stats.bytes, stats.chars, stats.documents) == (0, 0, 1)


def test_missing_unreadable_and_odd_inputs(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"nope.txt: no such file or directory"):
        corpus_of(tmp_path / "nope.txt")
    with pytest.raises(CorpusError, match="no input given"):
        corpus_of()
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "gone.txt")
    with pytest.raises(CorpusError, match=r"dangling.txt: broken symbolic link"):
        corpus_of(dangling)


_UNREADABLE = """
import sys
from kbound.errors import CorpusError
from kbound.sources import open_corpus
for path in sys.argv[1:]:
    try:
        with open_corpus([path]) as corpus:
            print("read", path)
    except CorpusError as e:
        print(e)
"""


def _without_root_file_access() -> None:
    """For Popen(preexec_fn=...): root reads any file; drop the capabilities that let it (PR_CAPBSET_DROP)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        libc.prctl(24, cap, 0, 0, 0)


def test_unreadable_files_and_directories_are_errors_not_skips() -> None:
    root = Path(tempfile.mkdtemp(prefix="kbound-perm-"))
    try:
        root.chmod(0o755)
        locked = root / "locked.txt"
        locked.write_bytes(b"secret")
        locked.chmod(0)
        tree = root / "tree"
        (tree / "sub").mkdir(parents=True)
        (tree / "ok.txt").write_bytes(b"ok")
        (tree / "sub" / "x.txt").write_bytes(b"x")
        (tree / "sub").chmod(0)
        tree.chmod(0o755)
        out = subprocess.run(
            [sys.executable, "-c", _UNREADABLE, str(locked), str(tree)], capture_output=True, text=True, timeout=60,
            preexec_fn=_without_root_file_access, check=True,
        ).stdout.splitlines()
        assert out == [f"{locked}: cannot read (Permission denied)", f"{tree}/sub: cannot read (Permission denied)"]
    finally:
        (root / "tree" / "sub").chmod(0o755)
        shutil.rmtree(root)


def test_file_urls_are_read_through_fsspec(alice: Path, alice_bytes: bytes) -> None:
    pytest.importorskip("fsspec")
    assert read_all(f"file://{alice}")[0] == alice_bytes


def test_reading_never_modifies_inputs(alice: Path, tmp_path: Path) -> None:
    path = tmp_path / "a.txt.gz"
    path.write_bytes(gzip.compress(alice.read_bytes()))
    before = (path.read_bytes(), path.stat().st_mtime_ns, sorted(tmp_path.iterdir()))
    read_all(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns, sorted(tmp_path.iterdir())) == before


def test_a_symlinked_directory_is_read_as_if_it_were_there(alice: Path, alice_bytes: bytes, tmp_path: Path) -> None:
    (tmp_path / "canterbury").mkdir()
    shutil.copy(alice, tmp_path / "canterbury" / "alice29.txt")
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "a.txt").write_bytes(b"A")
    (ds / "cant").symlink_to("../canterbury")
    data, stats = read_all(ds, separator=b"|")
    assert (data, stats.bytes) == (b"A|" + alice_bytes, 2 + 152_089)  # not 1 byte: the link's files are data


def test_a_symlink_loop_is_followed_once_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "ds" / "sub").mkdir(parents=True)
    (tmp_path / "ds" / "sub" / "x.txt").write_bytes(b"X")
    (tmp_path / "ds" / "sub" / "up").symlink_to("..")  # back to ds: a loop
    (tmp_path / "ds" / "again").symlink_to("sub")  # a second way to sub: read once
    with pytest.warns(InputWarning) as caught:
        data = read_all(tmp_path / "ds", separator=b"|")[0]
    assert data == b"X"
    assert sorted(str(w.message) for w in caught) == [
        f"{tmp_path}/ds/again: the same directory as {tmp_path}/ds/sub; read once, there",
        f"{tmp_path}/ds/sub/up: symbolic link loop (back to {tmp_path}/ds); not followed",
    ]


def test_special_files_in_a_directory_are_skipped_with_a_warning_not_waited_for(tmp_path: Path) -> None:
    import socket

    (tmp_path / "a.txt").write_bytes(b"A")
    os.mkfifo(tmp_path / "b.fifo")  # nobody writes it: opening it would wait forever
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "c.sock"))
    (tmp_path / "d.null").symlink_to("/dev/null")
    try:
        with pytest.warns(InputWarning) as caught:
            data = read_all(tmp_path)[0]
    finally:
        sock.close()
    assert data == b"A"
    assert [str(w.message) for w in caught] == [
        f"{tmp_path}/b.fifo: a FIFO, not a regular file; skipped",
        f"{tmp_path}/c.sock: a socket, not a regular file; skipped",
        f"{tmp_path}/d.null: a device, not a regular file; skipped",
    ]


def test_the_cli_names_each_skipped_file_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"hello")
    os.mkfifo(tmp_path / "b.fifo")
    os.mkfifo(tmp_path / "c.fifo")
    code, _, err = run(str(tmp_path), "-b", "raw", "-q", "--no-cache")
    assert code == 0, err
    assert err.splitlines() == [
        f"kbound: warning: {tmp_path}/b.fifo: a FIFO, not a regular file; skipped",
        f"kbound: warning: {tmp_path}/c.fifo: a FIFO, not a regular file; skipped",
    ]


def test_a_json_line_nested_100000_deep_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text('{"text": "ok"}\n' + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"^.*deep.jsonl:2: not a JSON line \(nested too deeply\)$"):
        read_all(path, field="text")
    code, out, err = run(str(path), "--field", "text", "-b", "zlib:1", "--no-cache")
    assert (code, out, err) == (1, "", f"kbound: error: {path}:2: not a JSON line (nested too deeply)\n")


def _damaged_parquet(alice: Path, tmp_path: Path, damage: str) -> Path:
    import struct

    path = tmp_path / "a.parquet"
    _parquet(path, _paragraphs(alice), row_group_size=97)
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        del data[len(data) // 2:]
    elif damage == "bad magic":
        data[-4:] = b"XXXX"
    else:  # the footer's metadata overwritten: its thrift cannot be decoded
        footer = struct.unpack("<I", data[-8:-4])[0]
        data[-8 - footer:-8] = b"\xab" * footer
    path.write_bytes(bytes(data))
    return path


_NO_MAGIC = "Parquet magic bytes not found in footer. Either the file is corrupted or this is not a parquet file."


@pytest.mark.parametrize(("damage", "why"), [
    ("truncated", _NO_MAGIC),
    ("bad magic", _NO_MAGIC),
    ("corrupt footer", "Couldn't deserialize thrift: Variable-length int over 10 bytes."),
])
def test_a_damaged_parquet_file_is_one_line(damage: str, why: str, alice: Path, tmp_path: Path) -> None:
    path = _damaged_parquet(alice, tmp_path, damage)
    for command in (["estimate"], ["curve"]):
        code, out, err = run(*command, str(path), "--field", "text", "-b", "zlib:1", "--no-cache")
        assert (code, out, err) == (1, "", f"kbound: error: {path}: not a readable Parquet file ({why})\n")


def test_json_lines_without_field_are_read_as_text_with_one_hint(tmp_path: Path) -> None:
    for name in ("a.jsonl", "b.ndjson.zst", "c.txt"):
        (tmp_path / name).write_bytes(b'{"text": "hello"}\n')
    code, _, err = run(str(tmp_path), "-b", "zlib:1", "-q", "--no-cache")
    assert code == 0
    assert err == (f"kbound: warning: {tmp_path}/a.jsonl and 1 more: read as plain text, JSON syntax and all; "
                   "give --field NAME to read each line's NAME string\n")
    code, _, err = run(str(tmp_path / "a.jsonl"), "--field", "text", "-b", "zlib:1", "-q", "--no-cache")
    assert (code, err) == (0, "")
