"""The duplicate stage: chunking, the recipe decoder, the index, the verifier, and whole runs with far-apart copies."""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kbound
from cli_helpers import run
from kbound.backends.base import write_varint
from kbound.dedup import delta, recipe
from kbound.dedup.chunking import Chunking, chunks_of
from kbound.dedup.encode import Splitter, check_walk, merged
from kbound.dedup.index import (
    DUP,
    META,
    TARGET,
    Indexer,
    chunks_key,
    docs_key,
    dups_key,
    partitions_for,
    reduce_partition,
    targets_key,
)
from kbound.errors import CorpusError, RoundTripError
from kbound.sources.stream import DOCUMENT, MORE, SEPARATOR

CHUNKING = Chunking()


def _documents(text: bytes, n: int, seed: int) -> list[bytes]:
    """n documents of real text (runs of words from `text`), 100-3,000 words each."""
    rng = random.Random(seed)
    words = text.split()
    return [b" ".join(words[(k := rng.randrange(len(words) - 3000)) : k + rng.randint(100, 3000)])
            for _ in range(n)]


def _marked(docs: list[bytes], end_separator: bool = False, piece: int = 700) -> list[tuple[bytes, int]]:
    """The stream of documents joined by the separator, as `CorpusStream.marked` gives it, in small pieces."""
    out: list[tuple[bytes, int]] = []
    for j, d in enumerate(docs):
        if j:
            out.append((b"\x1e", SEPARATOR))
        for k in range(0, max(len(d), 1), piece):
            out.append((d[k : k + piece], DOCUMENT if k == 0 else MORE))
    if end_separator:
        out.append((b"\x1e", SEPARATOR))
    return out


# -- chunking

def test_chunks_of_alice_are_pinned_and_rebuild_it(alice_bytes: bytes) -> None:
    chunks = list(chunks_of([(alice_bytes, True)], CHUNKING))
    assert b"".join(chunks) == alice_bytes
    assert len(chunks) == 132  # the gear table, the masks and the sizes are part of every duplicate figure
    assert all(CHUNKING.min_bytes < len(c) <= CHUNKING.max_bytes for c in chunks[:-1])


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=60_000), max_size=30))
def test_the_cut_points_do_not_depend_on_how_the_stream_is_fed(alice_bytes: bytes, cuts: list[int]) -> None:
    data = alice_bytes[:60_000]
    points = sorted({0, *cuts, len(data)})
    pieces = [(data[a:b], a == 0) for a, b in itertools.pairwise(points)]
    assert list(chunks_of(pieces, CHUNKING)) == list(chunks_of([(data, True)], CHUNKING))


def test_every_document_start_is_a_cut_so_a_repeated_document_gives_the_same_chunks(alice_bytes: bytes) -> None:
    a, b = alice_bytes[:5000], alice_bytes[20_000:27_000]
    chunks = list(chunks_of([(a, True), (b"\x1e", False), (b, True), (b"\x1e", False), (b, True)], CHUNKING))
    assert b"".join(chunks) == a + b"\x1e" + b + b"\x1e" + b
    ends = np.cumsum([len(c) for c in chunks]).tolist()
    assert len(a) + 1 in ends and len(a) + 1 + len(b) + 1 in ends  # a cut just after each separator
    first = chunks[ends.index(len(a) + 1) + 1 : ends.index(len(a) + len(b) + 2) + 1]
    second = chunks[ends.index(len(a) + len(b) + 2) + 1 :]
    # The same chunks, but for the separator that ends the first copy's last one.
    assert first[:-1] == second[:-1] and first[-1] == second[-1] + b"\x1e"


def test_chunk_sizes_must_be_ordered_and_the_average_a_power_of_two() -> None:
    with pytest.raises(ValueError, match="power of two"):
        Chunking(256, 1000, 8000)
    with pytest.raises(ValueError, match="min < avg < max"):
        Chunking(2048, 1024, 8192)


# -- the recipe (the decoder's part)

