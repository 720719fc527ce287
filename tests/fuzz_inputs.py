"""Seeded-mutation fuzzing of the model-header readers and the input loaders; run by tests/test_fuzz.py.

    python tests/fuzz_inputs.py DIR --seconds 3 --seed 1

For each kind of file (safetensors, GGUF, PyTorch zip, JSON lines plain/zstd/gzip, Parquet, a
zstd text) it builds one small valid file, then for `--seconds` mutates it (flipped bytes, a cut,
inserted bytes, a length field set to a huge number, a repeated block; for compressed JSON lines
also the text before compressing) and reads each mutant as kbound does. A mutant must be read or
refused with a `KboundError`; any other exception, or a read that passes the per-case alarm,
is a failure. Prints one JSON object: cases and refusals per kind, failures (kind, case number, error), and the
process's peak RSS, so the test can bound memory too. Same seed, same mutants.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import resource
import signal
import struct
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_helpers import read_all
from kbound.errors import KboundError
from kbound.models import describe_model

CASE_SECONDS = 10
HUGE = (2**31 - 1, 2**32 - 1, 2**62, 2**64 - 1)


class Hang(Exception):
    pass


def jsonl_text() -> bytes:
    docs = [{"text": f"document {i}: " + "the quick brown fox jumps over the lazy dog " * (i % 7 + 1), "id": i}
            for i in range(60)]
    return b"".join(json.dumps(d).encode() + b"\n" for d in docs)


def build(root: Path) -> dict[str, tuple[str, bytes]]:
    """One valid file of each kind: kind -> (file suffix, bytes)."""
    import gguf
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from safetensors.numpy import save

    from model_files import torch_pickle

    rng = np.random.default_rng(0)
    files: dict[str, tuple[str, bytes]] = {}
    files["safetensors"] = (".safetensors", save({"a": rng.standard_normal((4, 8)).astype(np.float32),
                                                  "b": np.arange(6, dtype=np.int64)}))
    w = gguf.GGUFWriter(str(root / "seed.gguf"), "llama")
    w.add_name("fuzz")
    w.add_tensor("t.f32", rng.standard_normal((4, 32)).astype(np.float32))
    w.add_tensor("t.f16", rng.standard_normal((2, 32)).astype(np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    files["gguf"] = (".gguf", (root / "seed.gguf").read_bytes())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", torch_pickle([("w", "FloatStorage", 6, (2, 3)), ("b", "HalfStorage", 3, (3,))]))
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/data/0", b"\0" * 24)
        z.writestr("archive/data/1", b"\0" * 6)
        z.writestr("archive/version", "3\n")
    files["pytorch"] = (".pt", buf.getvalue())
    text = jsonl_text()
    files["jsonl"] = (".jsonl", text)
    files["jsonl.zst"] = (".jsonl.zst", zstandard.ZstdCompressor(level=3).compress(text))
    files["jsonl.gz"] = (".jsonl.gz", gzip.compress(text, mtime=0))
    table = pa.table({"text": [json.loads(line)["text"] for line in text.splitlines()], "id": list(range(60))})
    out = pa.BufferOutputStream()
    pq.write_table(table, out, row_group_size=16)
    files["parquet"] = (".parquet", out.getvalue().to_pybytes())
    files["txt.zst"] = (".txt.zst", zstandard.ZstdCompressor(level=3).compress(b"plain text " * 500))
    return files


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    how = rng.randrange(5)
    if how == 0 or not b:  # flip a few bytes
        for _ in range(rng.randint(1, 8)):
            if b:
                b[rng.randrange(len(b))] = rng.randrange(256)
    elif how == 1:  # cut
        del b[rng.randrange(len(b)):]
    elif how == 2:  # insert
        at = rng.randrange(len(b) + 1)
        b[at:at] = rng.randbytes(rng.randint(1, 64))
    elif how == 3:  # a length field (4 or 8 bytes, little-endian) set to a huge number
        width = rng.choice((4, 8))
        at = rng.randrange(max(1, len(b) - width))
        b[at:at + width] = struct.pack("<Q", rng.choice(HUGE))[:width]
    else:  # repeat a block
        start = rng.randrange(len(b))
        block = b[start:start + rng.randint(1, 256)]
        at = rng.randrange(len(b) + 1)
        b[at:at] = block * rng.randint(1, 4)
    return bytes(b)


def reader(kind: str) -> Callable[[Path], object]:
    if kind in ("safetensors", "gguf", "pytorch"):
        return lambda p: describe_model(str(p))
    if kind == "txt.zst":
        return lambda p: read_all(p)
    return lambda p: read_all(p, field="text")


def on_alarm(signum: int, frame: object) -> None:
    raise Hang(f"no answer within {CASE_SECONDS} s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--seconds", type=float, default=3.0, help="per kind of file")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, on_alarm)
    files = build(args.dir)
    cases: dict[str, int] = {}
    refused: dict[str, int] = {}
    failures: list[dict[str, object]] = []
    for kind, (suffix, seed_bytes) in files.items():
        rng = random.Random(f"{args.seed}:{kind}")
        read = reader(kind)
        path = args.dir / f"mutant{suffix}"
        n = refusals = 0
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            if kind in ("jsonl.zst", "jsonl.gz") and rng.random() < 0.5:  # mutate the text, then compress
                text = mutate(jsonl_text(), rng)
                data = zstandard.ZstdCompressor().compress(text) if kind == "jsonl.zst" else gzip.compress(text)
            else:
                data = mutate(seed_bytes, rng)
            path.write_bytes(data)
            n += 1
            signal.alarm(CASE_SECONDS)
            try:
                read(path)
            except KboundError:
                refusals += 1
            except Exception as e:  # anything but a KboundError is a failure
                failures.append({"kind": kind, "case": n, "error": f"{type(e).__name__}: {e}"[:300]})
            finally:
                signal.alarm(0)
        cases[kind], refused[kind] = n, refusals
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"cases": cases, "refused": refused, "failures": failures, "peak_rss_bytes": peak}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
