"""The training-set benchmark: kbound on about 8 GB of text as JSON-lines and Parquet shards; writes bench/SCALE.md.

    python bench/bench_scale.py [--data DIR] [--gb 8] [--shards 16] [--corpora DIR] [--out bench/SCALE.md]

It builds the corpus from the shared texts (../shared/corpora beside the repository, or
--corpora): their paragraphs as documents, copied with a different seeded letter substitution
each time so that no copy repeats another verbatim, written as `--shards` .jsonl.zst files and
the same documents as Parquet files, plus a 2 GB plain text file. The data goes to --data (kept,
and reused by the next run) or to a temporary directory removed at the end. Without the shared
texts it says so and exits 0.

Then, each measured for wall time, the parent's peak RSS, the process tree's peak PSS (sampled),
the named temporary bytes under a TMPDIR of its own, and the load average:
  1. throughput: `kbound big.txt -b zstd:3 --no-cache` between two runs of
     `zstd -3 -T1 -c big.txt | zstd -dc | sha256sum`, and the ratio to their mean;
  2. JSON-lines parsing: text bytes per second of one core reading an uncompressed shard;
  3. the JSON-lines shards with -b zstd:3: in one piece, sharded (--shard-size 1GB), and the
     sharded run on a 2-worker Dask LocalCluster whose workers have their own TMPDIR;
  4. the Parquet files in one piece: the same corpus and payloads as the JSON lines;
  5. resume: the sharded run stopped (SIGTERM) half way, then run again with the same cache;
  6. cost per preset: CPU seconds per MB of each --effort on a 20 MB sample, as core-hours per TB;
  7. repeated content: bench/bench_dedup.py (far-apart exact copies and near copies beside their
     deduplicated twins, with and without the duplicate stage);
  8. overhead and scratch: `-b zstd:3` on the plain file, the JSON-lines shards and the Parquet files
     against the zstd CLI round trip over the same data (CPU seconds of each process tree, and wall),
     with the peak scratch disk of each kbound run (named and unlinked temporary files).
  9. planning on a sample: bench/bench_plan.py (`--effort max --plan` against `--effort max` on a
     corpus of prose and code in two sources, and `kbound plan`'s predicted core-hours against the
     measured ones for each effort on two corpora).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Run, dir_bytes, load, measure, mib

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpora"
KBOUND = [sys.executable, "-c", "from kbound.cli import main; main()"]
GB = 10**9


def paragraph_documents(text: str, size: int = 2000) -> list[str]:
    """A text's paragraphs, merged into documents of at least `size` characters (the last may be shorter)."""
    docs: list[str] = []
    current: list[str] = []
    n = 0
    for para in text.split("\n\n"):
        current.append(para)
        n += len(para) + 2
        if n >= size:
            docs.append("\n\n".join(current))
            current, n = [], 0
    if current:
        docs.append("\n\n".join(current))
    return docs