def test_recipe_writer_merges_a_run_of_references_and_ops_read_it_back() -> None:
    w = recipe.RecipeWriter()
    w.literal(100)
    w.literal(50)
    w.reference(10, 20, 150)
    w.reference(30, 5, 170)  # continues the first reference: one operation
    w.reference(0, 10, 175)  # a new target
    w.literal(7)
    data = w.finish()
    assert list(recipe.ops(data)) == [(150, 0), (25, 140), (10, 175), (7, 0)]
    assert w.written == [(150, 10, 25), (175, 0, 10)]


def test_a_reference_that_reaches_bytes_it_is_writing_is_refused() -> None:
    with pytest.raises(ValueError, match="bad reference"):
        list(recipe.ops(write_varint(2 * 10 + 1) + write_varint(5)))


def _build(docs_by_shard: list[list[bytes]], compress=zlib.compress, near: bool = False) -> tuple[bytes, list[tuple]]:
    """Index, reduce, split and code shards as a run does; the framed payload and what each shard's check needs."""
    streams = [_marked(d, end_separator=i + 1 < len(docs_by_shard)) for i, d in enumerate(docs_by_shard)]
    parts = []
    for i, s in enumerate(streams):
        ix = Indexer(CHUNKING, i, 2)
        for data, kind in s:
            ix.feed(data, kind)
        parts.append(ix.finish())
    sizes = [p[META]["bytes"] for p in parts]
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    reduced = [reduce_partition(len(streams), [p[chunks_key(q)] for p in parts], [p[docs_key(q)] for p in parts])
               for q in range(2)]
    shard_payloads, checks = [], []
    flat = [b"".join(data for data, _ in s) for s in streams]
    for i, s in enumerate(streams):
        dups = merged([r[dups_key(i)] for r in reduced], DUP)
        targets = merged([r[targets_key(i)] for r in reduced], TARGET)
        gaps = None
        if near:  # what the stage's plan and gathers do, from the shards' bytes here
            asked = delta.plan_windows(dups, i, sizes[i], sizes, CHUNKING)
            got = [delta.Windows(asked[delta.window_key(t)], b"".join(
                flat[t][int(r["offset"]) : int(r["offset"]) + int(r["length"])] for r in asked[delta.window_key(t)]))
                for t in asked["shards"]]
            gaps = delta.by_gap(got, starts)
        splitter = Splitter(CHUNKING, dups, starts, int(starts[i]), targets if near else None, gaps)
        literals = b"".join(splitter.literals(s))
        rec = splitter.recipe()
        shard_payloads.append(write_varint(len(rec)) + rec + compress(literals))
        checks.append((rec, literals, merged([r[targets_key(i)] for r in reduced], TARGET), int(starts[i]), sizes[i],
                       splitter.refs))
    payload = write_varint(len(streams)) + b"".join(write_varint(len(p)) for p in shard_payloads) + b"".join(
        shard_payloads)
    return payload, checks


def test_the_decoder_rebuilds_a_corpus_of_far_apart_copies_across_shards(alice_bytes: bytes) -> None:
    docs = _documents(alice_bytes, 40, seed=1)
    rng = random.Random(2)
    shards = [docs[:15], [rng.choice(docs[:15]) for _ in range(10)] + docs[15:30], docs[30:] + docs[:5]]
    payload, checks = _build(shards)
    expected = b"\x1e".join(b"\x1e".join(s) for s in shards)
    assert recipe.decode(payload, zlib.decompress) == expected
    plain = len(zlib.compress(expected))
    assert len(payload) < plain  # the copies cost references, not their text again
    for rec, literals, targets, start, size, refs in checks:
        check_walk(rec, [literals], targets, start, size, refs, hashlib.sha256(literals).hexdigest())


def _edited(doc: bytes, seed: int, words: int = 4) -> bytes:
    """A near copy: `words` words of the document replaced by other words of it."""
    rng = random.Random(seed)
    w = doc.split(b" ")
    for _ in range(words):
        w[rng.randrange(len(w))] = rng.choice(w)
    return b" ".join(w)


