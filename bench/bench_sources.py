"""Sources named by a field (`--source-field`) against sources as directories (`--by-source`), on the same documents.

    python bench/bench_sources.py DIR [--spec zstd:3] [--work DIR] [--out FILE]

DIR holds one subdirectory per source of JSON-lines shards (`.jsonl` or `.jsonl.zst`) with a
`text` field, e.g. the `exact` corpus `bench/bench_dedup.py --data D` builds (D/exact). The bench
writes the same shards, in the same corpus order, flat in one directory with each line's source in
`meta.source`, and measures (wall, CPU of the process tree, peak PSS, load), each `--no-cache`:

  1. `kbound DIR --field text -b SPEC --by-source`        (sources as directories)
  2. `kbound FLAT --field text -b SPEC --source-field meta.source`
  3. `kbound FLAT --field text -b SPEC`                   (no per-source accounting)

The documents and their order are the same, so (1) and (2) must give the same documents, bytes and
repeats per source (checked; the bench fails otherwise); (2) against (3) is the price of the field.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import KBOUND
from measure import Run, measure, mib


def flatten(src: Path, out: Path) -> int:
    """Copy every shard under `src` (sorted, as kbound walks it) into `out`, each line with meta.source."""
    import zstandard

    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for k, path in enumerate(sorted(p for p in src.rglob("*") if p.is_file() and ".jsonl" in p.name)):
        source = path.relative_to(src).parts[0]
        zst = path.name.endswith(".zst")
        with open(path, "rb") as raw, open(out / f"part-{k:04d}.jsonl.zst", "wb") as dst:
            lines = zstandard.ZstdDecompressor().stream_reader(raw) if zst else raw
            with zstandard.ZstdCompressor(level=3).stream_writer(dst) as w:
                for line in _lines(lines):
                    record = json.loads(line)
                    record["meta"] = {"source": source}
                    w.write(json.dumps(record).encode() + b"\n")
                    n += 1
    return n


def _lines(f: Any) -> Any:
    pending = b""
    for chunk in iter(lambda: f.read(1 << 20), b""):
        pending += chunk
        *whole, pending = pending.split(b"\n")
        yield from (line for line in whole if line)
    if pending:
        yield pending


def run(args: list[str], tmp: Path) -> tuple[Run, dict[str, Any]]:
    r = measure([*KBOUND, *args, "--no-progress", "--no-cache", "-f", "json"], tmpdir=tmp)
    return r, json.loads(r.stdout)


def sources_lines(data: Path, spec: str = "zstd:3", work: Path | None = None) -> tuple[list[str], bool]:
    """Run the three commands on `data` and its flat copy; the Markdown lines, and whether the counts agree."""
    root = Path(tempfile.mkdtemp(prefix="kbound-sources-", dir=work))
    try:
        flat = root / "flat"
        flatten(data, flat)
        tmp = root / "tmp"
        common = ["--field", "text", "-b", spec]
        runs = {
            "by directory (`--by-source`)": run([str(data), *common, "--by-source"], tmp),
            "by field (`--source-field meta.source`)": run([str(flat), *common, "--source-field", "meta.source"], tmp),
            "no per-source accounting": run([str(flat), *common], tmp),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    (_, by_dir), (_, by_field), _ = runs.values()
    keys = ("documents", "bytes", "repeated_bytes_within", "repeated_bytes_against_earlier", "repeated_documents")
    same = [[s[k] for k in keys] for s in by_dir["sources"]] == [[s[k] for k in keys] for s in by_field["sources"]]
    lines = [f"Corpus: {data.name}, {by_field['corpus']['bytes']:,} bytes of text, "
             f"{by_field['corpus']['documents']:,} documents; `-b {spec} --no-cache`.", "",
             "| run | wall s | process-tree CPU s | peak PSS MiB | best bound B | load |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, (r, doc) in runs.items():
        lines.append(f"| {name} | {r.wall_seconds:,.1f} | {r.cpu_seconds:,.1f} | {mib(r.tree_pss_bytes)} | "
                     f"{doc['best']['total_bytes']:,} | {r.load_before:.2f} |")
    lines += ["", f"Per-source counts of the two accountings equal: **{'yes' if same else 'NO'}**.", "",
              "| source (by field) | documents | bytes | rep. within B | rep. earlier B | rep. docs | adds B | own B |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in by_field["sources"]:
        lines.append(f"| {s['source']} | {s['documents']:,} | {s['bytes']:,} | {s['repeated_bytes_within']:,} | "
                     f"{s['repeated_bytes_against_earlier']:,} | {s['repeated_documents']:,} | "
                     f"{s['adds_bytes'] or 0:,} | {s['own_bytes'] or 0:,} |")
    return lines, same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("--spec", default="zstd:3")
    parser.add_argument("--work", type=Path, default=None, help="where the flat copy goes [default: a temporary dir]")
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown here")
    a = parser.parse_args()
    if not a.data.is_dir():
        print(f"bench_sources: {a.data}: not a directory (build one with bench/bench_dedup.py --data D)",
              file=sys.stderr)
        return 1
    lines, same = sources_lines(a.data, a.spec, a.work)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out is not None:
        a.out.write_text(text)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
