"""Sharded runs: shards that follow the data, the framing arithmetic, resume, and Dask on the workers' own data."""

from __future__ import annotations

import json
import logging
import operator
import os
import threading
import time
from pathlib import Path

import pytest
import zstandard

import kbound
from corpus_helpers import corpus_of
from kbound.backends.base import write_varint
from kbound.backends.raw import Raw
from kbound.backends.registry import parse_spec
from kbound.errors import CorpusError, KboundError
from kbound.run import batch, engine
from kbound.run.executor import Call, DaskExecutor
from kbound.run.shards import framing_bytes, plan_shards
from kbound.sources import read_selection


def test_framing_counts_the_shard_count_and_each_payload_length() -> None:
    assert framing_bytes([100]) == 1 + 1
    assert framing_bytes([127, 128, 16_384, 2_000_000]) == 1 + (1 + 2 + 3 + 3)
    assert framing_bytes([5] * 200) == len(write_varint(200)) + 200 == 202


def _files(tmp_path: Path, shakespeare: Path, n: int = 6) -> list[Path]:
    """`n` text files cut from tinyshakespeare.txt (about 186 kB each)."""
    text = shakespeare.read_bytes()
    step = len(text) // n
    paths = []
    for i in range(n):
        path = tmp_path / f"part-{i:02d}.txt"
        path.write_bytes(text[i * step : (i + 1) * step])
        paths.append(path)
    return paths


def test_shards_are_runs_of_whole_files_and_concatenate_to_the_corpus(tmp_path: Path, shakespeare: Path) -> None:
    _files(tmp_path, shakespeare)
    corpus = corpus_of(tmp_path)
    plan = plan_shards(corpus, 400_000)
    assert [[p.source.name.rsplit("/", 1)[1] for p in s.pieces] for s in plan.shards] == [
        ["part-00.txt", "part-01.txt"], ["part-02.txt", "part-03.txt"], ["part-04.txt", "part-05.txt"],
    ]
    assert all(p.start == 0 and p.stop is None for s in plan.shards for p in s.pieces)
    streams = [read_selection(s)[0] for s in plan.shards]
    assert b"".join(streams) == corpus.read()[0]
    assert all(s.endswith(b"\x1e") for s in streams[:-1])


@pytest.mark.parametrize("kind", ["text", "jsonl.zst", "parquet"])
def test_a_file_larger_than_a_shard_is_cut_into_parts(kind: str, tmp_path: Path, shakespeare: Path) -> None:
    text = shakespeare.read_text(encoding="utf-8")
    docs = [d for d in text.split("\n\n") if d]
    path = tmp_path / f"big.{kind}"
    field = None
    if kind == "text":
        path.write_text(text, encoding="utf-8")
    elif kind == "jsonl.zst":
        lines = "".join(json.dumps({"text": d}) + "\n" for d in docs).encode()
        path.write_bytes(zstandard.ZstdCompressor(level=3).compress(lines))
        field = "text"
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"text": docs}), path, row_group_size=500)
        field = "text"
    corpus = corpus_of(path, field=field)
    plan = plan_shards(corpus, 300_000)
    assert 3 <= len(plan.shards) <= 5
    streams = [read_selection(s)[0] for s in plan.shards]
    whole, _ = corpus.read()
    assert b"".join(streams) == whole
    assert all(s.decode("utf-8") for s in streams)  # cut between lines (documents): whole characters
    parts = [read_selection(p)[0] for p in plan.cost_parts]
    assert b"".join(parts) == streams[0]


def test_a_sharded_bound_is_the_shard_payloads_plus_framing_plus_one_decoder(tmp_path: Path, shakespeare: Path) -> None:
    paths = _files(tmp_path, shakespeare)
    report = kbound.estimate([str(tmp_path)], ["zlib:9"], shard_size=400_000, use_cache=False)
    row = report.results[1]
    corpus = corpus_of(tmp_path)
    plan = plan_shards(corpus, 400_000)
    pieces = [read_selection(s)[0] for s in plan.shards]
    zlib9 = parse_spec("zlib:9")
    payloads = [len(zlib9.compress(p)) for p in pieces]
    assert row.payload_bytes == sum(payloads) + framing_bytes(payloads)
    assert row.total_bytes == row.payload_bytes + row.decoder_bytes  # type: ignore[operator]
    assert row.verified and row.shards == 3
    sharding = report.sharding
    assert sharding is not None and sharding["shards"] == 3
    half = plan.sizes[0] // 2
    halves = [len(zlib9.compress(pieces[0][:half])), len(zlib9.compress(pieces[0][half:]))]
    assert sharding["cost"]["zlib:9"] == pytest.approx((sum(halves) + framing_bytes(halves)) / payloads[0] - 1)
    # The identity of a sharded run: the manifest of its shards, said so.
    assert report.corpus.identity.startswith("sha256 of the shard manifest")
    from kbound.report import render

    assert json.loads(render(report, "json"))["corpus"]["identity"] == report.corpus.identity
    assert "shard-manifest sha256" in render(report, "table")
    assert report.corpus.bytes == sum(len(p) for p in pieces) == sum(p.stat().st_size for p in paths) + 5