def test_near_copies_are_coded_as_references_around_their_edits(alice_bytes: bytes) -> None:
    docs = [d for d in _documents(alice_bytes, 60, seed=11) if len(d) > 4000][:20]
    near = [_edited(d, seed=k) for k, d in enumerate(docs[:10])]
    shards = [docs[:10], docs[10:15] + near[:5], near[5:] + docs[15:]]
    payload, checks = _build(shards, near=True)
    expected = b"\x1e".join(b"\x1e".join(s) for s in shards)
    assert recipe.decode(payload, zlib.decompress) == expected
    for rec, literals, targets, start, size, refs in checks:
        check_walk(rec, [literals], targets, start, size, refs, hashlib.sha256(literals).hexdigest())
    chunks_only, _ = _build(shards)
    without = len(_build([docs[:10], docs[10:15], docs[15:]])[0])
    # Whole chunks around each edit would be literal; with windows only the edited words are.
    assert len(payload) - without < 0.25 * (len(chunks_only) - without)
    assert len(payload) < 1.05 * without


def test_cover_finds_the_stretches_around_an_edit_and_never_names_other_bytes(alice_bytes: bytes) -> None:
    old = alice_bytes[5000:9000]
    new = old[:1000] + b"QUITE DIFFERENT WORDS" + old[1010:3000] + old[3020:]
    found = delta.cover(new, [(delta.BOTH, 100_000, old)], at_start=True, at_end=True)
    for off, n, pos in found:
        assert new[off : off + n] == old[pos - 100_000 : pos - 100_000 + n]
    assert sum(n for _, n, _ in found) >= len(new) - 21 - 2 * delta.MIN_MATCH
    assert delta.cover(b"x" * 40, [(delta.BOTH, 0, b"y" * 40)], True, True) == []


@settings(max_examples=60, deadline=None)
@given(pieces=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=30),
       spans=st.lists(st.tuples(st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=80)),
                      max_size=12))
def test_cut_spans_gives_the_bytes_at_each_span_however_the_stream_is_cut(
        alice_bytes: bytes, pieces: list[int], spans: list[tuple[int, int]]) -> None:
    data = alice_bytes[: sum(pieces)]
    cuts = list(itertools.accumulate(pieces, initial=0))
    stream = [data[a:b] for a, b in itertools.pairwise(cuts)]
    inside = [(o, n, k) for k, (o, n) in enumerate(spans) if o + n <= len(data)]
    digest = hashlib.sha256()
    assert delta.cut_spans(stream, inside, digest) == {k: data[o : o + n] for o, n, k in inside}
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert delta.cut_spans(stream, inside) == {k: data[o : o + n] for o, n, k in inside}


def test_the_verifier_finds_a_named_chunk_that_decodes_to_other_bytes(alice_bytes: bytes) -> None:
    docs = _documents(alice_bytes, 12, seed=3)
    _, checks = _build([docs, docs[:6]])
    rec, literals, targets, start, size, refs = checks[0]
    assert len(targets)  # shard 1 holds first occurrences that shard 2 names
    at = int(targets["offset"][0]) + 3
    bad = literals[:at] + bytes([literals[at] ^ 1]) + literals[at + 1 :]
    with pytest.raises(RoundTripError, match="decodes to other bytes"):
        check_walk(rec, [bad], targets, start, size, refs, hashlib.sha256(bad).hexdigest())


def test_the_verifier_finds_a_reference_that_is_not_the_one_coded(alice_bytes: bytes) -> None:
    docs = _documents(alice_bytes, 12, seed=4)
    _, checks = _build([docs, docs[:6]])
    rec, literals, targets, start, size, refs = checks[1]
    wrong = [(p, t + 1, n) for p, t, n in refs]
    with pytest.raises(RoundTripError, match="is not the one coded"):
        check_walk(rec, [literals], targets, start, size, wrong, hashlib.sha256(literals).hexdigest())


def test_a_changed_input_between_index_and_coding_is_an_error(alice_bytes: bytes) -> None:
    docs = _documents(alice_bytes, 8, seed=5)
    stream = _marked(docs + docs[:3])
    ix = Indexer(CHUNKING, 0, 1)
    for data, kind in stream:
        ix.feed(data, kind)
    part = ix.finish()
    reduced = reduce_partition(1, [part[chunks_key(0)]], [part[docs_key(0)]])
    splitter = Splitter(CHUNKING, reduced[dups_key(0)], np.zeros(1, dtype=np.int64), 0)
    changed = _marked([*docs, docs[0].replace(b"the", b"THE"), *docs[1:3]])
    with pytest.raises(CorpusError, match="changed since it was indexed"):
        b"".join(splitter.literals(changed))


