"""Does `cm` give the smallest bound on every text? Run the `max` effort preset per file, print a table.

    .venv/bin/python bench/cm_vs_all.py [FILE ...]

Default files: every .txt under --corpora (default: ../shared/corpora beside the repository)
but those named with --skip. Each backend's payload is verified by kbound's engine. Prints, per file, cm's payload and
total (payload + decoder) beside the best of every other backend, with the backend that gave it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import kbound
from kbound.backends.registry import effort_specs

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpora"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--skip", action="append", default=[], help="file names to leave out")
    parser.add_argument("--corpora", type=Path, default=SHARED, help=f"where the texts are (default: {SHARED})")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    files = args.files
    if not files:
        if not args.corpora.is_dir():
            raise SystemExit(f"no corpora at {args.corpora}; name files or pass --corpora")
        files = sorted(p for p in args.corpora.rglob("*.txt") if p.name not in args.skip)
    specs = effort_specs("max")
    print("| file | bytes | cm payload | best other payload (backend) | cm total | best other total (backend) |")
    print("|---|---:|---:|---|---:|---|")
    for path in files:
        report = kbound.estimate([str(path)], list(specs), jobs=args.jobs)
        rows = [r for r in report.results if r.status == "verified"]
        failed = [f"{r.spec}: {r.error}" for r in report.results if r.status != "verified"]
        cm = next(r for r in rows if r.backend == "cm")
        others = [r for r in rows if r.backend != "cm"]
        by_payload = min(others, key=lambda r: r.payload_bytes)
        by_total = min(others, key=lambda r: r.total_bytes)
        n = report.corpus.bytes
        print(
            f"| {path.name} | {n:,} | {cm.payload_bytes:,} | {by_payload.payload_bytes:,} ({by_payload.spec}) "
            f"| {cm.total_bytes:,} | {by_total.total_bytes:,} ({by_total.spec}) |",
            flush=True,
        )
        for f in failed:
            print(f"  failed: {f}", file=sys.stderr)


if __name__ == "__main__":
    main()
