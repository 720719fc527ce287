"""Each renderer is a pure function of a Report: exact output for a report built by hand."""

from __future__ import annotations

import json

from kbound.bounds.results import BackendResult, Best, CorpusSummary, Report
from kbound.report import render


def _row(spec: str, payload: int | None, decoder: int | None, status: str = "verified",
         error: str | None = None) -> BackendResult:
    total = None if payload is None or decoder is None else payload + decoder
    return BackendResult(
        spec=spec, backend=spec.split(":")[0], library="lib", library_version="1.0", config={"id": spec},
        status=status, payload_bytes=payload, decoder_bytes=decoder, total_bytes=total,
        bits_per_byte=None if total is None else 8 * total / 1000,
        bits_per_char=None if total is None else 8 * total / 800,
        payload_bits_per_byte=None if payload is None else 8 * payload / 1000,
        compress_seconds=0.5, decompress_seconds=0.25, decoder_method="m", error=error,
    )


REPORT = Report(
    corpus=CorpusSummary(bytes=1000, chars=800, chars_note=None, documents=2, separator="\x1e",
                         sha256="ab" * 32, sources=("a.txt", "b.txt")),
    results=(
        _row("raw", 1002, 10),
        _row("zlib:9", 400, 90),
        _row("ppmd:6,mem=16m,v=H", None, None, "failed", "round trip failed: decoder returned 5 of 1,000 bytes"),
    ),
    best=Best(spec="zlib:9", total_bits=3921, selector_bits=1, candidates=2, verified=True,
              bits_per_byte=3.921, bits_per_char=3921 / 800),
    settings={"backends": ["raw", "zlib:9", "ppmd:6,mem=16m,v=H"], "effort": None, "verify": True, "jobs": 2},
    kbound_version="9.9.9",
)


def test_lines() -> None:
    # The best first, as the bound: zlib:9's 490 bytes and the bits that choose it, as `best` has them.
    assert REPORT.best is not None and REPORT.best.total_bytes == 491
    assert render(REPORT, "lines") == "zlib:9\t491\t3.921000\nraw\t1012\t8.096000\n"


def test_markdown() -> None:
    assert render(REPORT, "md", timings=False) == (
        "Corpus: 1,000 bytes, 800 UTF-8 chars, 2 documents joined with '\\x1e', sha256 abababababababab…\n"
        "\n"
        "| backend | payload B | decoder B | total B | bpb | bpc | verified |\n"
        "|---|---:|---:|---:|---:|---:|---|\n"
        "| `raw` | 1,002 | 10 | 1,012 | 8.096 | 10.120 | ✓ |\n"
        "| **`zlib:9`** | **400** | **90** | **490** | **3.920** | **4.900** | **✓** |\n"
        "| `ppmd:6,mem=16m,v=H` | - | - | - | - | - | ✗ round trip failed: decoder returned 5 of 1,000 bytes |\n"
        "\n"
        "Best bound: K(corpus) <= 491 bytes with zlib:9 (payload 400 + decoder 90 bytes + 1 bit to choose among"
        " 2 backends); 3.921 bits/byte, 4.901 bits/char; verified.\n"
        "\n"
        "This is an upper bound on the Kolmogorov complexity K(corpus), up to an additive constant for the"
        " reference machine (CPython with NumPy): a program of this size prints the corpus. The true K may be far"
        " lower; no program can compute it.\n"
    )


def test_csv() -> None:
    lines = render(REPORT, "csv").splitlines()
    assert lines[0] == (
        "spec,backend,library,version,status,verified,payload_bytes,decoder_bytes,total_bytes,bits_per_byte,"
        "bits_per_char,payload_bits_per_byte,compress_seconds,decompress_seconds,cpu_seconds,decoder_method,error,dedup,"
        "cached,"
        "peak_rss_bytes"
    )
    assert lines[2] == "zlib:9,zlib,lib,1.0,verified,True,400,90,490,3.92,4.9,3.2,0.5,0.25,,m,,False,False,"
    assert lines[3].startswith("\"ppmd:6,mem=16m,v=H\",ppmd,lib,1.0,failed,False,,,,,,,0.5,0.25,,m,")


def test_json() -> None:
    doc = json.loads(render(REPORT, "json", timings=False))
    assert list(doc) == [
        "schema", "kbound_version", "settings", "corpus", "results", "best", "models", "tokens", "baseline",
        "interrupted",
    ]
    assert doc["best"] == {
        "backend": "zlib:9", "total_bytes": 491, "total_bits": 3921, "selector_bits": 1, "candidates": 2,
        "bits_per_byte": 3.921, "bits_per_char": 4.90125, "verified": True,
    }
    assert doc["results"][2]["status"] == "failed" and doc["results"][2]["total_bytes"] is None
    assert "compress_seconds" not in doc["results"][0]


def test_table_plain_and_coloured() -> None:
    plain = render(REPORT, "table", color=False, width=160)
    assert "zlib:9 ◀ best" in plain and "✗ round trip failed" in plain and "\x1b[" not in plain
    assert "\x1b[" in render(REPORT, "table", color=True, width=160)