def test_the_reduction_counts_repeated_documents_and_chunks_exactly(alice_bytes: bytes) -> None:
    docs = _documents(alice_bytes, 6, seed=6)
    # Shard 0: a b c a; shard 1: b d b. Repeats: a (in 0, of 0), b and b again (in 1, both of shard 0's b).
    shards = [[docs[0], docs[1], docs[2], docs[0]], [docs[1], docs[3], docs[1]]]
    parts = []
    for i, s in enumerate(shards):
        ix = Indexer(CHUNKING, i, 1, source=i)
        for data, kind in _marked(s, end_separator=i == 0):
            ix.feed(data, kind)
        parts.append(ix.finish())
    # Each shard its own source, so the counts say which shard the first occurrence is in.
    counts = reduce_partition(2, [p[chunks_key(0)] for p in parts], [p[docs_key(0)] for p in parts], 2)[META]
    assert counts.dup_docs.tolist() == [[1, 0], [2, 0]]
    assert counts.source_dup_docs.tolist() == [[1, 0], [2, 0]]  # by the repeat's source: the same here
    assert counts.dup_doc_bytes.tolist() == [[len(docs[0]), 0], [2 * len(docs[1]), 0]]
    # Every chunk of a repeated document repeats, the last one too when both copies end with the separator.
    assert counts.dup_bytes[0, 0] >= len(docs[0]) - CHUNKING.max_bytes
    assert counts.top and counts.top[0].count >= 2


def test_partitions_grow_with_the_corpus_to_keep_one_under_its_budget() -> None:
    assert partitions_for(10**9, CHUNKING) == 1
    assert partitions_for(2 * 10**12, CHUNKING) == 277  # 2 TB at 1 KiB chunks: 1.95e9 records of 38 bytes


# -- whole runs

def _shards_with_far_copies(root: Path, text: bytes, copies: float, seed: int = 7) -> Path:
    """JSON-lines shards in two sources; a share of the documents repeats an earlier one from another shard."""
    rng = random.Random(seed)
    originals = _documents(text, 120, seed)
    seen: list[bytes] = []
    data = root / "data"
    for shard in range(4):
        source = data / ("web" if shard < 3 else "books")
        source.mkdir(parents=True, exist_ok=True)
        with (source / f"part-{shard}.jsonl").open("w", encoding="utf-8") as f:
            for _ in range(40):
                doc = rng.choice(seen) if seen and rng.random() < copies else originals.pop()
                seen.append(doc)
                f.write(json.dumps({"text": doc.decode("utf-8", "replace")}) + "\n")
    return data


def test_far_apart_copies_are_coded_once_and_the_row_is_verified(tmp_path: Path, shakespeare: Path) -> None:
    data = _shards_with_far_copies(tmp_path, shakespeare.read_bytes(), copies=0.4)
    report = kbound.estimate([str(data)], ["zstd:3"], field="text", shard_size=700_000, use_cache=False)
    rows = {r.spec: r for r in report.results}
    assert set(rows) == {"raw", "zstd:3", "raw+dedup", "zstd:3+dedup"}
    assert all(r.verified for r in report.results)
    plain, coded = rows["zstd:3"], rows["zstd:3+dedup"]
    assert coded.total_bytes is not None and plain.total_bytes is not None
    # zstd:3's window already finds the copies inside a 700 kB shard; only those across shards are left.
    assert coded.total_bytes < 0.95 * plain.total_bytes
    assert coded.decoder_bytes is not None and plain.decoder_bytes is not None
    assert coded.decoder_bytes > plain.decoder_bytes  # the recipe module is counted
    d = report.duplicates
    assert d is not None and d.bytes == report.corpus.bytes
    assert d.repeated_documents > 0 and 0.25 < d.repeated_fraction < 0.5
    assert report.best is not None and report.best.spec == "zstd:3+dedup"