def test_a_backend_that_holds_its_input_is_sharded_to_fit_the_memory(tmp_path: Path, shakespeare: Path) -> None:
    _files(tmp_path, shakespeare)

    class Holds(Raw):
        """raw through its whole-buffer path, claiming 100 bytes of memory per byte of input."""

        name = "holds"
        streams = False

        def memory_bytes(self, size: int) -> int:
            return 100 * size

    report = kbound.estimate(corpus_of(tmp_path), [], use_cache=False, max_memory=engine.WORKER_BYTES + 40_000_000)
    assert report.sharding is None  # raw streams: one piece
    from kbound.bounds.estimate import plans_for
    from kbound.sources.sizes import text_bytes

    corpus = corpus_of(tmp_path)
    [plan] = plans_for([Holds()], corpus, text_bytes(corpus.sources), None, engine.WORKER_BYTES + 40_000_000)
    assert plan.sharded and max(plan.sizes) * 100 <= 40_000_000


def test_a_stopped_run_resumes_with_only_the_missing_shards(
    tmp_path: Path, shakespeare: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _files(tmp_path, shakespeare)
    cache = str(tmp_path / "cache")
    specs = ["zlib:9", "bz2:9"]
    original = batch.run_tasks

    def stop_after_four(*args: object, **kw: object) -> object:
        on_done, finished = kw["on_done"], []

        def counted(task: object, outcome: object) -> None:
            on_done(task, outcome)  # type: ignore[operator]
            finished.append(task)
            if len(finished) == 4:
                raise KeyboardInterrupt  # as Ctrl-C would, after four tasks were stored

        return original(*args, **{**kw, "on_done": counted})  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "run_tasks", stop_after_four)
    stopped = kbound.estimate([str(tmp_path)], specs, shard_size=400_000, cache_dir=cache, jobs=1, glob="*.txt")
    monkeypatch.setattr(batch, "run_tasks", original)
    assert stopped.interrupted
    resumed = kbound.estimate([str(tmp_path)], specs, shard_size=400_000, cache_dir=cache, glob="*.txt")
    fresh = kbound.estimate([str(tmp_path)], specs, shard_size=400_000, use_cache=False, glob="*.txt")
    assert resumed.sharding is not None and resumed.sharding["cached_tasks"] == 4
    assert resumed.sharding["tasks"] == 3 * (3 + 2)  # raw too: 3 shards and 2 cost parts each
    assert [(r.spec, r.total_bytes) for r in resumed.results] == [(r.spec, r.total_bytes) for r in fresh.results]
    again = kbound.estimate([str(tmp_path)], specs, shard_size=400_000, cache_dir=cache, glob="*.txt")
    # Every task is recalled but the raw row's three shards, which read the corpus again to make the index.
    assert again.sharding is not None and again.sharding["cached_tasks"] == again.sharding["tasks"] - 3
    assert [(r.spec, r.total_bytes) for r in again.results] == [(r.spec, r.total_bytes) for r in fresh.results]


def test_the_input_changing_during_a_run_is_an_error(tmp_path: Path, alice: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(alice.read_bytes())
    corpus = corpus_of(path)
    writes = threading.Event()

    def grow(task: object) -> None:
        if not writes.is_set():
            writes.set()
            with path.open("ab") as f:
                f.write(b"appended while the run reads it")

    with pytest.raises(CorpusError, match="the input changed while it was being read"):
        kbound.estimate(corpus, ["zlib:9", "bz2:9", "xz:6"], use_cache=False, jobs=1,
                        on_start=lambda b: grow(b) if b.name == "bz2" else None)


def test_dask_local_cluster_gives_the_local_sharded_bound_byte_for_byte(tmp_path: Path, shakespeare: Path) -> None:
    distributed = pytest.importorskip("distributed")
    (tmp_path / "data").mkdir()
    _files(tmp_path / "data", shakespeare)
    specs = ["zlib:9", "ppmd:6,mem=16m", "brotli:9,w=22"]
    local = kbound.estimate([str(tmp_path / "data")], specs, shard_size=300_000, use_cache=False)
    # The workers get a temporary directory of their own: nothing they need may live in the client's.
    worker_tmp = tmp_path / "worker-tmp"
    worker_tmp.mkdir()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  env={"TMPDIR": str(worker_tmp)}) as cluster:
        remote = kbound.estimate([str(tmp_path / "data")], specs, shard_size=300_000, use_cache=False,
                                 scheduler=cluster.scheduler_address)
    assert [(r.spec, r.payload_bytes, r.total_bytes, r.status) for r in remote.results] == [
        (r.spec, r.payload_bytes, r.total_bytes, r.status) for r in local.results
    ]
    assert remote.best == local.best
    assert remote.corpus == local.corpus
    assert all(r.verified for r in remote.results)
    assert list(worker_tmp.iterdir()) == [] or all(p.name.startswith("dask") for p in worker_tmp.iterdir())


