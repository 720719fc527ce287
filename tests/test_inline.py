"""Verification beside the encoder: no scratch file for raw and the dictionary coders, the same payloads, and
a wrong decoder still named at its first wrong byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from corpus_helpers import corpus_of
from kbound.backends.base import Coder
from kbound.backends.raw import Raw
from kbound.backends.registry import parse_spec, verifies_inline
from kbound.run import worker
from kbound.run.worker import Task, run_task

INLINE = ["raw", "zlib:6", "bz2:9", "xz:6", "zstd:3", "zstd:19,long=27", "brotli:5,w=22"]


def _task(spec_or_backend: Any, path: Path) -> Task:
    backend = parse_spec(spec_or_backend) if isinstance(spec_or_backend, str) else spec_or_backend
    return Task(backend, corpus_of(path).selection(), path.stat().st_size, measure_decoder=False)


@pytest.fixture
def no_scratch(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every temporary file the worker asks for fail, recording who asked."""
    asked: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        asked.append(str(kwargs.get("prefix")))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(worker.tempfile, "TemporaryFile", refuse)
    return asked


@pytest.mark.parametrize("spec", INLINE)
def test_raw_and_the_dictionary_coders_are_verified_without_a_scratch_file(
    spec: str, no_scratch: list[str], shakespeare: Path
) -> None:
    # Before, every payload (raw's: the corpus itself) went to a temporary file first: a full disk failed them all.
    result = run_task(_task(spec, shakespeare))
    assert result.get("verified") is True, result
    assert no_scratch == []
    assert result["payload_bytes"] == len(parse_spec(spec).compress(shakespeare.read_bytes()))
    assert result["decompress_seconds"] >= 0 and result["cpu_seconds"] >= 0


def test_raws_payload_is_the_corpus_and_its_framing(no_scratch: list[str], shakespeare: Path) -> None:
    size = shakespeare.stat().st_size  # 1,115,394 bytes: one 1 MiB piece (3-byte length), the rest (3), the end (1)
    result = run_task(_task("raw", shakespeare))
    assert result["payload_bytes"] == size + 3 + 3 + 1 == 1_115_401


def test_a_symmetric_model_still_spools_its_payload(no_scratch: list[str], alice: Path) -> None:
    # ppmd's decoder is as big as its encoder: it is decoded after the encoder is released, from a file.
    assert not verifies_inline(parse_spec("ppmd:6,mem=16m"))
    result = run_task(_task("ppmd:6,mem=16m", alice))
    assert "no space left" in result["error"] and no_scratch == ["kbound-payload-"]


class _Corrupt(Raw):
    """`raw` whose decoder flips one byte far into the stream, verified inline."""

    verifies_inline = True

    def decompressor(self) -> Coder:
        inner = super().decompressor()

        class Flip:
            seen = 0

            def process(self, chunk: bytes) -> bytes:
                out = bytearray(inner.process(chunk))
                at = 1_050_000 - Flip.seen
                if 0 <= at < len(out):
                    out[at] ^= 0xFF
                Flip.seen += len(out)
                return bytes(out)

            def finish(self) -> bytes:
                return inner.finish()

        return Flip()


def test_an_inline_round_trip_that_fails_names_the_first_wrong_byte_without_a_scratch_file(
    no_scratch: list[str], shakespeare: Path
) -> None:
    result = run_task(_task(_Corrupt(), shakespeare))
    assert result["error"] == ("round trip failed: decoder returned 1,115,394 of 1,115,394 bytes; "
                               "first wrong byte at 1,050,000")
    assert no_scratch == []


def test_a_third_party_backend_is_spooled_unless_it_says_otherwise(no_scratch: list[str], alice: Path) -> None:
    class Plain(Raw):  # not built in: its card does not speak for it
        pass

    assert verifies_inline(Raw()) and not verifies_inline(Plain()) and verifies_inline(_Corrupt())
    assert "no space left" in run_task(_task(Plain(), alice))["error"] and no_scratch == ["kbound-payload-"]


def test_raw_rides_on_a_fast_task_and_every_row_records_its_cpu_seconds(alice: Path) -> None:
    import kbound
    from kbound.report.estimate import report_to_dict
    from kbound.run.engine import rides

    tasks = [_task(s, alice) for s in ("raw", "zstd:3", "xz:9e")]
    assert rides(tasks) == {0: 1}  # zstd:3 reads for both; xz:9e is too slow to carry the floor
    assert rides([_task(s, alice) for s in ("raw", "xz:9e")]) == {}
    report = kbound.estimate([str(alice)], ["zstd:3", "xz:9e"], use_cache=False)
    rows = {r["spec"]: r for r in report_to_dict(report)["results"]}
    assert rows["raw"]["verified"] and rows["raw"]["payload_bytes"] == 152_093
    assert all(isinstance(r["cpu_seconds"], float) and r["cpu_seconds"] >= 0 for r in rows.values())
    assert rows[parse_spec("xz:9e").spec]["cpu_seconds"] > rows["raw"]["cpu_seconds"]
