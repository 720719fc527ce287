"""Part 7 of `make bench-scale`: repeated content in a training set, with and without the duplicate stage.

    python bench/bench_dedup.py [--gb 2] [--shards 16] [--efforts fast,default] [--corpora DIR] [--out FILE]

Builds four JSON-lines corpora (.jsonl.zst shards in two source directories, web/ and books/) from
the shared texts' paragraphs (documents of at least 2,000 characters, each copy of the texts under
its own seeded letter substitution, so no two originals repeat):
  - `exact`: a share (--copies, 40 %) of the documents of every shard but the first are exact copies
    of documents drawn from earlier shards (far apart: another shard, often gigabytes back);
  - `exact-dedup`: the same without the copies;
  - `near`: a share (--near, 20 %) are copies of earlier documents of 4 kB or more with 4 words
    replaced by other words of the same document;
  - `near-dedup`: the same without them.
Then, each measured (wall, the process tree's peak PSS, load): kbound's best bound for each
--effort on each corpus in one piece per backend (as a user runs it); `exact` and its twin with
--by-source --shard-size (about a file a shard), locally and on a 2-worker Dask LocalCluster,
whose rows must equal the local ones; `zstd -19 --ultra --long=31` on each corpus's text as the
best single-tool long-range reference; the stage's cost: `-b zstd:3` on `exact-dedup` with
`--dedup off` and `auto`; and (7c, `bench_sources.py`) `exact` with its sources in a field.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import KBOUND, SHARED, _substitution, base_documents
from bench_sources import sources_lines
from measure import Run, measure, mib

ROOT = Path(__file__).resolve().parent.parent
GB = 10**9
Doc = tuple[int, int, int]  # (base document, substitution seed, near-copy seed or -1)


def _text(docs: list[str], d: Doc) -> str:
    base, seed, edit = d
    text = docs[base].translate(_substitution(seed))
    if edit < 0:
        return text
    rng = random.Random(edit)
    words = text.split(" ")
    for _ in range(4):
        words[rng.randrange(len(words))] = rng.choice(words)
    return " ".join(words)


def layout(docs: list[str], gb: float, shards: int, copies: float, near: float, seed: int = 1) -> list[list[Doc]]:
    """Which document goes where: originals in order, copies drawn from earlier shards."""
    rng = random.Random(seed)
    sizes = [len(d.encode()) for d in docs]
    target = gb * GB / shards
    out: list[list[Doc]] = []
    earlier: list[Doc] = []
    long_earlier: list[Doc] = []
    sub, base = 0, 0
    for k in range(shards):
        shard: list[Doc] = []
        filled = 0
        while filled < target:
            r = rng.random()
            if k and r < copies:
                d = rng.choice(earlier)
            elif k and copies <= r < copies + near and long_earlier:
                b, s, _ = rng.choice(long_earlier)
                d = (b, s, rng.randrange(1 << 30))
            else:
                d = (base, sub, -1)
                base += 1
                if base == len(docs):
                    base, sub = 0, sub + 1
            shard.append(d)
            filled += sizes[d[0]]
        out.append(shard)
        earlier += [d for d in shard if d[2] < 0]
        long_earlier += [d for d in shard if d[2] < 0 and sizes[d[0]] >= 4000]
    return out


def _write(args: tuple[Path, int, list[Doc], list[str], int]) -> int:
    import zstandard

    root, k, shard, docs, shards = args
    # Named so that corpus order (paths sorted) is the layout order: a copy always follows its original.
    source = root / ("2-books" if k >= shards * 3 // 4 else "1-web")
    source.mkdir(parents=True, exist_ok=True)
    n = 0
    with (open(source / f"part-{k:03d}.jsonl.zst", "wb") as raw,
          zstandard.ZstdCompressor(level=3).stream_writer(raw) as out):
        for i, d in enumerate(shard):
            text = _text(docs, d)
            n += len(text.encode())
            out.write(json.dumps({"id": f"{k}-{i}", "text": text}).encode() + b"\n")
    return n


def build(data: Path, corpora: Path, gb: float, shards: int, copies: float, near: float) -> dict[str, Any]:
    """Write the four corpora (unless built already) and say what they hold."""
    marker = data / "BUILT.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    docs = base_documents(corpora)
    exact = layout(docs, gb, shards, copies, 0.0)
    near_layout = layout(docs, gb * (1 - copies) / (1 - near), shards, 0.0, near, seed=2)
    plans = {"exact": exact, "exact-dedup": _without_repeats(exact)}
    plans["near"] = near_layout
    plans["near-dedup"] = [[d for d in s if d[2] < 0] for s in near_layout]
    built: dict[str, Any] = {}
    with multiprocessing.Pool(2) as pool:
        for name, plan in plans.items():
            root = data / name
            sizes = pool.map(_write, [(root, k, s, docs, shards) for k, s in enumerate(plan)])
            built[name] = {"text_bytes": sum(sizes), "documents": sum(len(s) for s in plan)}
    marker.write_text(json.dumps(built, indent=2))
    return built


def _without_repeats(plan: list[list[Doc]]) -> list[list[Doc]]:
    seen: set[Doc] = set()
    out = []
    for s in plan:
        keep = []
        for d in s:
            if d not in seen:
                seen.add(d)
                keep.append(d)
        out.append(keep)
    return out


def kbound(args: list[str], tmp: Path) -> tuple[Run, dict[str, Any] | None]:
    run = measure([*KBOUND, *args, "--no-progress", "--no-cache", "-f", "json"], tmpdir=tmp)
    return run, (json.loads(run.stdout) if run.returncode == 0 and run.stdout else None)


def _best(doc: dict[str, Any] | None) -> int | None:
    return None if doc is None or doc["best"] is None else int(doc["best"]["total_bytes"])


def _row(doc: dict[str, Any] | None, spec: str) -> int | None:
    for r in [] if doc is None else doc["results"]:
        if r["spec"] == spec:
            return r["total_bytes"]
    return None


def zstd_long(root: Path, tmp: Path) -> tuple[int, float]:
    """`zstd -19 --ultra --long=31` on the corpus's text (documents joined by the separator), bytes and seconds."""
    text = tmp / "text.txt"
    from kbound.sources import open_corpus
    from kbound.sources.stream import CorpusStream

    with open_corpus([str(root)], field="text") as corpus, open(text, "wb") as out:
        for chunk in CorpusStream(corpus.selection()):
            out.write(chunk)
    t0 = time.perf_counter()
    size = int(subprocess.run(f"zstd -19 --ultra --long=31 -T1 -c '{text}' | wc -c", shell=True, check=True,
                              capture_output=True, text=True).stdout.split()[0])
    text.unlink()
    return size, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="keep (and reuse) the built corpora here")
    parser.add_argument("--corpora", type=Path, default=SHARED)
    parser.add_argument("--gb", type=float, default=2.0, help="size of the corpus with exact copies")
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--copies", type=float, default=0.4)
    parser.add_argument("--near", type=float, default=0.2)
    parser.add_argument("--efforts", default="fast,default")
    parser.add_argument("--shard-size", default=None, help="--shard-size of the runs [default: gb / shards]")
    parser.add_argument("--no-zstd-long", action="store_true", help="skip the zstd -19 --long=31 reference")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "DEDUP.md")
    args = parser.parse_args()
    if not args.corpora.is_dir():
        print(f"bench_dedup: no corpora at {args.corpora}; skipping (give --corpora DIR)")
        return 0
    keep = args.data is not None
    data = args.data or Path(tempfile.mkdtemp(prefix="kbound-dedup-data-"))
    tmp = Path(tempfile.mkdtemp(prefix="kbound-dedup-tmp-"))
    # About one file of `exact` a shard (filled to gb / shards, plus a document).
    shard_size = args.shard_size or f"{int(1.1 * args.gb * GB / args.shards)}"
    try:
        t0 = time.perf_counter()
        built = build(data, args.corpora, args.gb, args.shards, args.copies, args.near)
        print(f"data: {built}", flush=True)
        lines = [
            "## 7. Repeated content: far-apart copies and near copies", "",
            f"`bench/bench_dedup.py --gb {args.gb} --shards {args.shards}` ({time.strftime('%Y-%m-%d')}, "
            f"{os.cpu_count()} cores): four JSON-lines corpora of {args.shards} .jsonl.zst shards in two source "
            f"directories; `exact` has {args.copies:.0%} of the documents of shards 2-{args.shards} copied from "
            f"earlier shards, `near` {args.near:.0%} near copies (4 words changed in documents of 4 kB or more); "
            "each `-dedup` twin is the same without them. Every run `--no-cache`; the main runs in one piece per "
            "backend, as a user runs kbound.", "",
        ]
        for name, info in built.items():
            lines.append(f"- `{name}`: {info['text_bytes']:,} bytes of text, {info['documents']:,} documents")
        lines += ["", "| corpus | run | wall s | tree peak PSS MiB | best bound B | plain best B | load |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        efforts = args.efforts.split(",")
        bounds: dict[tuple[str, str], int | None] = {}
        plain: dict[tuple[str, str], int | None] = {}
        for effort in efforts:
            for name in ("exact", "exact-dedup", "near", "near-dedup"):
                # One piece per backend, as a user runs it: the literals of `exact` are then the twin's stream.
                run, doc = kbound([str(data / name), "--field", "text", "--effort", effort], tmp / f"{name}-{effort}")
                bounds[(name, effort)] = _best(doc)
                plain[(name, effort)] = None if doc is None else min(
                    (r["total_bytes"] for r in doc["results"] if not r["dedup"] and r["total_bytes"]), default=None)
                lines.append(f"| {name} | `--effort {effort}` | {run.wall_seconds:,.0f} | {mib(run.tree_pss_bytes)} | "
                             f"{bounds[(name, effort)] or '-':,} | {plain[(name, effort)] or '-':,} | "
                             f"{run.load_before:.2f} |")
                print(name, effort, run.wall_seconds, bounds[(name, effort)], flush=True)
        # Sharded by source (shards of the two corpora differ: the twin's smaller files group differently), locally
        # and on Dask: the Dask rows must equal the local ones byte for byte.
        sharded: dict[tuple[str, str], dict[str, Any] | None] = {}
        where = ["local"] if args.no_dask else ["local", "dask"]
        for place in where:
            for name in ("exact", "exact-dedup"):
                extra: list[str] = []
                cluster = None
                if place == "dask":
                    from distributed import LocalCluster

                    cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
                    extra = ["--scheduler", cluster.scheduler_address]
                try:
                    run, doc = kbound([str(data / name), "--field", "text", "--effort", efforts[0], "--shard-size",
                                       shard_size, "--by-source", *extra], tmp / f"{place}-{name}")
                finally:
                    if cluster is not None:
                        cluster.close()
                sharded[(place, name)] = doc
                same = ""
                if place == "dask":
                    ref = sharded[("local", name)]
                    same = "every row as local: **" + str(doc is not None and ref is not None and [
                        (r["spec"], r["total_bytes"]) for r in doc["results"]] == [
                        (r["spec"], r["total_bytes"]) for r in ref["results"]]) + "**"
                lines.append(f"| {name} | {place}, `--effort {efforts[0]} --by-source --shard-size {shard_size}` | "
                             f"{run.wall_seconds:,.0f} | {mib(run.tree_pss_bytes)} | {_best(doc) or '-':,} | "
                             f"{same} | {run.load_before:.2f} |")
                print(place, name, run.wall_seconds, flush=True)
        by_source = sharded[("local", "exact")]
        if by_source is not None and by_source.get("sources"):
            lines += ["", f"Per source, `exact` with `--by-source` (`--effort {efforts[0]}`):", "",
                      "| source | documents | bytes | repeated within | repeated earlier | adds B | own B |",
                      "|---|---:|---:|---:|---:|---:|---:|"]
            for src in by_source["sources"]:
                lines.append(f"| {Path(src['source']).name} | {src['documents']:,} | {src['bytes']:,} | "
                             f"{src['repeated_bytes_within']:,} | {src['repeated_bytes_against_earlier']:,} | "
                             f"{src['adds_bytes'] or 0:,} | {src['own_bytes'] or 0:,} |")
        lines += [""]
        for effort in efforts:
            e, e0 = bounds[("exact", effort)], bounds[("exact-dedup", effort)]
            n, n0 = bounds[("near", effort)], bounds[("near-dedup", effort)]
            pe, pn = plain[("exact", effort)], plain[("near", effort)]
            if e and e0 and pe:
                lines.append(f"- `--effort {effort}`: exact copies **{e / e0:.4f} ×** the deduplicated corpus's bound "
                             f"(target ≤ 1.02); the best plain row, without references: {pe / e0:.3f} ×")
            if n and n0 and pn:
                lines.append(f"- `--effort {effort}`: near copies **{n / n0:.4f} ×** (target ≤ 1.10); the best plain "
                             f"row: {pn / n0:.3f} ×")
        if not args.no_zstd_long and shutil.which("zstd"):
            for a, b in (("exact", "exact-dedup"), ("near", "near-dedup")):
                za, ta = zstd_long(data / a, tmp)
                zb, tb = zstd_long(data / b, tmp)
                lines.append(f"- `zstd -19 --ultra --long=31` on the text: {a} {za:,} B against {b} {zb:,} B: "
                             f"**{za / zb:.4f} ×** ({ta:,.0f} s and {tb:,.0f} s)")
        # The stage's cost on text without repeats: -b zstd:3 without and with it, alternated twice (the faster kept:
        # this host's speed swings from one minute to the next).
        runs: dict[str, list[Run]] = {"off": [], "auto": []}
        doc_on = None
        for k in range(4):
            mode = ("off", "auto")[k % 2]
            r, d = kbound([str(data / "exact-dedup"), "--field", "text", "-b", "zstd:3", "--dedup", mode],
                          tmp / f"cost-{k}")
            runs[mode].append(r)
            doc_on = d if mode == "auto" else doc_on
        off = min(runs["off"], key=lambda r: r.wall_seconds)
        on = min(runs["auto"], key=lambda r: r.wall_seconds)
        dup = None if doc_on is None else doc_on.get("duplicates")
        lines += [
            f"- the stage's cost on `exact-dedup` with `-b zstd:3` (one piece, faster of two runs each, alternated): "
            f"{off.wall_seconds:,.1f} s without it, "
            f"{on.wall_seconds:,.1f} s with it: **{on.wall_seconds / off.wall_seconds:.2f} ×** (target ≤ 1.25); "
            f"tree peak PSS {mib(off.tree_pss_bytes)} and {mib(on.tree_pss_bytes)} MiB; loads "
            f"{off.load_before:.2f} and {on.load_before:.2f}",
        ]
        if dup is not None:
            per = dup["bytes"] / max(dup["chunks"], 1)
            lines.append(f"- the index: {dup['index_bytes_per_chunk']} bytes per chunk while reducing, "
                         f"{dup['chunks']:,} chunks for {dup['bytes']:,} bytes ({per:,.0f} bytes a chunk), "
                         f"{dup['partitions']} partition(s)")
        # 7c: the same `exact` documents with their source in a field instead of a directory.
        source_lines, _ = sources_lines(data / "exact", work=tmp)
        lines += ["", "### 7c. Sources named by a field (`bench/bench_sources.py`)", "", *source_lines]
        lines += ["", f"Part 7 took {(time.perf_counter() - t0) / 60:.0f} minutes.", ""]
        args.out.write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not keep:
            shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