def test_near_copies_across_shards_cost_little_more_than_their_originals(tmp_path: Path, shakespeare: Path) -> None:
    rng = random.Random(13)
    originals = [d for d in _documents(shakespeare.read_bytes(), 200, seed=13) if len(d) > 4000][:60]
    with_near, without = tmp_path / "near", tmp_path / "twin"
    for root in (with_near, without):
        root.mkdir()
    for shard in range(3):
        mine = originals[20 * shard : 20 * shard + 20]
        near = [_edited(rng.choice(originals[: 20 * shard]), seed=rng.randrange(1 << 30)) for _ in range(8)] \
            if shard else []
        for root, docs in ((with_near, mine + near), (without, mine)):
            with (root / f"part-{shard}.jsonl").open("w", encoding="utf-8") as f:
                f.writelines(json.dumps({"text": d.decode("utf-8", "replace")}) + "\n" for d in docs)
    runs = [kbound.estimate([str(root)], ["zstd:3"], field="text", shard_size=200_000, use_cache=False)
            for root in (with_near, without)]
    assert all(r.verified for rep in runs for r in rep.results)
    rows = {r.spec: r for r in runs[0].results}
    best, twin = rows["zstd:3+dedup"].total_bytes, runs[1].best.total_bytes  # type: ignore[union-attr]
    assert best is not None and twin is not None
    # 16 near copies of about 8 kB each: their text again without references, a few hundred bytes with them.
    assert best < 1.10 * twin
    assert rows["zstd:3"].total_bytes > 1.25 * twin  # type: ignore[operator]


def test_by_source_rows_add_up_to_the_best_payload(tmp_path: Path, shakespeare: Path) -> None:
    data = _shards_with_far_copies(tmp_path, shakespeare.read_bytes(), copies=0.4)
    report = kbound.estimate([str(data)], ["zstd:3"], field="text", by_source=True, use_cache=False)
    names = [s.name for s in report.sources]
    assert names == [str(data / "books"), str(data / "web")]  # corpus order: directories walked sorted
    best = next(r for r in report.results if r.spec == report.best.spec)  # type: ignore[union-attr]
    assert sum(s.adds_bytes or 0 for s in report.sources) == best.payload_bytes
    books, web = report.sources
    assert books.repeated_bytes_against_earlier == 0  # nothing comes before the first source
    assert books.own_bytes is not None and web.own_bytes is not None
    assert web.own_spec is not None and not web.own_spec.endswith("+dedup")  # its references reach into books
    assert web.repeated_bytes_against_earlier > 0 and web.repeated_bytes_within > 0
    assert books.bytes + web.bytes == report.corpus.bytes


def test_one_source_alone_is_the_whole_bound(tmp_path: Path, shakespeare: Path) -> None:
    data = _shards_with_far_copies(tmp_path, shakespeare.read_bytes(), copies=0.4)
    report = kbound.estimate([str(data / "web")], ["zstd:3"], field="text", by_source=True, use_cache=False)
    (only,) = report.sources
    best = next(r for r in report.results if r.spec == report.best.spec)  # type: ignore[union-attr]
    assert best.dedup and only.adds_bytes == best.payload_bytes
    assert only.own_bytes == best.total_bytes and only.own_spec == best.spec  # the same program


