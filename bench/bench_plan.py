"""The plan benchmark: `--plan` against the unplanned run, and `kbound plan`'s predicted cost against the measured one.

    python bench/bench_plan.py [--mb 20] [--plan 2MB] [--corpora DIR] [--out FILE] [--keep DIR]

It builds two corpora from texts that differ in kind, in a temporary directory removed at the
end (or --keep DIR):
  - mixed: --mb MB in two source directories, prose/ (the shared texts but gcide.txt, cut into
    documents of about 20 kB at paragraph ends; at most half, and there are about 12 MB of them)
    and code/ (the Python modules of this interpreter's site-packages, whole files) for the rest;
  - dictionary: --mb/2 MB (or --dictionary-mb) of gcide.txt cut into documents of about 20 kB, one source.
Then, each run with --no-cache and --dedup off, measured for wall time and the CPU seconds of the
whole process tree (getrusage of the finished child and its workers), with the load average:
  1. `kbound plan C --sample PLAN` on each corpus: each effort's predicted core-hours;
  2. `kbound C --effort E` for each effort on each corpus: the measured core-hours (the rows'
     compress and verify seconds, the workers' wall time) and the process tree's CPU, which the
     prediction (the sample workers' CPU seconds per byte) predicts;
  3. `kbound mixed --effort max --plan PLAN`: its process tree's CPU seconds against the unplanned
     max run's, and its bound against the unplanned bound.
Writes a Markdown part (for bench/SCALE.md) to --out and prints it.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import site
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import Run, load, measure

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpora"
KBOUND = [sys.executable, "-c", "from kbound.cli import main; main()"]
MB = 10**6
EFFORTS = ("fast", "default", "max")


def _documents(text: bytes, size: int = 20_000) -> list[bytes]:
    """Text cut at paragraph ends into documents of at least `size` bytes."""
    docs, current = [], bytearray()
    for para in text.replace(b"\r\n", b"\n").split(b"\n\n"):
        current += para + b"\n\n"
        if len(current) >= size:
            docs.append(bytes(current))
            current = bytearray()
    if current:
        docs.append(bytes(current))
    return docs


def _write_docs(docs: list[bytes], folder: Path, budget: int, prefix: str) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for i, doc in enumerate(docs):
        if written >= budget:
            break
        (folder / f"{prefix}{i:05d}.txt").write_bytes(doc)
        written += len(doc)
    return written


def build(root: Path, corpora: Path, mb: float, dictionary_mb: float) -> None:
    """The two corpora (see the module's docstring), each unless it is there already (under --keep)."""
    if not (root / "dictionary").is_dir():
        _write_docs(_documents((corpora / "gcide.txt").read_bytes()), root / "dictionary" / "text",
                    int(dictionary_mb * MB), "g")
    if (root / "mixed").is_dir():
        return
    half = int(mb * MB / 2)
    prose = [d for p in sorted(corpora.rglob("*.txt")) if p.name != "gcide.txt" for d in _documents(p.read_bytes())]
    prose_bytes = _write_docs(prose, root / "mixed" / "prose", half, "p")
    code_dir = root / "mixed" / "code"
    code_dir.mkdir(parents=True)
    written = 0
    for path in sorted(Path(site.getsitepackages()[0]).rglob("*.py")):
        if written >= mb * MB - prose_bytes:  # the code fills what the prose lacks (12 MB of it at most)
            break
        data = path.read_bytes()
        if 200 <= len(data) <= 200_000:
            (code_dir / f"c{written:09d}.py").write_bytes(data)
            written += len(data)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def kbound(args: list[str], tmp: Path, saved: Path | None = None) -> tuple[Run, float, dict[str, Any]]:
    """kbound with JSON output: the measured run, its process tree's CPU seconds, the document.

    With `saved` (a file under --keep), a run measured before is read back from it instead of run
    again, and a new one is written there: the costly unplanned runs need not be repeated when only
    the plan changed.
    """
    if saved is not None and saved.is_file():
        kept = json.loads(saved.read_text())
        run = Run(kept["wall_seconds"], 0, 0, 0, kept["load_before"], kept["load_after"], 0,
                  cpu_seconds=kept["cpu_seconds"])
        return run, kept["cpu_seconds"], kept["doc"]
    before = children_cpu()
    run = measure([*KBOUND, *args, "--no-progress", "--no-cache", "-f", "json"], tmpdir=tmp, every=1.0)
    out = run, children_cpu() - before, json.loads(run.stdout)
    if saved is not None:
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps({"wall_seconds": run.wall_seconds, "load_before": run.load_before,
                                     "load_after": run.load_after, "cpu_seconds": out[1], "args": args,
                                     "doc": out[2]}))
    return out


