"""The model backends without numba: the counted decoder is the Python source on CPython + NumPy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kbound.backends.registry import parse_spec

CORPORA = Path(__file__).resolve().parent.parent / "corpora"
ALICE = (CORPORA / "alice29.txt").read_bytes()

#: numba and llvmlite made unimportable before kbound loads: `import numba` raises ImportError.
_BLOCK = "import sys; sys.modules['numba'] = None; sys.modules['llvmlite'] = None\n"

_ROUND_TRIP = _BLOCK + r"""
import hashlib, json
from kbound.backends import jit
from kbound.backends.registry import parse_spec
specs, data = json.loads(sys.argv[1]), open(sys.argv[2], 'rb').read()
rows = {}
for spec in specs:
    backend = parse_spec(spec)
    payload = backend.compress(data)
    rows[spec] = [hashlib.sha256(payload).hexdigest(), backend.decompress(payload) == data, backend.library_version()]
loaded = sorted(m for m in sys.modules if m.startswith(("numba", "llvmlite")) and sys.modules[m] is not None)
print(json.dumps({"numba": jit.NUMBA_VERSION, "modules": loaded, "rows": rows}))
"""


def _run_without_numba(specs: list[str], data: bytes, tmp_path: Path) -> dict[str, object]:
    text = tmp_path / "input.txt"
    text.write_bytes(data)
    out = subprocess.run([sys.executable, "-c", _ROUND_TRIP, json.dumps(specs), str(text)],
                         capture_output=True, text=True, timeout=600, check=True)
    result: dict[str, object] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize("specs", [["order:3,mem=1m", "cm:mem=16m", "cmx:mem=16m"]])
def test_round_trip_without_numba_matches_the_compiled_payload(specs: list[str], tmp_path: Path) -> None:
    import hashlib

    data = ALICE[:3000]
    result = _run_without_numba(specs, data, tmp_path)
    assert result["numba"] is None and result["modules"] == []
    rows = result["rows"]
    assert isinstance(rows, dict)
    for spec in specs:
        compiled = parse_spec(spec).compress(data)
        digest, round_trip, version = rows[spec]
        assert round_trip, spec
        assert digest == hashlib.sha256(compiled).hexdigest(), spec  # the same bytes with and without numba
        assert "no numba" in version