def test_a_corpus_above_the_piece_limit_is_sharded_for_the_index(
    tmp_path: Path, shakespeare: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kbound.bounds import estimate as est

    data = _shards_with_far_copies(tmp_path, shakespeare.read_bytes(), copies=0.4)
    monkeypatch.setattr(est, "DEDUP_SHARD_BYTES", 1_000_000)
    report = kbound.estimate([str(data)], ["zlib:6"], field="text", use_cache=False)
    assert report.sharding is not None and report.sharding["reason"] == "duplicate index"
    assert report.settings["shard_bytes"] == 1_000_000 and report.sharding["shards"] >= 2
    off = kbound.estimate([str(data)], ["zlib:6"], field="text", use_cache=False, dedup="off")
    assert off.sharding is None  # without the stage, streaming backends keep one piece


def test_a_corpus_without_repeats_runs_no_extra_rows(tmp_path: Path, alice: Path, shakespeare: Path) -> None:
    report = kbound.estimate([str(alice), str(shakespeare)], ["zlib:6"], use_cache=False)
    assert [r.spec for r in report.results] == ["raw", "zlib:6"]
    assert report.duplicates is not None and report.duplicates.repeated_bytes < 0.01 * report.corpus.bytes


def test_dedup_off_and_a_single_document_run_no_stage(alice: Path) -> None:
    assert kbound.estimate([str(alice)], ["zlib:6"], use_cache=False).duplicates is None  # auto: one document
    on = kbound.estimate([str(alice)], ["zlib:6"], use_cache=False, dedup="on")
    assert on.duplicates is not None and on.duplicates.documents == 1


def test_the_cli_reports_repeats_in_json_and_refuses_a_bad_chunk_size(tmp_path: Path, shakespeare: Path) -> None:
    data = _shards_with_far_copies(tmp_path, shakespeare.read_bytes(), copies=0.3)
    code, out, err = run(str(data), "--field", "text", "-b", "zlib:6", "--by-source", "--no-cache", "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["duplicates"]["repeated_bytes"] > 0
    assert [s["source"] for s in doc["sources"]] == [str(data / "books"), str(data / "web")]
    assert {r["spec"]: r["dedup"] for r in doc["results"]} == {
        "raw": False, "zlib:6": False, "raw+dedup": True, "zlib:6+dedup": True}
    code, _, err = run(str(data), "--field", "text", "--chunk-size", "1000")
    assert code == 2 and "power of two" in err


def test_a_stopped_run_recalls_the_shards_it_coded_with_references(
    tmp_path: Path, shakespeare: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kbound.run import dedup as stage

    data = _shards_with_far_copies(tmp_path, shakespeare.read_bytes(), copies=0.4)
    cache = str(tmp_path / "cache")
    kw = {"field": "text", "shard_size": 700_000, "jobs": 1}
    original = stage.run_tasks

    def stop_after_one(*args: object, **options: object) -> object:
        on_done = options["on_done"]

        def first_then_stop(task: object, outcome: object) -> None:
            on_done(task, outcome)  # type: ignore[operator]
            raise KeyboardInterrupt  # as Ctrl-C would, once one shard with references was stored

        return original(*args, **{**options, "on_done": first_then_stop})  # type: ignore[arg-type]

    monkeypatch.setattr(stage, "run_tasks", stop_after_one)
    stopped = kbound.estimate([str(data)], ["zlib:6"], cache_dir=cache, **kw)
    monkeypatch.setattr(stage, "run_tasks", original)
    assert stopped.interrupted and not any(r.dedup for r in stopped.results)
    calls: list[int] = []
    monkeypatch.setattr(stage, "run_tasks", lambda tasks, **o: calls.append(len(tasks)) or original(tasks, **o))
    resumed = kbound.estimate([str(data)], ["zlib:6"], cache_dir=cache, **kw)
    fresh = kbound.estimate([str(data)], ["zlib:6"], use_cache=False, **kw)
    assert len(calls) == 2 and calls[0] == calls[1] - 1  # the shard stored before the stop was recalled
    assert [(r.spec, r.total_bytes) for r in resumed.results] == [(r.spec, r.total_bytes) for r in fresh.results]
    assert resumed.duplicates == fresh.duplicates


def test_dask_gives_the_local_bounds_with_references(tmp_path: Path, shakespeare: Path) -> None:
    distributed = pytest.importorskip("distributed")
    data = _shards_with_far_copies(tmp_path, shakespeare.read_bytes(), copies=0.4)
    local = kbound.estimate([str(data)], ["zlib:6"], field="text", shard_size=700_000, use_cache=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = kbound.estimate([str(data)], ["zlib:6"], field="text", shard_size=700_000, use_cache=False,
                                 scheduler=cluster.scheduler_address)
    assert [(r.spec, r.total_bytes, r.status) for r in remote.results] == [
        (r.spec, r.total_bytes, r.status) for r in local.results]
    assert remote.duplicates == local.duplicates
    assert any(r.dedup for r in remote.results)
