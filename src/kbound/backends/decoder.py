"""Measuring a backend's decoder: its files as installed, compressed with xz -9e.

K(x) <= |payload| + |decoder| + O(1), with CPython as the reference machine. The decoder is
the codec's extension module and the shared libraries it loads that a bare interpreter lacks
(found by loading it in a fresh interpreter and comparing /proc/self/maps), plus the Python
source the decode path runs: the library's wrapper, and the kbound modules found by reading
the imports of the backend's module (`decode_modules`; a subprocess test decodes a payload
for every backend and checks that nothing else of kbound's was loaded). Of an ELF
file only the sections the loader maps are counted (what `strip` keeps): some wheels ship
their libraries with debug information, megabytes that never run. These files hold the
encoder too, so the count is generous: an upper bound stays an upper bound.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import json
import lzma
import os
import struct
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kbound.backends.base import Backend
from kbound.cache_dir import cache_dir, read_json, write_json_atomic

#: Changes whenever the way a decoder is measured changes, so old cached sizes are not reused.
_METHOD = "xz9e-loadable-v2"

_PROBE = r"""
import ctypes, json, sys
def maps():
    with open("/proc/self/maps") as f:
        return {p[5].strip() for p in (l.split(None, 5) for l in f) if len(p) == 6 and p[5].startswith("/")}
before = maps()
for path in sys.argv[1:]:
    ctypes.CDLL(path)
print(json.dumps(sorted((maps() - before) | set(sys.argv[1:]))))
"""


#: The directory holding the `kbound` package's modules.
_PACKAGE = Path(__file__).resolve().parents[1]


def _kbound_source(module: str) -> Path | None:
    """The source file of a kbound module, or None for a name that is not one (a class, a namespace package)."""
    rel = Path(*module.split(".")[1:])
    for path in (_PACKAGE / rel.with_suffix(".py"), _PACKAGE / rel / "__init__.py"):
        if rel.parts and path.is_file():
            return path
    return None


def _under_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(module: str, source: str) -> set[str]:
    """The kbound modules that a module's import statements name, wherever they stand (not under TYPE_CHECKING)."""
    package = module if source.endswith("__init__.py") else module.rpartition(".")[0]
    names: set[str] = set()
    todo: list[ast.AST] = [ast.parse(source)]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and _under_type_checking(node):
            todo += node.orelse
            continue
        todo += ast.iter_child_nodes(node)
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, `level - 1` steps up
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)
    return {found for name in names for found in _with_packages(name)}


def _with_packages(module: str) -> list[str]:
    """A kbound module and the packages that importing it runs (kbound's own __init__ aside: see below)."""
    parts = module.split(".")
    if parts[0] != "kbound":
        return []
    return [p for p in (".".join(parts[:i]) for i in range(2, len(parts) + 1)) if _kbound_source(p)]


@cache
def decode_modules(*entries: str) -> tuple[str, ...]:
    """The kbound modules a decode path entered at `entries` can run: theirs and every one they import, transitively.

    This is the one rule for the kbound code a decoder counts. Import statements are read from
    the source (inside functions too, so a late import is counted; not those under
    TYPE_CHECKING, which never run); a module that only measures or schedules is therefore kept
    out of a backend's imports, not left off a list. The top-level `kbound/__init__.py` is not
    counted: it is the library's public API, which imports everything, and a decoder laid out
    on its own has an empty one there (the test decodes each backend that way).
    """
    seen: set[str] = set()
    todo = [*entries, *(p for e in entries for p in _with_packages(e))]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _kbound_source(module) if module.startswith("kbound.") else None
        origin = str(path) if path else _origin(module)
        if origin and origin.endswith(".py"):
            todo += _imported(module, Path(origin).read_text(encoding="utf-8")) - seen
    return tuple(sorted(seen))


@dataclass(frozen=True)
class Decoder:
    """A decoder's size and what it was measured from."""

    decoder_bytes: int
    files: tuple[str, ...]
    method: str


def _origin(module: str) -> str | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
        return None
    return spec.origin


def _native_files(extensions: tuple[str, ...], libraries: tuple[str, ...] = ()) -> list[str]:
    paths = [p for p in (_origin(m) for m in extensions) if p] + list(libraries)
    if not paths:
        return []
    if not Path("/proc/self/maps").exists():
        return paths  # no way to see linked libraries here; count the modules alone
    out = subprocess.run(
        [sys.executable, "-I", "-c", _PROBE, *paths], capture_output=True, text=True, timeout=60, check=False
    )
    if out.returncode != 0:
        return paths
    return list(json.loads(out.stdout))