def test_a_task_that_fails_on_the_cluster_fails_the_run(tmp_path: Path, shakespeare: Path) -> None:
    distributed = pytest.importorskip("distributed")
    (tmp_path / "data").mkdir()
    paths = _files(tmp_path / "data", shakespeare)
    corpus = corpus_of(tmp_path / "data")
    paths[3].unlink()  # the workers cannot read a shard the client described
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c, \
            pytest.raises(KboundError, match=r"shard 2 of 3.*part-03.txt"):
        kbound.estimate(corpus, ["zlib:9"], shard_size=400_000, use_cache=False, scheduler=c.scheduler_address)


def test_dask_workers_read_an_fsspec_url(shakespeare: Path) -> None:
    distributed = pytest.importorskip("distributed")
    url = shakespeare.resolve().as_uri()  # file:///…: the URL form a cluster's workers open through fsspec
    local = kbound.estimate([str(shakespeare)], ["zlib:6"], shard_size=500_000, use_cache=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        remote = kbound.estimate([url], ["zlib:6"], shard_size=500_000, scheduler=c.scheduler_address,
                                 use_cache=False)
    assert (remote.corpus.sha256, remote.corpus.bytes) == (local.corpus.sha256, local.corpus.bytes)
    assert [r.total_bytes for r in remote.results] == [r.total_bytes for r in local.results]
    assert remote.results[1].verified


def test_standard_input_cannot_go_to_a_cluster(shakespeare: Path) -> None:
    import io

    with pytest.raises(KboundError, match="cannot be sent to Dask workers"):
        kbound.estimate(["-"], ["zlib:6"], scheduler="tcp://127.0.0.1:1", stdin=io.BytesIO(b"some text"),
                        use_cache=False)


def test_a_file_rewritten_in_place_with_its_mtime_restored_is_not_recalled(tmp_path: Path, alice: Path) -> None:
    path = tmp_path / "a.txt"
    text = alice.read_bytes()
    path.write_bytes(text)
    cache = str(tmp_path / "cache")
    first = kbound.estimate([str(path)], ["zlib:9"], cache_dir=cache)
    before = path.stat()
    # The same size, the same inode, the old mtime (as `touch -r` restores it): only ctime tells.
    with path.open("r+b") as f:
        f.write(b"x" * 20_000)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_ino, after.st_mtime_ns) == (before.st_size, before.st_ino, before.st_mtime_ns)
    again = kbound.estimate([str(path)], ["zlib:9"], cache_dir=cache)
    fresh = kbound.estimate([str(path)], ["zlib:9"], use_cache=False)
    assert again.corpus.sha256 == fresh.corpus.sha256 != first.corpus.sha256
    assert [r.total_bytes for r in again.results] == [r.total_bytes for r in fresh.results]
    assert again.results[-1].total_bytes != first.results[-1].total_bytes


def _cluster_calls(n: int) -> list[Call]:
    return [Call(operator.add, (i, 1), f"call {i}") for i in range(n)]


def test_dask_loggers_are_quiet_during_a_run_and_restored_after() -> None:
    distributed = pytest.importorskip("distributed")
    names = ("distributed", "distributed.client", "distributed.comm.core")
    before = [logging.getLogger(n).level for n in names]
    during: list[list[int]] = []
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        dask = DaskExecutor(c.scheduler_address)
        try:
            results = dask.run(_cluster_calls(2), on_done=lambda i, r: during.append(
                [logging.getLogger(n).level for n in names]))
        finally:
            dask.close()
    assert results == [1, 2]
    # A lost scheduler is kbound's one line, not Dask's traceback logged beside it.
    assert during == [[logging.CRITICAL] * 3] * 2
    assert [logging.getLogger(n).level for n in names] == before


def test_a_test_cluster_keeps_its_scratch_space_in_the_session_directory() -> None:
    """`make test` leaves no dask-scratch-space behind in the system's temporary directory (conftest.py)."""
    distributed = pytest.importorskip("distributed")
    session = os.environ["DASK_TEMPORARY_DIRECTORY"]
    assert os.path.basename(session).startswith("kbound-test-dask-")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        directories = list(c.scheduler_info["workers"].values())
        assert directories and all(w["local_directory"].startswith(session + os.sep) for w in directories)
    assert os.path.isdir(os.path.join(session, "dask-scratch-space"))


def test_dask_releases_each_result_once_it_is_taken() -> None:
    distributed = pytest.importorskip("distributed")
    n = 4
    held: list[int] = []
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        dask = DaskExecutor(c.scheduler_address)

        def ours() -> int:
            return sum(str(k).startswith("kbound-") for k in list(dask.client.refcount))

        def on_done(i: int, result: object) -> None:
            # The release reaches the client's event loop thread a moment later: wait for it, briefly.
            left = n - len(held) - 1
            deadline = time.monotonic() + 2
            while ours() > left and time.monotonic() < deadline:
                time.sleep(0.01)
            held.append(ours())

        try:
            # A future kept alive is one the cluster recomputes if the worker holding it dies.
            assert dask.run(_cluster_calls(n), on_done=on_done) == [1, 2, 3, 4]
        finally:
            dask.close()
    assert held == [3, 2, 1, 0]
