"""Measure the `cm` backends next to `zpaq a -m5`, 7-Zip PPMd and `xz -9e` on large texts; print a Markdown table.

    .venv/bin/python bench/bench_cm.py [--spec cm --spec cmx ...] [FILE ...]
    .venv/bin/python bench/bench_cm.py --ablate 1000000 [FILE ...]   # what each cmx component gives
    .venv/bin/python bench/bench_cm.py --ablate 1000000 --ablate-model cmx2 [FILE ...]   # each of cmx2's own

Without files it runs enwik8-head.txt and gcide.txt from --corpora (default: shared/corpora
beside the repository, ../shared/corpora), skipping any that are absent. For `cm` the payload is the real coded
size, the round trip is checked byte for byte, and the times are one core's wall-clock
seconds with the numba cache warm (a tiny input is coded first so compilation is not timed);
`--repeat N` keeps the fastest of N runs each way, for every coder alike (on shared virtual
machines the same run varies by a third from one minute to the next).
The total adds the decoder as kbound counts it. zpaq, 7-Zip and xz run as the command-line tools
(skipped, with a note, when missing); their totals use the size of their installed binary
and libraries under xz -9e, the way kbound counts native decoders.

paq8px (`-8`; its source is github.com/hxim/paq8px, build/build-linux-with-gcc.sh) runs when
`paq8px` is on PATH or given by --paq8px, and is skipped with a note otherwise. It codes about
3-6 kB/s, so by default it only compresses (its decompression takes as long; --paq8px-decompress
checks it), and --paq8px-cache FILE keeps each text's result (by the text's SHA-256) to reuse
in later runs; a cached row says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kbound.backends.decoder import measure
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
    compress: list[str], decompress: list[str], archive: Path, source: Path, restored: Path, cwd: Path,
    repeat: int = 1, overwrites: bool = False,
) -> dict:
    """A command-line coder's size and times: the fastest of `repeat` runs each way (the size is checked equal).

    The archive and the restored file are removed between runs, unless the tool `overwrites` its output.
    """
    best: dict = {}
    for _ in range(repeat):
        archive.unlink(missing_ok=True)
        u0, t0 = _child_cpu(), time.perf_counter()
        subprocess.run(compress, check=True, capture_output=True, cwd=cwd)
        u1, t1 = _child_cpu(), time.perf_counter()
        subprocess.run(decompress, check=True, capture_output=True, cwd=cwd)
        u2, t2 = _child_cpu(), time.perf_counter()
        if restored.read_bytes() != source.read_bytes():
            raise SystemExit(f"{compress[0]} round trip failed on {source}")
        if not overwrites:
            restored.unlink()
        _keep_best(best, {"payload": archive.stat().st_size, "c": t1 - t0, "d": t2 - t1, "cc": u1 - u0, "dc": u2 - u1})
    return best


def _keep_best(best: dict, run: dict) -> None:
    """Fold one run into the best so far: the same size every time, the smallest of each time."""
    if best and best["payload"] != run["payload"]:
        raise SystemExit(f"sizes differ between runs: {best['payload']} and {run['payload']}")
    for key, value in run.items():
        best[key] = min(best.get(key, value), value)


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def bench_spec(data: bytes, spec: str, path: Path, repeat: int = 1) -> dict:
    """One kbound backend on one text: payload, decoder, times (fastest of `repeat`); the round trip checked."""
    backend = parse_spec(spec)
    backend.decompress(backend.compress(data[:1000]))  # load (or compile) the numba code first
    best: dict = {}
    for _ in range(repeat):
        u0, t0 = time.process_time(), time.perf_counter()
        payload = backend.compress(data)
        u1, t1 = time.process_time(), time.perf_counter()
        restored = backend.decompress(payload)
        u2, t2 = time.process_time(), time.perf_counter()
        if restored != data:
            raise SystemExit(f"{spec} round trip failed on {path}")
        del restored
        _keep_best(best, {"payload": len(payload), "c": t1 - t0, "d": t2 - t1, "cc": u1 - u0, "dc": u2 - u1})
    decoder = measure(backend)
    return {"name": backend.spec, "decoder": decoder.decoder_bytes, **best}


def ablate(path: Path, size: int, model: str = "cmx") -> str:
    """cmx's (or cmx2's) payload on the first `size` bytes of a text with each component switched off in turn."""
    import importlib

    import numpy as np

    from kbound.backends import arith

    cmx_model = importlib.import_module(f"kbound.backends.{model}_model")
    data = np.frombuffer(path.read_bytes()[:size], np.uint8)
    if model == "cmx2":
        names = ("CONFIDENCE", "TEXT", "CJK_WORDS", "LOW_ORDERS", "FOURTH_MIXER", "MATCH_CTX",
                 "CLASSES", "GAP_WORD", "BLOCK", "WORD_DISTANCE", "KEYWORD", "COLUMNS", "LONG_MATCH", "WORD_MIXER",
                 "CLASS_MIXER", "LENGTH_MIXER", "SECOND_FINAL", "MORE_APMS", "SEGMENT", "NEST", "LINE_ORDER2",
                 "NEST_MIXERS")
        parts = {name: getattr(cmx_model, name) for name in names}
    else:
        parts = {"ORDER0": cmx_model.ORDER0, "HIGH_ORDERS (5, 8)": cmx_model.HIGH_ORDERS, "SPARSE": cmx_model.SPARSE,
             "WORDS": cmx_model.WORDS, "SECOND_MIXER (with the third and final)": cmx_model.SECOND_MIXER,
             "SECOND_APM (with the third and fourth)": cmx_model.SECOND_APM, "MATCH_VOTE": cmx_model.MATCH_VOTE,
             "THIRD_MIXER": cmx_model.THIRD_MIXER, "INDIRECT": cmx_model.INDIRECT,
                 "RUNS": cmx_model.RUNS, "LINES (speaker and line start)": cmx_model.LINES}
    lines = [f"{path.name}, first {len(data):,} bytes, {model}:256m", "",
             "| switched off | payload bytes | vs all | compress MB/s CPU |", "|---|---:|---:|---:|"]
    cmx_model.code(data[:1000].copy(), *cmx_model.new_tables(128 << 20), False, np.zeros(0, np.uint8), cmx_model.ALL)
    full = 0
    for name, bit in [("nothing", 0), *parts.items()]:
        u0 = time.process_time()
        out, n = cmx_model.code(data.copy(), *cmx_model.new_tables(256 << 20), False, np.zeros(0, np.uint8),
                                cmx_model.ALL & ~bit)
        seconds = time.process_time() - u0
        size_bytes = len(arith.finish(out, n))
        full = full or size_bytes
        lines.append(f"| {name} | {size_bytes:,} | {size_bytes / full - 1:+.2%} | {len(data) / 1e6 / seconds:.3f} |")
        print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def paq8px_binary(given: str | None) -> str | None:
    """The paq8px to run: the one given, else the one on PATH, else None (the bench skips it)."""
    if given:
        return given if os.access(given, os.X_OK) else None
    return shutil.which("paq8px")


def _cached(cache: Path | None, data: bytes) -> bool:
    return bool(cache and cache.is_file() and hashlib.sha256(data).hexdigest() in json.loads(cache.read_text()))


def run_paq8px(binary: str, path: Path, work: Path, decompress: bool, cache: Path | None) -> dict:
    """paq8px -8 on one text: archive size, compress time and peak memory; decompression when asked.

    With `cache`, a JSON file of earlier results by the text's SHA-256, a result found there is
    reused (marked "cached") and a new one is added to it.
    """
    key = hashlib.sha256(path.read_bytes()).hexdigest()
    known = json.loads(cache.read_text()) if cache and cache.is_file() else {}
    if key in known and (known[key].get("d") is not None or not decompress):
        return {**known[key], "cached": True}
    archive, restored = work / "x.paq8px", work / "restored"
    u0, t0 = _child_cpu(), time.perf_counter()
    child = subprocess.Popen([binary, "-8", str(path), str(archive)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"paq8px failed on {path} (exit {child.returncode})")
    u1, t1 = _child_cpu(), time.perf_counter()
    peak = usage.ru_maxrss * 1024  # this child's peak resident memory (Linux reports KiB)
    result: dict = {"payload": archive.stat().st_size, "c": t1 - t0, "cc": u1 - u0, "d": None, "dc": None,
                    "peak": peak}
    if decompress:
        subprocess.run([binary, "-d", str(archive), str(restored)], check=True, capture_output=True)
        u2, t2 = _child_cpu(), time.perf_counter()
        if restored.read_bytes() != path.read_bytes():
            raise SystemExit(f"paq8px round trip failed on {path}")
        result.update(d=t2 - t1, dc=u2 - u1)
    if cache:
        known = json.loads(cache.read_text()) if cache.is_file() else {}
        known[key] = {**result, "file": path.name, "binary": Path(binary).name}
        cache.write_text(json.dumps(known, indent=1))
    return result


def bench_file(
    path: Path, specs: list[str], reference: bool = True, repeat: int = 1, paq8px: str | None = None,
    paq8px_decompress: bool = False, paq8px_cache: Path | None = None, paq8px_below: int | None = None,
) -> list[dict]:
    data = path.read_bytes()
    n = len(data)
    rows = [bench_spec(data, spec, path, repeat) for spec in specs]

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if reference and shutil.which("zpaq"):
            # zpaq stores the path; run from the file's folder so only its name goes in.
            archive, out = work / "x.zpaq", work / "out"
            r = run_tool(
                ["zpaq", "a", str(archive), path.name, "-m5", "-t1"],
                ["zpaq", "x", str(archive), path.name, "-to", str(out / path.name), "-t1"],
                archive, path, out / path.name, path.parent, repeat,
            )
            rows.append({"name": "zpaq a -m5 -t1 (CLI)", "decoder": native_decoder_bytes("zpaq"), **r})
        elif reference:
            print("skipping zpaq: the zpaq binary is not installed (apt-get install zpaq)", file=sys.stderr)
        seven = shutil.which("7zz") or shutil.which("7z")
        if reference and seven:
            # 7-Zip's PPMd at -mx=9 (order 32, 192 MB model), one thread; the archive holds only the name.
            archive, out = work / "x.7z", work / "7z-out"
            r = run_tool(
                [seven, "a", "-bd", "-m0=PPMd", "-mx=9", "-mmt=1", str(archive), path.name],
                [seven, "x", "-bd", "-mmt=1", f"-o{out}", str(archive)],
                archive, path, out / path.name, path.parent, repeat,
            )
            rows.append({"name": "7-Zip PPMd -mx=9 (CLI)", "decoder": native_decoder_bytes(Path(seven).name), **r})
        elif reference:
            print("skipping 7-Zip PPMd: no 7zz or 7z binary (apt-get install 7zip)", file=sys.stderr)
        if reference and shutil.which("xz"):
            archive, out = work / "x.xz", work / "x"
            shutil.copyfile(path, out)
            r = run_tool(["xz", "-9e", "-k", "-T1", str(out)], ["xz", "-d", "-k", "-f", "-T1", str(archive)],
                         archive, path, out, work, repeat, overwrites=True)
            rows.append({"name": "xz -9e -T1 (CLI)", "decoder": native_decoder_bytes("xz"), **r})
        elif reference:
            print("skipping xz: not installed", file=sys.stderr)
        if paq8px and (paq8px_below is None or n <= paq8px_below or _cached(paq8px_cache, data)):
            r = run_paq8px(paq8px, path, work, paq8px_decompress, paq8px_cache)
            name = "paq8px -8 (CLI" + (", cached)" if r.pop("cached", False) else ")")
            rows.append({"name": name, "decoder": native_decoder_bytes(paq8px), **r})
        elif paq8px:
            print(f"skipping paq8px on {path.name}: {n:,} bytes, over --paq8px-below", file=sys.stderr)
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
        cpu = "?" if r["cc"] is None else f"{mb / r['cc']:.3f}"  # a cached paq8px row may lack its CPU time
        speeds = f"{mb / r['c']:.3f} / {cpu} | " + (
            "not run" if r["d"] is None else f"{mb / r['d']:.3f} / {mb / r['dc']:.3f}")
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
    parser.add_argument("--spec", action="append", help="a kbound backend spec to measure, repeatable (default: cm)")
    parser.add_argument("--ablate", type=int, metavar="BYTES",
                        help="instead: cmx on each file's first BYTES with each component off in turn")
    parser.add_argument("--ablate-model", choices=("cmx", "cmx2"), default="cmx", help="the model --ablate measures")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="time each coder N times each way and keep the fastest (sizes must agree; default 1)")
    parser.add_argument("--no-reference", action="store_true", help="skip zpaq, 7-Zip and xz (measure the spec alone)")
    parser.add_argument("--paq8px", metavar="BINARY", help="the paq8px to run (default: paq8px on PATH, if any)")
    parser.add_argument("--paq8px-decompress", action="store_true", help="also time and check paq8px's decompression")
    parser.add_argument("--paq8px-cache", type=Path, metavar="FILE",
                        help="a JSON file of paq8px results by the text's SHA-256: reused, and added to")
    parser.add_argument("--paq8px-below", type=int, metavar="BYTES",
                        help="run paq8px only on texts up to BYTES (a cached result shows at any size)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    missing = [str(p) for p in args.files if not p.is_file()]
    if missing:
        parser.error(f"not a file: {', '.join(missing)}")
    paths = [p.resolve() for p in args.files] or default_paths(args.corpora)
    if not paths:
        raise SystemExit("nothing to measure")
    if args.ablate:
        print("\n\n".join(ablate(path, args.ablate, args.ablate_model) for path in paths))
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}", file=sys.stderr)
    paq8px = paq8px_binary(args.paq8px) if not args.no_reference else None
    if not args.no_reference and paq8px is None:
        why = f"{args.paq8px} is not an executable" if args.paq8px else "no paq8px on PATH"
        print(f"skipping paq8px: {why} (build it from github.com/hxim/paq8px and give it with --paq8px)",
              file=sys.stderr)
    rows = []
    for path in paths:
        print(f"{path.name}: load average {os.getloadavg()[0]:.2f} before", file=sys.stderr, flush=True)
        rows += bench_file(path, args.spec or ["cm"], reference=not args.no_reference, repeat=args.repeat,
                           paq8px=paq8px, paq8px_decompress=args.paq8px_decompress, paq8px_cache=args.paq8px_cache,
                           paq8px_below=args.paq8px_below)
        print(table(rows), file=sys.stderr, flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end", file=sys.stderr)
    print(table(rows))
    peaks = [f"{r['file']} {r['peak'] / 2**20:,.0f} MiB" for r in rows if r.get("peak")]
    if peaks:
        print("\npaq8px -8 peak resident memory: " + ", ".join(peaks))


if __name__ == "__main__":
    main()