def rows_seconds(doc: dict[str, Any]) -> float:
    """The rows' compress and verify seconds: what the plan's prediction predicts."""
    return sum((r["compress_seconds"] or 0) + (r["decompress_seconds"] or 0) for r in doc["results"]
               if r["spec"] != "raw")


def _load(path: Path) -> tuple[float, float, dict[str, Any]] | None:
    if not path.is_file():
        return None
    kept = json.loads(path.read_text())
    return kept["cpu_seconds"], kept["load_before"], kept["doc"]


def kept_tables(saved: Path, plan_size: str) -> list[str]:
    """Part 9's tables from the runs kept under --keep (nothing run): `--effort max --plan` against
    `--effort max` on mixed, with the plan's candidates, and each effort's core-hours per TB with the plan."""
    lines: list[str] = []
    unplanned, planned = _load(saved / "mixed-max.json"), _load(saved / "planned.json")
    if unplanned and planned:
        (ucpu, uload, udoc), (pcpu, pload, pdoc) = unplanned, planned
        plan = pdoc["plan"]
        sample = plan["sample"]
        size = sample["corpus_bytes"]
        lines += ["| run | process-tree CPU s | best bound B | best | load |", "|---|---:|---:|---|---:|"]
        for label, cpu, load_, doc in (("`--effort max`", ucpu, uload, udoc),
                                       (f"`--effort max --plan {plan_size}`", pcpu, pload, pdoc)):
            lines.append(f"| {label} | {cpu:,.0f} | {doc['best']['total_bytes']:,} | `{doc['best']['backend']}` | "
                         f"{load_:.2f} |")
        over = (plan["measured_core_hours"] or 0) * 3600
        lines += [
            "",
            f"- CPU **{pcpu / ucpu:.3f} ×** the unplanned run's (target ≤ 0.5); bound "
            f"**{pdoc['best']['total_bytes'] / udoc['best']['total_bytes']:.4f} ×** (target ≤ 1.01)",
            f"- the corpus: {size:,} bytes; the sample: {', '.join(f'{n:,}' for n in sample['sample_bytes'])} bytes, "
            f"{sample['core_seconds']:,.0f} core-seconds (its workers' CPU), {sample['wall_seconds']:,.0f} s wall; "
            f"the kept backends over the corpus: predicted {plan['predicted_core_hours'] * 3600:,.0f} core-seconds "
            f"[{plan['predicted_core_hours_low'] * 3600:,.0f}, {plan['predicted_core_hours_high'] * 3600:,.0f}], "
            f"measured {over:,.0f} ({plan['measured_by']}, `raw` included); the rest of the {pcpu:,.0f}: start, "
            f"listing and identifying the corpus, the sample's forks and pipes",
            f"- kept: {', '.join(f'`{s}`' for s in plan['kept'])}; dropped: "
            f"{', '.join(f'`{s}`' for s in plan['dropped'])}",
            "",
            "| candidate | sample points | its sample core s | predicted bpb [band] | predicted core s "
            "| measured core s (unplanned row) | measured bpb (unplanned) | kept | why |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        rows = {r["spec"]: r for r in udoc["results"]}
        for c in plan["candidates"]:
            band = (f"{c['predicted_bits_per_byte']:.4f} [{8 * c['predicted_bound_low_bytes'] / size:.4f}, "
                    f"{8 * c['predicted_bound_high_bytes'] / size:.4f}]"
                    if c["predicted_bits_per_byte"] is not None else "-")
            r = rows.get(c["spec"], {})
            measured = r.get("cpu_seconds") or (r.get("compress_seconds") or 0) + (r.get("decompress_seconds") or 0)
            spent = sum(p["core_seconds"] or 0 for p in c["points"])
            lines.append(f"| `{c['spec']}` | {len(c['points'])} | {spent:,.1f} | {band} | "
                         f"{c['predicted_core_seconds'] or 0:,.0f} | "
                         f"{measured:,.0f} | {r.get('bits_per_byte', 0):.4f} | {'yes' if c['kept'] else 'no'} | "
                         f"{c['reason']} |")
    per_tb = [(e, _load(saved / ("planned.json" if e == "max" else f"planned-{e}.json"))) for e in EFFORTS]
    if any(run for _, run in per_tb):
        lines += ["", f"### Core-hours per TB with `--plan {plan_size}`", "",
                  "| effort | corpus bytes | kept | run over the corpus, core s (process tree) | core-hours per TB "
                  "| the sample, core s (fixed) | whole planned run, CPU s | load |",
                  "|---|---:|---|---:|---:|---:|---:|---:|"]
        for effort, run in per_tb:
            if run is None:
                continue
            cpu, load_, doc = run
            plan = doc["plan"]
            over = (plan["measured_core_hours"] or 0) * 3600
            size = plan["sample"]["corpus_bytes"]
            lines.append(f"| {effort} | {size:,} | {', '.join(f'`{s}`' for s in plan['kept'])} | {over:,.1f} | "
                         f"{over / 3600 / size * 1e12:,.0f} | {plan['sample']['core_seconds']:,.1f} | {cpu:,.1f} | "
                         f"{load_:.2f} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", type=Path, default=SHARED)
    parser.add_argument("--mb", type=float, default=20.0, help="the mixed corpus's size (the dictionary's: half)")
    parser.add_argument("--plan", default="2MB", help="--plan and `kbound plan --sample` size")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--dictionary-mb", type=float, default=None, help="the dictionary's size [default: --mb/2]")
    parser.add_argument("--keep", type=Path, default=None,
                        help="build the corpora here and keep them, with every run's results (reused by a later "
                             "call: delete a run's file under DIR/runs/ to measure it again)")
    parser.add_argument("--only", choices=("plan", "unplanned", "planned"), action="append", default=None,
                        help="run only these stages (with --keep; a later call without it writes the tables)")
    parser.add_argument("--saved-only", action="store_true",
                        help="with --keep: write the tables from the kept runs, leaving out unplanned runs not kept")
    parser.add_argument("--corpus", choices=("mixed", "dictionary"), action="append", default=None,
                        help="with --only: only this corpus's runs")
    parser.add_argument("--effort", choices=EFFORTS, action="append", default=None,
                        help="with --only unplanned: only this effort's runs; with --only planned: `--effort E "
                             "--plan` on mixed for each (default max)")
    parser.add_argument("--kept-only", action="store_true",
                        help="with --keep: only the tables that the kept runs give (max planned against unplanned, "
                             "core-hours per TB with the plan), running nothing")
    args = parser.parse_args()
    if not (args.corpora / "gcide.txt").is_file():
        print(f"bench_plan: no gcide.txt under {args.corpora}; skipping (give --corpora DIR)")
        return 0
    root = args.keep or Path(tempfile.mkdtemp(prefix="kbound-plan-data-"))
    tmp = Path(tempfile.mkdtemp(prefix="kbound-plan-tmp-"))
    t0 = time.perf_counter()
    try:
        build(root, args.corpora, args.mb, args.dictionary_mb if args.dictionary_mb is not None else args.mb / 2)
        corpora = {"mixed": root / "mixed", "dictionary": root / "dictionary"}
        lines = [f"## 9. Planning on a sample (`bench/bench_plan.py --mb {args.mb:g} --plan {args.plan}`)", ""]
        sizes = {}
        prose_mb = sum(p.stat().st_size for p in (root / "mixed" / "prose").iterdir()) / MB
        predicted: dict[tuple[str, str], dict[str, Any]] = {}
        measured: dict[tuple[str, str], tuple[Run, float, dict[str, Any]]] = {}
        saved = None if args.keep is None else args.keep / "runs"

        def kept(label: str) -> Path | None:
            return None if saved is None else saved / f"{label}.json"

        if args.only:
            for stage in args.only:
                for name, path in corpora.items():
                    if args.corpus and name not in args.corpus:
                        continue
                    if stage == "plan":
                        run = kbound(["plan", str(path), "--sample", args.plan, "--workers", "2"],
                                     tmp / f"plan-{name}", kept(f"plan-{name}"))[0]
                        print(name, "plan", f"{run.wall_seconds:.0f} s", flush=True)
                    for effort in (args.effort or EFFORTS) if stage == "unplanned" else ():
                        run = kbound([str(path), "--effort", effort, "--dedup", "off"], tmp / f"{name}-{effort}",
                                     kept(f"{name}-{effort}"))[0]
                        print(name, effort, f"{run.wall_seconds:.0f} s", flush=True)
                for effort in (args.effort or ("max",)) if stage == "planned" else ():
                    label = "planned" if effort == "max" else f"planned-{effort}"
                    run = kbound([str(corpora["mixed"]), "--effort", effort, "--plan", args.plan, "--dedup", "off"],
                                 tmp / label, kept(label))[0]
                    print(label, f"{run.wall_seconds:.0f} s", flush=True)
            return 0
        if args.kept_only:
            if saved is None:
                parser.error("--kept-only needs --keep DIR")
            text = "\n".join(kept_tables(saved, args.plan))
            if args.out:
                args.out.write_text(text)
            print(text)
            return 0
        missing: list[str] = []
        for name, path in corpora.items():
            run, cpu, doc = kbound(["plan", str(path), "--sample", args.plan, "--workers", "2"], tmp / f"plan-{name}",
                                   kept(f"plan-{name}"))
            sizes[name] = doc["sample"]["corpus_bytes"]
            for e in doc["efforts"]:
                predicted[name, e["effort"]] = e
            print(name, "plan", f"{run.wall_seconds:.0f} s", flush=True)
            for effort in EFFORTS:
                label = f"{name}-{effort}"
                if args.saved_only and not (saved and (saved / f"{label}.json").is_file()):
                    missing.append(f"`kbound {name} --effort {effort}`")
                    continue
                measured[name, effort] = kbound([str(path), "--effort", effort, "--dedup", "off"],
                                                tmp / label, kept(label))
                print(name, effort, f"{measured[name, effort][0].wall_seconds:.0f} s", flush=True)
        planned = kbound([str(corpora["mixed"]), "--effort", "max", "--plan", args.plan, "--dedup", "off"],
                         tmp / "planned", kept("planned"))
        print("planned", f"{planned[0].wall_seconds:.0f} s", flush=True)

        lines += [
            f"Two corpora built from the shared texts: **mixed**, {sizes['mixed'] / MB:.1f} MB in two sources "
            f"(prose/: {prose_mb:.1f} MB, the shared texts but gcide.txt, in documents of about 20 kB; code/: "
            "the rest, Python modules of the venv's site-packages, whole files), and **dictionary**, "
            f"{sizes['dictionary'] / MB:.1f} MB of "
            "gcide.txt in documents of about 20 kB. Every run `--no-cache --dedup off`; CPU is the whole "
            "process tree's (user + system, getrusage of the finished children), which the plan predicts from its "
            "sample workers' CPU seconds and the run's own part (start, a share per task, `raw`'s read when it "
            "rides on no task), measured by the sample run itself. The machine is shared: the load is the "
            "one-minute average when each run started (the runs were not all on one quiet machine: with --keep "
            "they may come from separate calls, some at once).", "",
            "### `--effort max --plan` against `--effort max`", "",
            "| run | wall s | process-tree CPU s | best bound B | best | load |",
            "|---|---:|---:|---:|---|---:|",
        ]
        unplanned = measured["mixed", "max"]
        for label, (run, cpu, doc) in (("`--effort max`", unplanned), (f"`--effort max --plan {args.plan}`", planned)):
            lines.append(f"| {label} | {run.wall_seconds:,.0f} | {cpu:,.0f} | {doc['best']['total_bytes']:,} | "
                         f"`{doc['best']['backend']}` | {run.load_before:.2f} |")
        plan = planned[2]["plan"]
        cost = planned[1] / unplanned[1]
        bound = planned[2]["best"]["total_bytes"] / unplanned[2]["best"]["total_bytes"]
        lines += [
            "",
            f"- CPU **{cost:.3f} ×** the unplanned run's (target ≤ 0.5); bound **{bound:.4f} ×** (target ≤ 1.01)",
            f"- kept: {', '.join(f'`{s}`' for s in plan['kept'])}; dropped: "
            f"{', '.join(f'`{s}`' for s in plan['dropped'])}",
            f"- the sample: {', '.join(f'{n:,}' for n in plan['sample']['sample_bytes'])} bytes, "
            f"{plan['sample']['core_seconds']:,.0f} core-seconds (its workers' CPU), "
            f"{plan['sample']['wall_seconds']:,.0f} s wall; the kept backends over the corpus: predicted "
            f"{plan['predicted_core_hours'] * 3600:,.0f} core-seconds [{plan['predicted_core_hours_low'] * 3600:,.0f}, "
            f"{plan['predicted_core_hours_high'] * 3600:,.0f}], measured {plan['measured_core_hours'] * 3600:,.0f} "
            f"({plan['measured_by']}, `raw` included), {plan['measured_wall_seconds']:,.0f} s wall",
            "",
            "| candidate | predicted bpb [band] | predicted core s | kept | why |",
            "|---|---:|---:|---|---|",
        ]
        for c in plan["candidates"]:
            band = (f"{c['predicted_bits_per_byte']:.4f} [{8 * c['predicted_bound_low_bytes'] / sizes['mixed']:.4f}, "
                    f"{8 * c['predicted_bound_high_bytes'] / sizes['mixed']:.4f}]"
                    if c["predicted_bits_per_byte"] is not None else "-")
            lines.append(f"| `{c['spec']}` | {band} | {c['predicted_core_seconds'] or 0:,.0f} | "
                         f"{'yes' if c['kept'] else 'no'} | {c['reason']} |")
        lines += ["", "### Predicted against measured core-hours, every backend of each effort", "",
                  f"`kbound plan C --sample {args.plan} --workers 2` against `kbound C --effort E`:", "",
                  "| corpus | effort | predicted core-h [band] | measured core-h (process tree) | "
                  "measured / predicted | rows' compress + verify h (wall in the workers) | predicted best bpb | "
                  "measured best bpb | wall s | load |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for (name, effort), (run, cpu, doc) in measured.items():
            p = predicted[name, effort]
            rows = rows_seconds(doc) / 3600
            lines.append(
                f"| {name} | {effort} | {p['core_hours']:.5f} [{p['core_hours_low']:.5f}, {p['core_hours_high']:.5f}]"
                f" | {cpu / 3600:.5f} | {cpu / 3600 / p['core_hours']:.2f} | {rows:.5f} | "
                f"{p['best_bits_per_byte']:.4f} "
                f"(`{p['best']}`) | {doc['best']['bits_per_byte']:.4f} (`{doc['best']['backend']}`) | "
                f"{run.wall_seconds:,.0f} | {run.load_before:.2f} |")
        if missing:
            lines += ["", f"Not measured (not finished in time): {', '.join(missing)}."]
        if args.keep is None:
            minutes = (time.perf_counter() - t0) / 60
            lines += ["", f"Part 9 took {minutes:.0f} minutes (load at the end {load():.2f}).", ""]
        else:
            lines += ["", f"The runs were kept under --keep and measured in separate calls, some at once (load at the "
                      f"end {load():.2f}).", ""]
        text = "\n".join(lines)
        if args.out:
            args.out.write_text(text)
        print(text)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
