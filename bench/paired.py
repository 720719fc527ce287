"""Time one backend from two commits in alternating fresh processes; print the median of the paired ratios.

    .venv/bin/python bench/paired.py BASE_COMMIT FILE [--spec cmx] [--rounds 6]

On a shared virtual machine the same run varies by up to 1.7x from one minute to the next, for
every coder alike, so two versions timed at different times compare the host as much as the
code. Here BASE_COMMIT's source (checked out into a temporary git worktree) and the working
tree's `src/` take turns, in fresh processes, one after the other, and each round's ratio
(working tree / base, CPU seconds) compares two runs made under about the same conditions;
the median of those ratios is the figure to quote. The payloads must agree byte count for byte
count when the change is meant to keep them (the script says so either way). Numba compiles
each tree once (its cache lives beside the source), outside the timed part.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
from kbound.backends.registry import parse_spec
backend = parse_spec(sys.argv[2])
backend.decompress(backend.compress(b"warm the numba cache " * 50))
data = open(sys.argv[1], "rb").read()
u0 = time.process_time(); payload = backend.compress(data)
u1 = time.process_time(); restored = backend.decompress(payload)
u2 = time.process_time()
if restored != data:
    raise SystemExit("round trip failed")
print(json.dumps([u1 - u0, u2 - u1, len(payload)]))
"""


def run(src: Path, path: Path, spec: str) -> list[float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), spec],
        env={**os.environ, "PYTHONPATH": str(src)},
        capture_output=True, text=True, check=False,
    )
    if out.returncode:
        raise SystemExit(f"{src}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
    result: list[float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the commit to compare the working tree with")
    parser.add_argument("file", type=Path)
    parser.add_argument("--spec", default="cmx", help="the backend spec (default: cmx)")
    parser.add_argument("--rounds", type=int, default=6, help="pairs of runs (default: 6)")
    args = parser.parse_args()
    if not args.file.is_file():
        parser.error(f"{args.file}: not a file")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    with tempfile.TemporaryDirectory(prefix="kbound-paired-") as tmp:
        tree = Path(tmp) / "base"
        made = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.base],
                              capture_output=True, text=True, check=False)
        if made.returncode:
            parser.error(f"cannot check out {args.base}: {made.stderr.strip()}")
        try:
            trees = {"base": tree / "src", "new": ROOT / "src"}
            times: dict[str, list[list[float]]] = {"base": [], "new": []}
            for r in range(args.rounds):
                for name in ("base", "new") if r % 2 == 0 else ("new", "base"):
                    times[name].append(run(trees[name], args.file, args.spec))
                    print(f"round {r + 1} {name}: {times[name][-1][0]:.3f} s / {times[name][-1][1]:.3f} s",
                          file=sys.stderr, flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           capture_output=True, check=False)
    mb = args.file.stat().st_size / 1e6
    print(f"{args.file.name}, {args.spec}, {args.rounds} rounds; new / {args.base} in CPU seconds:")
    for k, way in enumerate(("compress", "decompress")):
        ratios = sorted(n[k] / b[k] for b, n in zip(times["base"], times["new"], strict=True))
        fastest = {name: mb / min(t[k] for t in times[name]) for name in times}
        print(f"  {way}: median {statistics.median(ratios):.3f} (range {ratios[0]:.3f}-{ratios[-1]:.3f}); "
              f"fastest run {fastest['base']:.3f} -> {fastest['new']:.3f} MB/s")
    sizes = {name: times[name][0][2] for name in times}
    same = "the same" if sizes["base"] == sizes["new"] else "DIFFERENT"
    print(f"  payload bytes: {int(sizes['base']):,} -> {int(sizes['new']):,} ({same})")


if __name__ == "__main__":
    main()