def decoder_files(
    native: tuple[str, ...], python: tuple[str, ...], libraries: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The files that make up a decoder (extension modules, shared libraries, what they load, sources), by name."""
    files = set(_native_files(native, libraries))
    files.update(p for p in (_origin(m) for m in python) if p)
    # Ordered by file name, not full path, so the archive (and its size) is the same wherever
    # Python and the libraries are installed.
    return tuple(sorted(files, key=lambda f: (os.path.basename(f), f)))


_SHF_ALLOC, _SHT_NOBITS = 0x2, 8


def loadable_bytes(data: bytes) -> bytes:
    """The ELF header, program headers and allocated sections of a 64-bit little-endian ELF file.

    Debug information and the static symbol table are not allocated: the loader never maps
    them, so they are not part of the program that runs. Other files are returned whole.
    """
    if data[:6] != b"\x7fELF\x02\x01" or len(data) < 64:
        return data
    phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
    phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", data, 0x36)
    if not shoff or shentsize < 64 or shoff + shnum * shentsize > len(data):
        return data
    parts = [data[: max(64, phoff + phentsize * phnum)]]
    for i in range(shnum):
        _, sh_type, flags, _, offset, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        if flags & _SHF_ALLOC and sh_type != _SHT_NOBITS:
            parts.append(data[offset : offset + size])
    return b"".join(parts)


def _xz_size(files: tuple[str, ...]) -> int:
    # The manifest (name and length of each file) lets the archive be split apart again.
    blobs = [loadable_bytes(Path(f).read_bytes()) for f in files]
    manifest = "".join(f"{os.path.basename(f)}\t{len(b)}\n" for f, b in zip(files, blobs, strict=True))
    data = manifest.encode() + b"".join(blobs)
    return len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))


def _fingerprint(files: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for f in files:
        st = os.stat(f)
        # ctime too, as for a source's stamp: a library replaced in place with its mtime kept still shows.
        h.update(f"{_METHOD}\0{f}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\n".encode())
    return h.hexdigest()


@cache
def measure_decoder(
    native: tuple[str, ...], python: tuple[str, ...], cache_root: str | None = None, write_cache: bool = True,
    libraries: tuple[str, ...] = (),
) -> Decoder:
    """Measure (or recall from the cache) the decoder made of these extension and Python modules.

    `libraries` are shared libraries loaded through ctypes rather than as extension modules
    (llama.cpp's); they and what they load are counted like an extension module's. With
    `write_cache` False (`--no-cache`) the cache is neither read nor written.
    """
    files = decoder_files(native, python, libraries)
    if not files:
        return Decoder(0, (), "nothing beyond the reference interpreter")
    return _measured(files, cache_root, write_cache)


def _measured(files: tuple[str, ...], cache_root: str | None, write_cache: bool) -> Decoder:
    """The xz -9e size of these files, recalled from or stored in the decoder cache."""
    key = _fingerprint(files)
    path = cache_dir(cache_root) / "decoders.json"
    table = read_json(path) if write_cache else None
    table = table if isinstance(table, dict) else {}
    size = table.get(key)
    if not isinstance(size, int) or size <= 0:
        size = _xz_size(files)
        table[key] = size
        if write_cache:
            with contextlib.suppress(OSError):  # an unwritable cache costs time, not correctness
                write_json_atomic(path, table)
    names = ", ".join(os.path.basename(f) for f in files)
    return Decoder(size, files, f"xz -9e of the loadable part of {len(files)} files: {names}")


def measure(backend: Backend, cache_root: str | None = None, *, write_cache: bool = True,
            entries: tuple[str, ...] = ()) -> Decoder:
    """A backend's decoder: its library's modules, kbound's `decode_modules` from the backend's module
    (and from `entries`: the duplicate stage's recipe), the libraries it loads through ctypes, and its
    data files (a model) counted whole as stored. With `write_cache` False the cache is not touched."""
    cls = type(backend)
    python = (*cls.decoder_python, *decode_modules(cls.__module__, *entries))
    code = measure_decoder(cls.decoder_native, python, cache_root, write_cache, backend.decoder_libraries())
    data = tuple(os.path.realpath(f) for f in backend.decoder_data())
    if not data:
        return code
    size = sum(os.path.getsize(f) for f in data)
    names = ", ".join(os.path.basename(f) for f in data)
    return Decoder(code.decoder_bytes + size, (*code.files, *data),
                   f"{code.method}; plus {names}, {size:,} bytes as stored")
