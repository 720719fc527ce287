"""Sharded runs: shard plans on document boundaries, framing arithmetic, and local vs Dask equality."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import kbound
from kbound.backends.base import write_varint
from kbound.run.shards import framing_bytes, plan_shards


def test_framing_counts_the_shard_count_and_each_payload_length() -> None:
    assert framing_bytes([100]) == 1 + 1
    assert framing_bytes([127, 128, 16_384, 2_000_000]) == 1 + (1 + 2 + 3 + 3)
    assert framing_bytes([5] * 200) == len(write_varint(200)) + 200 == 202


def test_shards_cover_the_corpus_and_cut_just_after_a_separator(alice_bytes: bytes) -> None:
    docs = alice_bytes.split(b"CHAPTER")
    data = b"\x1e".join(docs)
    plan = plan_shards(io.BytesIO(data), 20_000, b"\x1e")
    assert sum(s.size for s in plan.shards) == len(data)
    assert [s.offset for s in plan.shards] == [0, *(s.offset + s.size for s in plan.shards[:-1])]
    for s in plan.shards[:-1]:
        assert s.size >= 20_000
        assert data[s.offset + s.size - 1 : s.offset + s.size] == b"\x1e"
    assert plan.sample is not None and plan.sample.size == plan.shards[0].size + plan.shards[1].size


def test_without_documents_shards_are_exact(alice_bytes: bytes) -> None:
    plan = plan_shards(io.BytesIO(alice_bytes), 50_000, None)
    assert [s.size for s in plan.shards] == [50_000, 50_000, 50_000, len(alice_bytes) - 150_000]
    assert plan_shards(io.BytesIO(b""), 10, None).shards[0].size == 0


def test_a_sharded_bound_is_the_shard_payloads_plus_framing_plus_one_decoder(shakespeare: Path) -> None:
    data = shakespeare.read_bytes()
    report = kbound.estimate([str(shakespeare)], ["zlib:9"], shard_size=400_000)
    row = report.results[1]
    pieces = [data[:400_000], data[400_000:800_000], data[800_000:]]
    payloads = [len(kbound.parse_spec("zlib:9").compress(p)) for p in pieces]
    assert row.payload_bytes == sum(payloads) + framing_bytes(payloads)
    assert row.total_bytes == row.payload_bytes + row.decoder_bytes  # type: ignore[operator]
    assert row.verified
    sharding = report.sharding
    assert sharding is not None and sharding["shards"] == 3 and sharding["sample_bytes"] == 800_000
    whole = len(kbound.parse_spec("zlib:9").compress(data[:800_000]))
    two_shards = payloads[0] + payloads[1] + framing_bytes(payloads[:2])
    assert sharding["cost"]["zlib:9"] == pytest.approx(two_shards / whole - 1)


def test_dask_local_cluster_gives_the_local_sharded_bound_byte_for_byte(shakespeare: Path) -> None:
    distributed = pytest.importorskip("distributed")
    specs = ["zlib:9", "ppmd:6,mem=16m", "brotli:9,w=22"]
    local = kbound.estimate([str(shakespeare)], specs, shard_size=300_000)
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = kbound.estimate([str(shakespeare)], specs, shard_size=300_000, scheduler=cluster.scheduler_address)
    assert [(r.spec, r.payload_bytes, r.total_bytes, r.status) for r in remote.results] == [
        (r.spec, r.payload_bytes, r.total_bytes, r.status) for r in local.results
    ]
    assert remote.best == local.best
    assert remote.sharding == local.sharding
    assert all(r.verified for r in remote.results)


def test_dask_workers_read_an_fsspec_url(shakespeare: Path) -> None:
    distributed = pytest.importorskip("distributed")
    url = shakespeare.resolve().as_uri()  # file:///…: the URL form a cluster's workers open through fsspec
    local = kbound.estimate([str(shakespeare)], ["zlib:6"], shard_size=500_000)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        remote = kbound.estimate([url], ["zlib:6"], shard_size=500_000, scheduler=c.scheduler_address)
    assert remote.corpus.sha256 == local.corpus.sha256
    assert [r.total_bytes for r in remote.results] == [r.total_bytes for r in local.results]
    assert remote.results[1].verified