def base_documents(corpora: Path) -> list[str]:
    """The shared texts' paragraphs, merged into documents of at least 2,000 characters."""
    docs: list[str] = []
    for path in sorted(corpora.rglob("*.txt")):
        docs += paragraph_documents(path.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n"))
    return docs


def _substitution(seed: int) -> dict[int, str]:
    rng = random.Random(seed)
    lower = list(string.ascii_lowercase)
    rng.shuffle(lower)
    table = {ord(a): b for a, b in zip(string.ascii_lowercase, lower, strict=True)}
    table.update({ord(a.upper()): b.upper() for a, b in zip(string.ascii_lowercase, lower, strict=True)})
    return table


def _write_shard(args: tuple[Path, int, list[int], list[str]]) -> int:
    """One shard: the base documents under each of its copies' substitutions, as .jsonl.zst and .parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import zstandard

    data, index, copies, docs = args
    texts: list[str] = []
    for copy in copies:
        table = _substitution(copy)
        texts.extend(d.translate(table) for d in docs)
    with (open(data / f"shard-{index:03d}.jsonl.zst", "wb") as raw,
          zstandard.ZstdCompressor(level=3).stream_writer(raw) as out):
        for i, t in enumerate(texts):
            out.write(json.dumps({"id": f"{index}-{i}", "text": t}).encode() + b"\n")
    pq.write_table(pa.table({"id": [f"{index}-{i}" for i in range(len(texts))], "text": texts}),
                   data / "parquet" / f"shard-{index:03d}.parquet", compression="zstd", row_group_size=16384)
    return sum(len(t.encode()) for t in texts)


def build(data: Path, corpora: Path, gb: float, shards: int) -> dict[str, Any]:
    """Write the shards (unless a finished build is there already) and return what was built."""
    marker = data / "BUILT.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    (data / "parquet").mkdir(parents=True, exist_ok=True)
    docs = base_documents(corpora)
    base = sum(len(d.encode()) for d in docs)
    copies = max(shards, round(gb * GB / base))
    per = [list(range(k, copies, shards)) for k in range(shards)]
    t0 = time.perf_counter()
    with multiprocessing.Pool(2) as pool:
        text_bytes = sum(pool.map(_write_shard, [(data, k, per[k], docs) for k in range(shards)]))
    # The plain file for the throughput comparison: the first 2 GB of the same kind of text.
    with open(data / "big.txt", "wb") as f:
        written, copy = 0, 10_000
        while written < 2 * GB:
            table = _substitution(copy)
            for d in docs:
                chunk = (d.translate(table) + "\n").encode()
                f.write(chunk[: 2 * GB - written])
                written = min(2 * GB, written + len(chunk))
                if written >= 2 * GB:
                    break
            copy += 1
    built = {"documents": len(docs) * copies, "copies": copies, "text_bytes": text_bytes, "shards": shards,
             "jsonl_zst_bytes": sum(p.stat().st_size for p in data.glob("shard-*.jsonl.zst")),
             "parquet_bytes": sum(p.stat().st_size for p in (data / "parquet").glob("*.parquet")),
             "big_txt_bytes": (data / "big.txt").stat().st_size, "build_seconds": round(time.perf_counter() - t0)}
    marker.write_text(json.dumps(built, indent=2))
    return built


def kbound(args: list[str], tmp: Path, **kw: Any) -> tuple[Run, dict[str, Any] | None]:
    """kbound with JSON output, measured; the report (None when it was stopped)."""
    run = measure([*KBOUND, *args, "--no-progress", "-f", "json"], tmpdir=tmp, **kw)
    doc = json.loads(run.stdout) if run.returncode == 0 and run.stdout else None
    return run, doc


def row(name: str, run: Run, doc: dict[str, Any] | None, extra: str = "") -> str:
    total = "-" if doc is None or doc["best"] is None else f"{doc['best']['total_bytes']:,}"
    return (f"| {name} | {run.wall_seconds:,.1f} | {mib(run.parent_peak_rss_bytes)} | {mib(run.tree_pss_bytes)} | "
            f"{mib(run.scratch_bytes)} | {total} | {run.load_before:.2f} | {extra} |")


def sha(doc: dict[str, Any] | None) -> str:
    return "-" if doc is None else str(doc["corpus"]["sha256"])


def totals(doc: dict[str, Any] | None) -> list[tuple[str, int | None]]:
    return [] if doc is None else [(r["spec"], r["total_bytes"]) for r in doc["results"]]


def throughput(data: Path, tmp: Path, lines: list[str]) -> None:
    big = data / "big.txt"
    pipeline = ["sh", "-c", f"zstd -3 -T1 -c '{big}' | zstd -dc | sha256sum"]
    cli1 = measure(pipeline)
    run, doc = kbound([str(big), "-b", "zstd:3", "--no-cache"], tmp / "t1")
    cli2 = measure(pipeline)
    mean = (cli1.wall_seconds + cli2.wall_seconds) / 2
    sha_cli = cli1.stdout.split()[0].decode()
    sha_kb = None if doc is None else doc["corpus"]["sha256"]
    lines += [
        "## 1. Throughput: one 2 GB plain file, `-b zstd:3`", "",
        f"`kbound {big.name} -b zstd:3 --no-cache` against `zstd -3 -T1 -c {big.name} | zstd -dc | sha256sum` "
        "(the CLI timed just before and just after):", "",
        "| command | wall s | load |", "|---|---:|---:|",
        f"| zstd CLI round trip (before) | {cli1.wall_seconds:.1f} | {cli1.load_before:.2f} |",
        f"| kbound (raw and zstd:3, verified) | {run.wall_seconds:.1f} | {run.load_before:.2f} |",
        f"| zstd CLI round trip (after) | {cli2.wall_seconds:.1f} | {cli2.load_before:.2f} |", "",
        f"- ratio kbound / CLI mean: **{run.wall_seconds / mean:.2f}x** (target ≤ 2x, aim 1.5x)",
        f"- the same sha256 from both: **{sha_cli == sha_kb}** ({sha_cli[:16]}…); parent peak RSS "
        f"{mib(run.parent_peak_rss_bytes)} MiB, tree peak PSS {mib(run.tree_pss_bytes)} MiB", "",
    ]


def parsing(data: Path, tmp: Path, lines: list[str]) -> None:
    import zstandard

    from kbound.sources import open_corpus
    from kbound.sources.stream import scan

    plain = tmp / "one-shard.jsonl"
    with open(data / "shard-000.jsonl.zst", "rb") as src, open(plain, "wb") as out:
        zstandard.ZstdDecompressor().copy_stream(src, out)
    with open_corpus([str(plain)], field="text") as corpus:
        t0, c0 = time.perf_counter(), time.process_time()
        stats = scan(corpus.selection())
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    lines += [
        "## 2. JSON-lines parsing", "",
        f"Reading one uncompressed shard ({plain.stat().st_size / GB:.2f} GB of JSON lines, "
        f"{stats.documents:,} documents, {stats.bytes / GB:.2f} GB of text) through kbound's reader, with the "
        f"stream's sha256 and character count: **{stats.bytes / cpu / 1e6:,.0f} MB of text per CPU second** "
        f"({stats.bytes / wall / 1e6:,.0f} MB/s wall; load {load():.2f}; target ≥ 100).", "",
    ]
    plain.unlink()


def scale_runs(data: Path, tmp: Path, lines: list[str], shard_size: str) -> None:
    jsonl = [str(data), "--glob", "*.jsonl.zst", "--field", "text", "-b", "zstd:3"]
    parquet = [str(data / "parquet"), "--field", "text", "-b", "zstd:3"]
    head = ["| run | wall s | parent peak RSS MiB | tree peak PSS MiB | peak scratch MiB | best total B | load "
            "| notes |",
            "|---|---:|---:|---:|---:|---:|---:|---|"]
    out = ["## 3-5. The shards with `-b zstd:3`", "", *head]
    whole, wdoc = kbound([*jsonl, "--no-cache"], tmp / "a")
    out.append(row("JSON lines, one piece per backend", whole, wdoc))
    print("whole", whole.wall_seconds, flush=True)
    sharded, sdoc = kbound([*jsonl, "--no-cache", "--shard-size", shard_size], tmp / "b")
    shards = None if sdoc is None else sdoc["sharding"]["shards"]
    out.append(row(f"JSON lines, --shard-size {shard_size}", sharded, sdoc, f"{shards} shards"))
    print("sharded", sharded.wall_seconds, flush=True)
    pq_run, pdoc = kbound([*parquet, "--no-cache"], tmp / "c")
    out.append(row("Parquet, one piece per backend", pq_run, pdoc))
    print("parquet", pq_run.wall_seconds, flush=True)
    from distributed import LocalCluster

    worker_tmp = tmp / "dask-workers"
    worker_tmp.mkdir(parents=True, exist_ok=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,
                      env={"TMPDIR": str(worker_tmp)}) as cluster:
        dask_run, ddoc = kbound([*jsonl, "--no-cache", "--shard-size", shard_size, "--scheduler",
                                 cluster.scheduler_address], tmp / "d")
    out.append(row("JSON lines on Dask (2 workers, own TMPDIR)", dask_run, ddoc,
                   f"worker temp after: {mib(dir_bytes(worker_tmp))} MiB"))
    print("dask", dask_run.wall_seconds, flush=True)
    cache = tmp / "resume-cache"
    results = cache / "results"
    n_tasks = 0 if sdoc is None else sdoc["sharding"]["tasks"]
    stopped, _ = kbound([*jsonl, "--shard-size", shard_size, "--cache-dir", str(cache)], tmp / "e", check=False,
                        stop_when=lambda: results.exists() and sum(1 for _ in results.rglob("*.json")) >= n_tasks // 2)
    stored = sum(1 for _ in results.rglob("*.json")) if results.exists() else 0
    resumed, rdoc = kbound([*jsonl, "--shard-size", shard_size, "--cache-dir", str(cache)], tmp / "f")
    cached = None if rdoc is None else rdoc["sharding"]["cached_tasks"]
    out.append(row("stopped half way (SIGTERM)", stopped, None, f"exit {stopped.returncode}; {stored} of {n_tasks} "
                   "tasks stored"))
    out.append(row("the same, run again", resumed, rdoc, f"{cached} of {n_tasks} tasks from the cache"))
    print("resume", stopped.wall_seconds, resumed.wall_seconds, flush=True)
    cost = {} if sdoc is None else sdoc["sharding"]["cost"]
    out += [
        "",
        f"- text: {0 if wdoc is None else wdoc['corpus']['bytes']:,} bytes, "
        f"{0 if wdoc is None else wdoc['corpus']['documents']:,} documents",
        f"- JSON lines and Parquet give the same corpus (sha256 {sha(wdoc)[:16]}…): **{sha(wdoc) == sha(pdoc)}**, "
        f"and the same payloads: **{totals(wdoc) == totals(pdoc)}**",
        f"- the Dask bound equals the local sharded bound byte for byte: **{totals(sdoc) == totals(ddoc)}**",
        f"- the resumed run's totals equal the uninterrupted run's: **{totals(rdoc) == totals(sdoc)}**",
        "- sharding cost (the first shard against its two halves): "
        + ", ".join(f"`{k}` {100 * v:+.3f} %" for k, v in cost.items() if v is not None),
        "",
    ]
    lines += out


def overhead(data: Path, tmp: Path, lines: list[str]) -> None:
    """Part 8: kbound -b zstd:3 against `zstd -dc | zstd -3 -T1 | zstd -dc | sha256sum` on the same data."""
    shards = sorted(data.glob("shard-*.jsonl.zst"))
    big = data / "big.txt"
    jsonl_pipe = "for f in " + " ".join(f"'{p}'" for p in shards) + \
        "; do zstd -dc \"$f\" | zstd -3 -T1 -c | zstd -dc | sha256sum; done"
    runs = [
        ("plain file", f"zstd -3 -T1 -c '{big}' | zstd -dc | sha256sum", [str(big)]),
        ("JSON lines (.jsonl.zst)", jsonl_pipe, [str(data), "--glob", "*.jsonl.zst", "--field", "text"]),
        ("JSON lines, `--dedup off`", jsonl_pipe,
         [str(data), "--glob", "*.jsonl.zst", "--field", "text", "--dedup", "off"]),
        ("Parquet (against the JSON-lines pipeline)", jsonl_pipe, [str(data / "parquet"), "--field", "text"]),
    ]
    out = ["## 8. Overhead per byte and scratch disk, `-b zstd:3`", "",
           "kbound (the `raw` and `zstd:3` rows, verified) against the zstd CLI round trip over the same data "
           "(`zstd -dc | zstd -3 -T1 | zstd -dc | sha256sum` per shard; for the plain file without the first "
           "step), each timed just before kbound. CPU: user + system seconds of the whole process tree (kbound's "
           "includes the duplicate stage's pass 1 on a directory, unless `--dedup off`). Scratch: the peak of the "
           "temporary files kbound held, named or not (on a directory, the duplicate stage's index records).", "",
           "| data | pipeline CPU s | kbound CPU s | CPU ratio | pipeline wall s | kbound wall s | wall ratio | "
           "peak scratch MiB | load |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, pipe, args in runs:
        cli = measure(["sh", "-c", pipe])
        run, _ = kbound([*args, "-b", "zstd:3", "--no-cache"], tmp / "overhead")
        out.append(f"| {name} | {cli.cpu_seconds:.1f} | {run.cpu_seconds:.1f} | "
                   f"**{run.cpu_seconds / cli.cpu_seconds:.2f}x** | {cli.wall_seconds:.1f} | {run.wall_seconds:.1f} | "
                   f"{run.wall_seconds / cli.wall_seconds:.2f}x | {mib(run.scratch_bytes)} | {run.load_before:.2f} |")
        print(out[-1], flush=True)
    lines += [*out, ""]


def presets(data: Path, tmp: Path, lines: list[str]) -> None:
    sample = tmp / "sample-20MB.txt"
    with open(data / "big.txt", "rb") as f:
        sample.write_bytes(f.read(20 * 10**6))
    out = ["## 6. What a terabyte costs, per preset", "",
           "CPU seconds per MB (compress + verify, every backend of the preset, the workers' own times) on a "
           "20 MB sample of the text, as core-hours per TB of text (the codecs run in linear time; the wall "
           "time on N cores is about this over N):", "",
           "| effort | wall s (2 cores) | CPU s per MB | core-hours per TB | best bpb | load |",
           "|---|---:|---:|---:|---:|---:|"]
    for effort in ("fast", "default", "max"):
        run, doc = kbound([str(sample), "--effort", effort, "--no-cache"], tmp / f"p-{effort}")
        assert doc is not None
        cpu = sum((r["compress_seconds"] or 0) + (r["decompress_seconds"] or 0) for r in doc["results"])
        per_mb = cpu / 20
        out.append(f"| {effort} | {run.wall_seconds:.1f} | {per_mb:.2f} | {per_mb * 1e6 / 3600:,.0f} | "
                   f"{doc['best']['bits_per_byte']:.3f} | {run.load_before:.2f} |")
        print(effort, run.wall_seconds, flush=True)
    lines += [*out, ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="keep (and reuse) the built corpus here")
    parser.add_argument("--corpora", type=Path, default=SHARED, help="the texts to build it from")
    parser.add_argument("--gb", type=float, default=8.0)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--shard-size", default="1GB", help="--shard-size for the sharded runs")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "SCALE.md")
    parser.add_argument("--only", default="1,2,3,6,7,8,9", help="which parts to run (1: throughput, 2: parsing, "
                        "3: the shard runs, 4 and 5 included, 6: presets, 7: repeated content, bench_dedup.py, "
                        "8: overhead against the zstd CLI and peak scratch, 9: planning on a sample, bench_plan.py)")
    parser.add_argument("--plan-mb", default="20", help="part 9: the mixed corpus's size in MB")
    parser.add_argument("--plan-size", default="2MB", help="part 9: --plan SIZE")
    parser.add_argument("--dedup-gb", default="2", help="part 7: the size of the corpus with exact copies")
    args = parser.parse_args()
    if not args.corpora.is_dir():
        print(f"bench_scale: no corpora at {args.corpora}; skipping (give --corpora DIR)")
        return 0
    for tool in ("zstd", "sha256sum"):
        if shutil.which(tool) is None:
            print(f"bench_scale: {tool} is not installed (apt-get install zstd); skipping")
            return 0
    keep = args.data is not None
    data = args.data or Path(tempfile.mkdtemp(prefix="kbound-scale-data-"))
    tmp = Path(tempfile.mkdtemp(prefix="kbound-scale-tmp-"))
    try:
        t0 = time.perf_counter()
        built = build(data, args.corpora, args.gb, args.shards)
        print(f"data: {built}", flush=True)
        uname = os.uname()
        lines = [
            "# kbound at training-set scale", "",
            f"`make bench-scale` (`bench/bench_scale.py`), {time.strftime('%Y-%m-%d')}, on {uname.machine} with "
            f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
            f"Python {sys.version.split()[0]}.", "",
            f"The corpus: {built['text_bytes'] / GB:.2f} GB of text in {built['documents']:,} documents (the shared "
            f"texts' paragraphs, {built['copies']} copies, each under its own letter substitution), as "
            f"{built['shards']} .jsonl.zst files ({built['jsonl_zst_bytes'] / GB:.2f} GB) and as "
            f"{built['shards']} Parquet files ({built['parquet_bytes'] / GB:.2f} GB, zstd); plus a 2 GB plain "
            "text file. Memory: the parent's own peak RSS, and the peak of the whole process tree's summed PSS "
            "(sampled every 0.1 s). Peak scratch: temporary files under the run's own TMPDIR and unlinked ones "
            "the process tree holds open.", "",
        ]
        parts = set(args.only.split(","))
        if "1" in parts:
            throughput(data, tmp, lines)
        if "2" in parts:
            parsing(data, tmp, lines)
        if "3" in parts:
            scale_runs(data, tmp, lines, args.shard_size)
        if "6" in parts:
            presets(data, tmp, lines)
        if "8" in parts:
            overhead(data, tmp, lines)
        if "7" in parts:
            part = tmp / "dedup.md"
            subprocess.run([sys.executable, str(Path(__file__).with_name("bench_dedup.py")), "--gb", args.dedup_gb,
                            "--corpora", str(args.corpora), "--out", str(part)], check=True)
            lines += [part.read_text()]
            gcide = args.corpora / "gcide.txt"
            speed = subprocess.run([sys.executable, str(Path(__file__).with_name("bench_chunking.py")),
                                    *([str(gcide)] if gcide.is_file() else [])],
                                   check=True, capture_output=True, text=True)
            lines += ["### Pass 1 alone: chunking and naming (`bench/bench_chunking.py`)", "", speed.stdout]
        if "9" in parts:
            part = tmp / "plan.md"
            subprocess.run([sys.executable, str(Path(__file__).with_name("bench_plan.py")), "--mb", args.plan_mb,
                            "--plan", args.plan_size, "--corpora", str(args.corpora), "--out", str(part)], check=True)
            lines += [part.read_text()]
        lines.append(f"Whole benchmark: {(time.perf_counter() - t0) / 60:.0f} minutes.")
        args.out.write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not keep:
            shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
