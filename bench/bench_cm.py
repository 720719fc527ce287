"""Measure the `cm` backend next to `zpaq a -m5` and `xz -9e` on large texts; print a Markdown table.

    .venv/bin/python bench/bench_cm.py [--spec cm] [FILE ...]

Without files it runs enwik8-head.txt and gcide.txt from --corpora (default: shared/corpora
beside the repository, ../shared/corpora), skipping any that are absent. For `cm` the payload is the real coded
size, the round trip is checked byte for byte, and the times are one core's wall-clock
seconds with the numba cache warm (a tiny input is coded first so compilation is not timed).
The total adds the decoder as kbound counts it. zpaq and xz run as the command-line tools
(skipped, with a note, when missing); their totals use the size of their installed binary
and libraries under xz -9e, the way kbound counts native decoders.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kbound.backends.decoder import measure_decoder
from kbound.backends.registry import parse_spec

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILES = ("enwik8-head.txt", "gcide.txt")
SHARED = ROOT.parent / "shared" / "corpora"


def default_paths(corpora: Path) -> list[Path]:
    found = []
    for name in DEFAULT_FILES:
        path = corpora / name
        if not path.is_file():
            print(f"skipping {name}: not found in {corpora}", file=sys.stderr)
        else:
            found.append(path)
    return found


def native_decoder_bytes(binary: str) -> int | None:
    """The tool's executable and the libraries it links, xz -9e'd as kbound measures decoders."""
    path = shutil.which(binary)
    if path is None:
        return None
    from kbound.backends.decoder import _xz_size

    out = subprocess.run(["ldd", path], capture_output=True, text=True, check=False).stdout
    libs = [p.split()[2] for p in out.splitlines() if "=>" in p and len(p.split()) > 2 and p.split()[2].startswith("/")]
    # libc and the loader are part of any reference machine; the rest belongs to the decoder.
    libs = [lib for lib in libs if not os.path.basename(lib).startswith(("libc.so", "libm.so", "ld-linux"))]
    return _xz_size(tuple(sorted({os.path.realpath(path), *map(os.path.realpath, libs)})))


def run_tool(
    compress: list[str], decompress: list[str], archive: Path, source: Path, restored: Path, cwd: Path
) -> dict:
    u0, t0 = _child_cpu(), time.perf_counter()
    subprocess.run(compress, check=True, capture_output=True, cwd=cwd)
    u1, t1 = _child_cpu(), time.perf_counter()
    subprocess.run(decompress, check=True, capture_output=True, cwd=cwd)
    u2, t2 = _child_cpu(), time.perf_counter()
    if restored.read_bytes() != source.read_bytes():
        raise SystemExit(f"{compress[0]} round trip failed on {source}")
    return {"payload": archive.stat().st_size, "c": t1 - t0, "d": t2 - t1, "cc": u1 - u0, "dc": u2 - u1}


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def bench_file(path: Path, spec: str, reference: bool = True) -> list[dict]:
    data = path.read_bytes()
    n = len(data)
    rows = []

    backend = parse_spec(spec)
    backend.decompress(backend.compress(data[:1000]))  # load (or compile) the numba code first
    u0, t0 = time.process_time(), time.perf_counter()
    payload = backend.compress(data)
    u1, t1 = time.process_time(), time.perf_counter()
    restored = backend.decompress(payload)
    u2, t2 = time.process_time(), time.perf_counter()
    if restored != data:
        raise SystemExit(f"{spec} round trip failed on {path}")
    decoder = measure_decoder(backend.decoder_native, (*backend.decoder_python, type(backend).__module__))
    rows.append({"name": backend.spec, "payload": len(payload), "decoder": decoder.decoder_bytes,
                 "c": t1 - t0, "d": t2 - t1, "cc": u1 - u0, "dc": u2 - u1})

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if reference and shutil.which("zpaq"):
            # zpaq stores the path; run from the file's folder so only its name goes in.
            archive, out = work / "x.zpaq", work / "out"
            r = run_tool(
                ["zpaq", "a", str(archive), path.name, "-m5", "-t1"],
                ["zpaq", "x", str(archive), path.name, "-to", str(out / path.name), "-t1"],
                archive, path, out / path.name, path.parent,
            )
            rows.append({"name": "zpaq a -m5 -t1 (CLI)", "decoder": native_decoder_bytes("zpaq"), **r})
        elif reference:
            print("skipping zpaq: the zpaq binary is not installed (apt-get install zpaq)", file=sys.stderr)
        if reference and shutil.which("xz"):
            archive, out = work / "x.xz", work / "x"
            shutil.copyfile(path, out)
            r = run_tool(["xz", "-9e", "-k", "-T1", str(out)], ["xz", "-d", "-k", "-f", "-T1", str(archive)],
                         archive, path, out, work)
            rows.append({"name": "xz -9e -T1 (CLI)", "decoder": native_decoder_bytes("xz"), **r})
        elif reference:
            print("skipping xz: not installed", file=sys.stderr)
    for row in rows:
        row["file"], row["n"] = path.name, n
    return rows


def table(rows: list[dict]) -> str:
    """Markdown; speeds as wall-clock / CPU-time MB/s (the CPU figure is the one-core speed on a busy machine)."""
    lines = [
        "| file | coder | payload bytes | payload bpb | decoder bytes | total bytes | total bpb "
        "| compress MB/s wall / CPU | decompress MB/s wall / CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        n, dec = r["n"], r["decoder"]
        mb = n / 1e6
        speeds = f"{mb / r['c']:.3f} / {mb / r['cc']:.3f} | {mb / r['d']:.3f} / {mb / r['dc']:.3f}"
        if dec is None:
            decoder = "? | ? | ?"
        else:
            total = r["payload"] + dec
            decoder = f"{dec:,} | {total:,} | {8 * total / n:.4f}"
        payload = f"{r['payload']:,} | {8 * r['payload'] / n:.4f}"
        lines.append(f"| {r['file']} | {r['name']} | {payload} | {decoder} | {speeds} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="texts to measure (default: enwik8-head, gcide)")
    parser.add_argument("--corpora", type=Path, default=SHARED, help=f"where the default texts are (default: {SHARED})")
    parser.add_argument("--spec", default="cm", help="the kbound backend spec to measure (default: cm)")
    parser.add_argument("--no-reference", action="store_true", help="skip zpaq and xz (measure the spec alone)")
    args = parser.parse_args()
    paths = [p.resolve() for p in args.files] or default_paths(args.corpora)
    if not paths:
        raise SystemExit("nothing to measure")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}", file=sys.stderr)
    rows = []
    for path in paths:
        print(f"{path.name}: load average {os.getloadavg()[0]:.2f} before", file=sys.stderr, flush=True)
        rows += bench_file(path, args.spec, reference=not args.no_reference)
        print(table(rows), file=sys.stderr, flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end", file=sys.stderr)
    print(table(rows))


if __name__ == "__main__":
    main()
