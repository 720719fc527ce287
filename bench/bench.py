"""The kbound benchmark: each effort against the reference CLIs on one corpus, in one run; writes bench/RESULTS.md.

    python bench/bench.py [CORPUS] [--efforts fast,default,max] [--scaling 4,10,20,40] [--out bench/RESULTS.md]

CORPUS defaults to ../shared/corpora/gcide.txt beside the repository; without it the bench says so
and exits 0. Wall times are measured here; peak memory is the largest sum of the proportional set
sizes (PSS) of the run's whole process tree (sampled every 50 ms), beside GNU time's largest single
process. The load average is recorded with every figure, because other work on the machine slows
everything down: ratios taken within one run are the figures to trust.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from kbound.backends.registry import parse_spec
from kbound.run.engine import memory_need
from kbound.run.worker import Task
from kbound.sources import Selection

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "gcide.txt"
KBOUND = [sys.executable, "-c", "from kbound.cli import main; main()"]
CLIS: dict[str, tuple[list[str], str]] = {
    "gzip -9": (["gzip", "-9", "-c"], "gzip"),
    "bzip2 -9": (["bzip2", "-9", "-c"], "bzip2"),
    "xz -9e": (["xz", "-9e", "-c", "-T1"], "xz-utils"),
    "zstd --ultra -22 --long=27": (["zstd", "--ultra", "-22", "--long=27", "-c", "-q", "-T1"], "zstd"),
    "brotli -q 11 -w 24": (["brotli", "-q", "11", "-w", "24", "-c"], "brotli"),
}


def load() -> float:
    """The one-minute load average."""
    return os.getloadavg()[0]


def _pss(pid: int) -> int:
    """A process's proportional set size in bytes: shared pages divided among the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _tree_rss(pid: int) -> int:
    """The summed PSS in bytes of `pid` and all its descendants (Linux /proc).

    PSS, not RSS: forked workers share the parent's pages, and summing RSS would count them once per worker.
    """
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _pss(p)
        todo += children.get(p, [])
    return total


@dataclass
class Run:
    """One measured command: wall seconds, peak RSS of its process tree, and the load around it."""

    wall_seconds: float
    tree_rss_bytes: int
    max_process_rss_bytes: int
    load_before: float
    load_after: float
    stdout: bytes = field(repr=False, default=b"")


