"""The duplicate stage's pass 1 alone: chunking and naming, in MB of text per CPU second.

    python bench/bench_chunking.py [TEXT] [--doc-chars 4000] [--runs 5] [--chunk-size 1024]

TEXT defaults to ../shared/corpora/gcide.txt beside the repository (40 MB of English); without
it and without a path the bench says so and exits 0. The text is cut at blank lines into
documents of about --doc-chars characters each (as bench_scale.py builds its corpora), and fed,
document by document with its separator, to the
same `kbound.dedup.index.Indexer` that pass 1 runs in each shard's `raw` worker: FastCDC
chunking, each chunk's BLAKE2b name, each document's XXH3-128 name, and the records split into
partitions at the end. Reading and parsing the shards is not counted (parts 1-2 of
`bench_scale.py` measure those). Time is this process's CPU (user + system), so the figure is a
one-core rate even on a busy machine; the first run, which compiles the numba kernel, is shown
apart. The issue's target: at least 200 MB per CPU second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import paragraph_documents

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "corpora" / "gcide.txt"


def one_run(docs: list[bytes], chunk_size: int) -> tuple[float, int]:
    """CPU seconds of pass 1 over the documents, and the chunks it cut."""
    from kbound.dedup.chunking import Chunking
    from kbound.dedup.index import META, Indexer
    from kbound.sources.stream import DOCUMENT, SEPARATOR

    indexer = Indexer(Chunking(chunk_size // 4, chunk_size, chunk_size * 8), shard=0, partitions=1)
    t0 = time.process_time()
    for d in docs:
        indexer.feed(d, DOCUMENT)
        indexer.feed(b"\n", SEPARATOR)
    out = indexer.finish()
    return time.process_time() - t0, int(out[META]["chunks"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("text", nargs="?", type=Path, default=None)
    parser.add_argument("--doc-chars", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chunk-size", type=int, default=1024)
    args = parser.parse_args()
    if args.text is not None and not args.text.is_file():
        print(f"error: {args.text} is not a readable file", file=sys.stderr)
        return 2
    path = args.text or DEFAULT
    if not path.is_file():
        print(f"skipped: no text at {path} (give a path: python bench/bench_chunking.py TEXT)")
        return 0
    text = path.read_bytes()
    docs = [d.encode() for d in paragraph_documents(text.decode("utf-8", "replace"), args.doc_chars)]
    total = sum(len(d) + 1 for d in docs)
    first, chunks = one_run(docs, args.chunk_size)
    rates = [total / one_run(docs, args.chunk_size)[0] / 1e6 for _ in range(args.runs)]
    print(f"{path.name}: {total:,} bytes in {len(docs):,} documents of about {args.doc_chars:,} characters; "
          f"{chunks:,} chunks ({total / max(chunks, 1):,.0f} bytes a chunk, average set {args.chunk_size:,})")
    print(f"first run (compiles the kernel): {total / first / 1e6:,.0f} MB per CPU second")
    print(f"next {args.runs} runs: median {statistics.median(rates):,.0f}, min {min(rates):,.0f}, "
          f"max {max(rates):,.0f} MB per CPU second (target >= 200); load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
