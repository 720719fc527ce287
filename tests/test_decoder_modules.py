"""What a decoder counts of kbound's code is what its decode path loads: each backend decodes in a fresh interpreter.

`kbound.backends.decoder.decode_modules` reads the imports; here every backend (and the duplicate
stage's recipe on top of it) decodes a real payload in a new process, under an empty top-level
`kbound` package as a decoder laid out on its own would have, and every kbound module that
process loaded must be in the counted set.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import kbound
from kbound.backends.base import Backend, write_varint
from kbound.backends.decoder import decode_modules, measure
from kbound.backends.registry import entries, parse_spec
from kbound.dedup.recipe import RecipeWriter
from kbound.run.dedup import RECIPE_ENTRY

ALICE = Path(__file__).resolve().parent.parent / "corpora" / "alice29.txt"
#: Small settings for the model coders: the subprocess decodes them as plain Python (NUMBA_DISABLE_JIT).
SPECS = {"order": "order", "cm": "cm:mem=16m", "cmx": "cmx:mem=64m", "cmx2": "cmx2:mem=128m"}
#: The model coders decode this much as plain Python; the library codecs a larger piece.
SMALL, LARGE = 400, 20_000

_DECODE = r"""
import hashlib, importlib, json, sys, types
package, entry, name, args, plain, dedup, digest, dedup_digest = sys.argv[1:]
root = types.ModuleType("kbound")  # empty: the library's public API is no part of a decoder
root.__path__ = [package]
sys.modules["kbound"] = root
before = set(sys.modules)

def loaded():  # a namespace package (kbound.backends) has no file: it holds no code
    return sorted(m for m in set(sys.modules) - before if m.startswith("kbound.") and sys.modules[m].__file__)

backend = getattr(importlib.import_module(entry), name).from_args(args)
assert hashlib.sha256(backend.decompress(open(plain, "rb").read())).hexdigest() == digest
after_plain = loaded()
recipe = importlib.import_module("kbound.dedup.recipe")
restored = recipe.decode(open(dedup, "rb").read(), backend.decompress)
assert hashlib.sha256(restored).hexdigest() == dedup_digest
print(json.dumps({"plain": after_plain, "dedup": loaded(), "files": [sys.modules[m].__file__ for m in loaded()]}))
"""


def _dedup_payload(backend: Backend, text: bytes) -> tuple[bytes, bytes]:
    """A one-shard deduplicated payload of `text` twice over (the second copy a reference), and that output."""
    writer = RecipeWriter()
    writer.literal(len(text))
    writer.reference(0, len(text), len(text))
    recipe = writer.finish()
    shard = write_varint(len(recipe)) + recipe + backend.compress(text)
    return write_varint(1) + write_varint(len(shard)) + shard, text + text


def _decode_elsewhere(backend: Backend, text: bytes, tmp_path: Path) -> dict[str, list[str]]:
    plain = tmp_path / "plain.bin"
    plain.write_bytes(backend.compress(text))
    payload, doubled = _dedup_payload(backend, text)
    dedup = tmp_path / "dedup.bin"
    dedup.write_bytes(payload)
    cls = type(backend)
    args = backend.spec.partition(":")[2]
    package = str(Path(kbound.__file__).parent)
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _DECODE, package, cls.__module__, cls.__name__, args, str(plain), str(dedup),
         hashlib.sha256(text).hexdigest(), hashlib.sha256(doubled).hexdigest()],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )
    assert out.returncode == 0, out.stderr
    found: dict[str, list[str]] = json.loads(out.stdout)
    return found


def _check(backend: Backend, text: bytes, tmp_path: Path) -> None:
    found = _decode_elsewhere(backend, text, tmp_path)
    package = Path(kbound.__file__).parent
    assert all(Path(f).is_relative_to(package) for f in found["files"])  # the code under test was what ran
    module = type(backend).__module__
    assert module in found["plain"]
    assert set(found["plain"]) <= set(decode_modules(module))
    assert RECIPE_ENTRY in found["dedup"]
    assert set(found["dedup"]) <= set(decode_modules(module, RECIPE_ENTRY))
    # And the files measured are those that ran.
    assert set(found["files"]) <= set(measure(backend, entries=(RECIPE_ENTRY,)).files)


NEEDS_A_FILE = {"lm"}
AVAILABLE = [name for name, e in entries().items() if e.cls is not None and name not in NEEDS_A_FILE]


@pytest.mark.parametrize("name", AVAILABLE)
def test_every_kbound_module_a_decode_loads_is_counted(name: str, tmp_path: Path) -> None:
    text = ALICE.read_bytes()[: SMALL if name in SPECS else LARGE]
    _check(parse_spec(SPECS.get(name, name)), text, tmp_path)


@pytest.mark.llm
def test_the_lm_decode_path_is_counted_too(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="the llm extra (llama-cpp-python) is not installed")
    from llm_models import write_tiny_llama

    model = write_tiny_llama(tmp_path / "tiny.gguf", seed=1)
    _check(parse_spec(f"lm:{model},window=32"), ALICE.read_bytes()[:SMALL], tmp_path)


def test_no_backend_lists_kbound_modules_by_hand() -> None:
    """The one rule: a backend names its library's modules; kbound's own are found from its imports."""
    for name, entry in entries().items():
        if entry.cls is not None:
            assert not [m for m in entry.cls.decoder_python if m.split(".")[0] == "kbound"], name


def test_what_only_measures_or_schedules_is_not_counted() -> None:
    counted = set(decode_modules(*(e.cls.__module__ for e in entries().values() if e.cls is not None), RECIPE_ENTRY))
    assert not counted & {"kbound.backends.decoder", "kbound.backends.catalog", "kbound.backends.registry",
                          "kbound.cache_dir", "kbound.run.dedup"}
    assert {"kbound.backends.base", "kbound.backends.stream", "kbound.dedup.recipe"} <= counted


def test_a_stored_row_is_keyed_on_every_module_its_decoder_counts() -> None:
    """A change to base.py changes every decoder's size, so it must also miss every stored row's key."""
    from kbound.run.cache import identity_modules

    for name in AVAILABLE:
        cls = type(parse_spec(SPECS.get(name, name)))
        assert set(decode_modules(cls.__module__, RECIPE_ENTRY)) <= set(identity_modules(cls)), name
        assert "kbound.backends.base" in identity_modules(cls)