def measure(cmd: list[str], stdout_path: str | None = None) -> Run:
    """Run `cmd` under GNU time, sampling its process tree's RSS; fail loudly if it fails."""
    with tempfile.NamedTemporaryFile(prefix="kbound-bench-time-") as tf:
        full = ["/usr/bin/time", "-f", "%M", "-o", tf.name, *cmd]
        before = load()
        out = open(stdout_path, "wb") if stdout_path else subprocess.PIPE  # noqa: SIM115
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=subprocess.PIPE)
        peak = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.wait(0.05):
                peak = max(peak, _tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stdout, stderr = proc.communicate()
        wall = time.perf_counter() - t0
        stop.set()
        sampler.join()
        if stdout_path:
            out.close()  # type: ignore[union-attr]
        if proc.returncode != 0:
            raise SystemExit(f"bench: {' '.join(cmd)} exited {proc.returncode}: {stderr.decode(errors='replace')}")
        max_kib = int(Path(tf.name).read_text().split()[-1])
        return Run(wall, peak, max_kib * 1024, before, load(), stdout or b"")


def run_kbound(corpus: Path, effort: str) -> tuple[Run, dict]:  # type: ignore[type-arg]
    """kbound at one effort, without its cache, as JSON."""
    run = measure([*KBOUND, "estimate", str(corpus), "--effort", effort, "--no-cache", "--no-progress", "-f", "json"])
    return run, json.loads(run.stdout)


def floor_of(doc: dict) -> tuple[float, float, float, int]:  # type: ignore[type-arg]
    """max(longest backend, CPU seconds / cores) from a report's own per-backend seconds."""
    seconds = [(r["compress_seconds"] or 0) + (r["decompress_seconds"] or 0) for r in doc["results"]]
    jobs = int(doc["settings"]["jobs"])
    longest, cpu = max(seconds), sum(seconds)
    return max(longest, cpu / jobs), longest, cpu, jobs


def run_sharded(corpus: Path, args: argparse.Namespace) -> dict:  # type: ignore[type-arg]
    """The same sharded run locally and on a Dask LocalCluster; their bounds must be equal."""
    base = [
        *KBOUND,
        "estimate",
        str(corpus),
        "--effort",
        args.shard_effort,
        "--shard-size",
        args.shard_size,
        "--no-progress",
        "-f",
        "json",
    ]
    local = measure(base)
    print(f"sharded local {local.wall_seconds:7.1f} s", flush=True)
    try:
        from distributed import LocalCluster
    except ImportError:
        return {"local": (local, json.loads(local.stdout)), "dask": None}
    with LocalCluster(n_workers=args.dask_workers, threads_per_worker=1, dashboard_address=None) as cluster:
        remote = measure([*base, "--scheduler", cluster.scheduler_address])
    print(f"sharded dask  {remote.wall_seconds:7.1f} s", flush=True)
    return {"local": (local, json.loads(local.stdout)), "dask": (remote, json.loads(remote.stdout))}


def sharded_lines(sharded: dict, args: argparse.Namespace) -> list[str]:  # type: ignore[type-arg]
    local, ldoc = sharded["local"]
    out = [
        "",
        f"## Sharded runs (--effort {args.shard_effort}, --shard-size {args.shard_size})",
        "",
        "| run | best total bytes | wall s | CPU s (workers) | efficiency | load |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = [("local, -j cores", local, ldoc)]
    if sharded["dask"]:
        remote, rdoc = sharded["dask"]
        rows.append((f"Dask LocalCluster, {args.dask_workers} workers", remote, rdoc))
    cores = os.cpu_count() or 1
    for name, run, doc in rows:
        cpu = sum((r["compress_seconds"] or 0) + (r["decompress_seconds"] or 0) for r in doc["results"])
        out.append(
            f"| {name} | {doc['best']['total_bytes']:,} | {run.wall_seconds:.1f} | {cpu:.1f} | "
            f"{cpu / cores / run.wall_seconds:.2f} | {run.load_before:.2f} |"
        )
    if sharded["dask"]:
        same = [(r["spec"], r["total_bytes"]) for r in ldoc["results"]] == [
            (r["spec"], r["total_bytes"]) for r in rdoc["results"]
        ]
        out += ["", f"- every backend's total equal between the local and the Dask run: **{same}**"]
    cost = ldoc.get("sharding", {}).get("cost", {})
    out += [
        f"- sharding cost measured on a {ldoc['sharding']['sample_bytes'] or 0:,}-byte sample: "
        + ", ".join(f"`{k}` {100 * v:+.2f} %" for k, v in cost.items() if v is not None),
        "- efficiency = (Σ worker seconds ÷ cores) ÷ wall; worker seconds are wall time inside each task, "
        "so under outside load they include waiting for a core.",
    ]
    return out


def flatness_lines(scaling: list) -> list[str]:  # type: ignore[type-arg]
    """The issue-6 memory target: peak PSS flat within 10 % from the 10 MB prefix up."""
    rows = [(mb, run.tree_rss_bytes) for mb, _, run, _ in scaling if mb >= 10]
    if len(rows) < 2:
        return []
    base = rows[0][1]
    spread = max(abs(pss / base - 1) for _, pss in rows)
    return [
        "",
        f"- peak PSS from {rows[0][0]:g} MB to {rows[-1][0]:g} MB: "
        + " → ".join(mib(pss) for _, pss in rows)
        + f"; largest change from the {rows[0][0]:g} MB run **{spread:+.1%}** (target: within ±10 %)",
    ]


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument(
        "--efforts", default="fast,default,max", help="efforts to run (max adds cm, zpaq:5)"
    )
    parser.add_argument("--scaling", default="4,10,20,40", help="prefix MB for the scaling table")
    parser.add_argument(
        "--shard-size", default="10MB", help="shard size for the local vs Dask sharded runs ('' for none)"
    )
    parser.add_argument("--shard-effort", default="fast", help="effort of the sharded runs")
    parser.add_argument("--dask-workers", type=int, default=4)
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not corpus.is_file():
        print(f"bench: skipped: corpus {corpus} is absent (give a path, e.g. enwik8)")
        return 0
    missing = [pkg for cmd, pkg in CLIS.values() if not shutil.which(cmd[0])]
    if missing:
        print(f"bench: installing the reference CLIs: {' '.join(missing)}", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True)
    size = corpus.stat().st_size
    lines = [f"# kbound benchmark on {corpus.name}", ""]
    env = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M %Z')}"
    lines += [f"Corpus: `{corpus.name}`, {size:,} bytes. Machine: {env}.", ""]

    with tempfile.TemporaryDirectory(prefix="kbound-bench-") as tmp:
        cli_rows = []
        for name, (cmd, _) in CLIS.items():
            out_path = os.path.join(tmp, "out")
            run = measure([*cmd, str(corpus)], stdout_path=out_path)
            cli_rows.append((name, os.path.getsize(out_path), run))
            print(
                f"{name:28s} {os.path.getsize(out_path):>12,} B {run.wall_seconds:7.1f} s  load {run.load_before:.1f}",
                flush=True,
            )
        # This machine's speed drifts by a third between minutes (other tenants): each effort is
        # timed between two runs of `xz -9e`, and its ratio uses their mean.
        xz_runs = [next(r for n, _, r in cli_rows if n == "xz -9e")]
        efforts = {}
        for effort in [e for e in args.efforts.split(",") if e]:
            run, doc = run_kbound(corpus, effort)
            xz_runs.append(measure([*CLIS["xz -9e"][0], str(corpus)], stdout_path=os.path.join(tmp, "out")))
            efforts[effort] = (run, doc, xz_runs[-2], xz_runs[-1])
            print(
                f"kbound --effort {effort:8s} {doc['best']['total_bytes']:>12,} B {run.wall_seconds:7.1f} s  "
                f"load {run.load_before:.1f}; xz -9e after it {xz_runs[-1].wall_seconds:.1f} s",
                flush=True,
            )
        scaling = []
        for mb in [float(x) for x in args.scaling.split(",") if x]:
            n = min(int(mb * 10**6), size)
            prefix = os.path.join(tmp, f"prefix-{mb}MB.txt")
            with open(corpus, "rb") as src, open(prefix, "wb") as dst:
                dst.write(src.read(n))
            run, doc = run_kbound(Path(prefix), "default")
            scaling.append((mb, n, run, doc))
            os.unlink(prefix)
            print(f"scaling {mb:g} MB {run.wall_seconds:7.1f} s {mib(run.tree_rss_bytes)}", flush=True)

        sharded = run_sharded(corpus, args) if args.shard_size else None

    smallest_name, smallest, _ = min(cli_rows, key=lambda row: row[1])
    lines += [
        "## Reference CLIs (single-threaded, same run)",
        "",
        "| command | output bytes | bits/byte | wall s | peak RSS | load 1 min |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, out, run in cli_rows:
        lines.append(
            f"| `{name}` | {out:,} | {8 * out / size:.3f} | {run.wall_seconds:.1f} | "
            f"{mib(run.max_process_rss_bytes)} | {run.load_before:.2f} |"
        )
    if len(xz_runs) > 1:
        lines += [
            "",
            "`xz -9e` alone, timed again after each effort below (its ratio uses the mean of the runs "
            f"just before and after it): {', '.join(f'{r.wall_seconds:.1f} s' for r in xz_runs)}.",
        ]
    for effort, (run, doc, xz_before, xz_after) in efforts.items():
        xz_seconds = (xz_before.wall_seconds + xz_after.wall_seconds) / 2
        best = doc["best"]
        floor, longest, cpu, jobs = floor_of(doc)
        lines += [
            "",
            f"## kbound --effort {effort}",
            "",
            f"Wall {run.wall_seconds:.1f} s; peak memory (PSS) of the process tree {mib(run.tree_rss_bytes)} "
            f"(largest single process {mib(run.max_process_rss_bytes)}); load {run.load_before:.2f} before, "
            f"{run.load_after:.2f} after; {jobs} jobs.",
            "",
            "| backend | status | payload | decoder | total | bits/byte | compress s | decompress s | worker RSS "
            "| estimate |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in doc["results"]:
            rss = mib(r["peak_rss_bytes"]) if r.get("peak_rss_bytes") else "—"
            need = memory_need(Task(parse_spec(r["spec"]), Selection(()), size))  # what the scheduler set aside

            def f(x: object, fmt: str = ",") -> str:
                return "—" if x is None else format(x, fmt)

            lines.append(
                f"| `{r['spec']}` | {r['status']}{' (' + r['error'][:60] + ')' if r['error'] else ''} | "
                f"{f(r['payload_bytes'])} | {f(r['decoder_bytes'])} | {f(r['total_bytes'])} | "
                f"{f(r['bits_per_byte'], '.3f')} | {f(r['compress_seconds'], '.1f')} | "
                f"{f(r['decompress_seconds'], '.1f')} | {rss} | {mib(need)} |"
            )
        lines += [
            "",
            f"- best bound: `{best['backend']}` {best['total_bytes']:,} bytes ({best['bits_per_byte']:.3f} bits/byte)"
            f"; smallest CLI output `{smallest_name}` {smallest:,} bytes: "
            f"ratio **{best['total_bytes'] / smallest:.3f}**",
            f"- wall / `xz -9e` alone: **{run.wall_seconds / xz_seconds:.2f}** "
            f"({run.wall_seconds:.1f} s / {xz_seconds:.1f} s, the mean of {xz_before.wall_seconds:.1f} s before "
            f"and {xz_after.wall_seconds:.1f} s after)",
            f"- floor = max(longest backend {longest:.1f} s, CPU {cpu:.1f} s ÷ {jobs}) = {floor:.1f} s; "
            f"wall / floor: **{run.wall_seconds / floor:.2f}**",
        ]
    if scaling:
        lines += [
            "",
            "## Scaling (default effort on prefixes of the corpus)",
            "",
            "| prefix | bytes | wall s | s/MB | peak PSS (tree) | bytes/byte | largest process | best bpb | load |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for mb, n, run, doc in scaling:
            lines.append(
                f"| {mb} MB | {n:,} | {run.wall_seconds:.1f} | {run.wall_seconds / (n / 1e6):.2f} | "
                f"{mib(run.tree_rss_bytes)} | {run.tree_rss_bytes / n:.1f} | {mib(run.max_process_rss_bytes)} | "
                f"{doc['best']['bits_per_byte']:.3f} | {run.load_before:.2f} |"
            )
        lines += flatness_lines(scaling)
    if sharded:
        lines += sharded_lines(sharded, args)
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    Path(args.out).write_text(text)
    print(f"bench: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
