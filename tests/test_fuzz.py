"""A bounded fuzz test: seeded mutants of every model format and input kind give a result or one clean
`KboundError`, never another exception, a hang or unbounded memory (the driver: tests/fuzz_inputs.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DRIVER = Path(__file__).resolve().parent / "fuzz_inputs.py"
KINDS = {"safetensors", "gguf", "pytorch", "jsonl", "jsonl.zst", "jsonl.gz", "parquet", "txt.zst"}


def test_mutated_headers_and_inputs_fail_cleanly(tmp_path: Path) -> None:
    # 2 s per kind, in a process of its own (its peak RSS is its own); each case has a 10 s alarm.
    proc = subprocess.run([sys.executable, str(DRIVER), str(tmp_path), "--seconds", "2", "--seed", "1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["failures"] == []
    assert set(result["cases"]) == KINDS
    for kind in KINDS:
        cases, refused = result["cases"][kind], result["refused"][kind]
        assert cases >= 100, kind  # the budget ran many mutants of each kind
        assert 0 < refused < cases, kind  # and they reach the readers: some are refused, some still read
    assert result["peak_rss_bytes"] < 1 << 30
