"""Sources named per document by a field (`--source-field`): the counts, the repeats, own bounds and what each adds."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

import kbound
from cli_helpers import run
from kbound.errors import CorpusError

SEP = b"\x1e"


def _documents(text: bytes, n: int, seed: int) -> list[bytes]:
    """n documents of real text (runs of words), 60-1,500 words each."""
    rng = random.Random(seed)
    words = text.split()
    return [b" ".join(words[(k := rng.randrange(len(words) - 1500)) : k + rng.randint(60, 1500)]) for _ in range(n)]


def _mixed(root: Path, text: bytes, seed: int = 3) -> tuple[Path, list[tuple[str | None, bytes]]]:
    """Three JSON-lines files whose documents come from three sources, interleaved: `books` originals,
    `web` documents that repeat books and earlier web documents, a few `code`-like ones, and some lines
    without the field. Returns the directory and the documents in corpus order with their sources."""
    rng = random.Random(seed)
    books, web = _documents(text, 60, seed), _documents(text, 60, seed + 1)
    order: list[tuple[str | None, bytes]] = []
    seen_books: list[bytes] = []
    seen_web: list[bytes] = []
    data = root / "mixed"
    data.mkdir()
    for part in range(3):
        with (data / f"part-{part}.jsonl").open("w", encoding="utf-8") as f:
            for i in range(50):
                r = rng.random()
                if r < 0.35 and books:
                    src, doc = "books", books.pop()
                    seen_books.append(doc)
                elif r < 0.8:
                    src = "web"
                    pick = rng.random()
                    if pick < 0.25 and seen_books:
                        doc = rng.choice(seen_books)  # a book copied onto the web
                    elif pick < 0.45 and seen_web:
                        doc = rng.choice(seen_web)
                    else:
                        doc = web.pop() if web else rng.choice(seen_web)
                    seen_web.append(doc)
                elif r < 0.95:
                    src, doc = "code", f"def f{part}_{i}(x):\n    return x * {i}\n".encode() * 4
                else:
                    src, doc = None, f"untagged {part} {i} ".encode() * 20
                record: dict[str, object] = {"text": doc.decode()}
                if src is not None:
                    record["meta"] = {"source": src, "lang": "en"}
                f.write(json.dumps(record) + "\n")
                order.append((src, doc))
    return data, order


def _expected(order: list[tuple[str | None, bytes]]) -> dict[str, dict[str, int]]:
    """Each source's documents, bytes (with the separator after each document but the last) and repeated
    documents within it and against earlier sources, counted here from the documents themselves."""
    out: dict[str, dict[str, int]] = {}
    first: dict[bytes, str] = {}
    for k, (src, doc) in enumerate(order):
        name = src if src is not None else "(no meta.source)"
        row = out.setdefault(name, {"documents": 0, "bytes": 0, "within": 0, "against": 0})
        row["documents"] += 1
        row["bytes"] += len(doc) + (len(SEP) if k < len(order) - 1 else 0)
        h = hashlib.blake2b(doc, digest_size=16).digest()
        if h in first:
            row["within" if first[h] == name else "against"] += 1
        else:
            first[h] = name
    return out


@pytest.fixture()
def mixed(tmp_path: Path, shakespeare: Path) -> tuple[Path, list[tuple[str | None, bytes]]]:
    return _mixed(tmp_path, shakespeare.read_bytes())


def test_each_source_is_counted_as_the_documents_say(mixed: tuple[Path, list]) -> None:
    data, order = mixed
    report = kbound.estimate([str(data)], ["zstd:3"], field="text", source_field="meta.source", use_cache=False)
    expected = _expected(order)
    d = report.duplicates
    assert d is not None
    # Sources in the order they first occur; the untagged lines form a source of their own.
    firsts = list(dict.fromkeys(src if src is not None else "(no meta.source)" for src, _ in order))
    assert [s.name for s in report.sources] == firsts
    for s, dup in zip(report.sources, d.sources, strict=True):
        e = expected[s.name]
        assert (s.documents, s.bytes) == (e["documents"], e["bytes"]), s.name
        assert (dup.repeated_documents_within, dup.repeated_documents_against_earlier) == (e["within"], e["against"])
    web = next(s for s in d.sources if s.name == "web")
    assert web.repeated_documents_against_earlier > 0 and web.repeated_documents_within > 0
    assert web.repeated_bytes_against_earlier > 0  # the books copied onto the web
    assert sum(s.bytes for s in report.sources) == report.corpus.bytes
    assert sum(s.repeated_bytes for s in d.sources) == d.repeated_bytes
    assert report.settings["source_field"] == "meta.source" and report.settings["by_source"]


def test_own_bounds_and_what_each_adds_are_the_codec_on_the_routed_documents(
    mixed: tuple[Path, list], tmp_path: Path
) -> None:
    data, order = mixed
    report = kbound.estimate([str(data)], ["zstd:3"], field="text", source_field="meta.source", use_cache=False)
    plain = next(r for r in report.results if r.spec == "zstd:3")
    # Every prefix through the last source is the whole corpus: what the sources add sums to the zstd:3 row.
    assert sum(s.adds_bytes or 0 for s in report.sources) == plain.payload_bytes
    # A source's own bound is what kbound gives for a file of its documents alone, decoder included.
    for s in report.sources:
        alone = tmp_path / f"alone-{abs(hash(s.name))}.jsonl"
        docs = [doc for src, doc in order if (src or "(no meta.source)") == s.name]
        alone.write_text("".join(json.dumps({"text": doc.decode()}) + "\n" for doc in docs))
        single = kbound.estimate([str(alone)], ["zstd:3"], field="text", use_cache=False, dedup="off")
        row = next(r for r in single.results if r.spec == "zstd:3")
        assert s.own_bytes == row.total_bytes and s.own_spec == "zstd:3", s.name
        assert s.adds_spec == "zstd:3"


def test_parquet_structs_give_the_same_sources_as_json_lines(mixed: tuple[Path, list], tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    data, _ = mixed
    pq_dir = tmp_path / "pq"
    pq_dir.mkdir()
    for f in sorted(data.iterdir()):
        rows = [json.loads(line) for line in f.read_text().splitlines()]
        table = pa.table({"text": [r["text"] for r in rows], "meta": [r.get("meta") for r in rows]})
        pq.write_table(table, pq_dir / (f.stem + ".parquet"), row_group_size=17)
    a = kbound.estimate([str(data)], ["zlib:6"], field="text", source_field="meta.source", use_cache=False)
    b = kbound.estimate([str(pq_dir)], ["zlib:6"], field="text", source_field="meta.source", use_cache=False)
    assert a.sources == b.sources
    assert a.duplicates == b.duplicates


def test_a_number_names_a_source_and_an_object_is_refused(tmp_path: Path, alice_bytes: bytes) -> None:
    words = alice_bytes.decode().split()
    f = tmp_path / "ids.jsonl"
    f.write_text("".join(json.dumps({"text": " ".join(words[i * 50 : i * 50 + 50]), "shard": i % 2}) + "\n"
                         for i in range(40)))
    report = kbound.estimate([str(f)], ["zlib:6"], field="text", source_field="shard", use_cache=False)
    assert [s.name for s in report.sources] == ["0", "1"]
    with pytest.raises(CorpusError, match=r"ids.jsonl:1: --source-field 'text' is inside|holds an object"):
        bad = tmp_path / "bad.jsonl"
        bad.write_text(json.dumps({"text": "a", "meta": {"source": {"x": 1}}}) + "\n")
        kbound.estimate([str(bad)], ["zlib:6"], field="text", source_field="meta.source", use_cache=False)


def test_the_cli_says_what_is_wrong_in_one_line(mixed: tuple[Path, list], tmp_path: Path) -> None:
    data, _ = mixed
    code, _, err = run(str(data), "--source-field", "meta.source")
    assert code == 2 and "give --field too" in err
    code, _, err = run(str(data), "--field", "text", "--source-field", "meta.source", "--dedup", "off")
    assert code == 2 and "--dedup auto or on" in err
    code, _, err = run(str(data), "--field", "text", "--source-field", "meta", "--no-cache")
    assert code == 1 and err.count("\n") == 1 and "holds an object, not a source name" in err
    code, _, err = run(str(data), "--field", "text", "--source-field", "text.x", "--no-cache")
    assert code == 1 and "inside the text field" in err
    many = tmp_path / "many.jsonl"
    many.write_text("".join(json.dumps({"text": f"document {i} " * 10, "id": i}) + "\n" for i in range(1100)))
    code, _, err = run(str(many), "--field", "text", "--source-field", "id", "-b", "zlib:6", "--no-cache")
    assert code == 1 and "more than 1,000 distinct values" in err and "Traceback" not in err


def test_the_cli_prints_the_sources_in_json_and_csv(mixed: tuple[Path, list]) -> None:
    data, order = mixed
    code, out, err = run(str(data), "--field", "text", "--source-field", "meta.source", "-b", "zlib:6",
                         "--no-cache", "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    expected = _expected(order)
    assert {s["source"]: s["documents"] for s in doc["sources"]} == {k: v["documents"] for k, v in expected.items()}
    assert all(s["own_spec"] == "zstd:3" and s["own_bytes"] > 0 for s in doc["sources"])
    code, out, err = run(str(data), "--field", "text", "--source-field", "meta.source", "-b", "zlib:6",
                         "--no-cache", "-f", "table")
    assert code == 0, err
    assert "Sources are the values of meta.source" in " ".join(out.split())
    code, out, err = run(str(data), "--field", "text", "--source-field", "meta.source", "-b", "zlib:6",
                         "--no-cache", "-f", "csv")
    assert code == 0, err
    table = out[out.index("source,documents") :].splitlines()
    assert [line.split(",")[0] for line in table[1:]] == [s["source"] for s in doc["sources"]]


def test_dask_gives_the_local_sources(mixed: tuple[Path, list]) -> None:
    distributed = pytest.importorskip("distributed")
    data, _ = mixed
    kw = {"field": "text", "source_field": "meta.source", "shard_size": 150_000, "use_cache": False}
    local = kbound.estimate([str(data)], ["zlib:6"], **kw)
    assert local.sharding is not None and local.sharding["shards"] >= 2
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = kbound.estimate([str(data)], ["zlib:6"], scheduler=cluster.scheduler_address, **kw)
    assert remote.sources == local.sources
    assert remote.duplicates == local.duplicates


def test_names_from_the_data_are_shown_as_they_are_never_as_styles_or_escapes(tmp_path: Path) -> None:
    # A source name is whatever the field holds: rich markup, a newline and an escape sequence must not style,
    # break or colour the table; the empty name is shown as "".
    f = tmp_path / "odd.jsonl"
    names = ["[red]x[/red]", "a\nb\x1b[31mc", ""]
    f.write_text("".join(json.dumps({"text": f"some text {i} " * 30, "s": names[i % 3]}) + "\n" for i in range(30)))
    code, out, err = run(str(f), "--field", "text", "--source-field", "s", "-b", "zlib:6", "--no-cache", "-f", "table")
    assert code == 0, err
    table = out[out.index("source ") :]
    assert "[red]x[/red]" in table and "a\\nb\\x1b[31mc" in table and '""' in table
    assert "\x1b" not in out
