"""Reading PyTorch .bin/.pt zip checkpoints: bytes from the zip entries, parameters from pickle opcodes.

The pickle (`<prefix>/data.pkl`) is never loaded: `pickle_scan` walks its opcodes to find the
persistent ids `('storage', torch.FloatStorage, key, location, numel)` that name each storage's
dtype and element count. Legacy (pre-1.6, non-zip) checkpoints interleave pickles with raw data
and are refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

from kbound.errors import fail
from kbound.models.info import DtypeShare, ModelInfo, add_shares, rate
from kbound.models.pickle_scan import Call, Global, Persistent, Scan, Unreadable, scan

#: The largest data.pkl kbound will walk; a 70B model's is a few hundred kB.
MAX_PICKLE_BYTES = 64 * 10**6

#: torch storage classes → (dtype, bytes per element).
_STORAGES: dict[str, tuple[str, int]] = {
    "DoubleStorage": ("f64", 8), "FloatStorage": ("f32", 4), "HalfStorage": ("f16", 2),
    "BFloat16Storage": ("bf16", 2), "LongStorage": ("i64", 8), "IntStorage": ("i32", 4),
    "ShortStorage": ("i16", 2), "CharStorage": ("i8", 1), "ByteStorage": ("u8", 1), "BoolStorage": ("bool", 1),
    "ComplexFloatStorage": ("c64", 8), "ComplexDoubleStorage": ("c128", 16),
    "QInt8Storage": ("i8", 1), "QUInt8Storage": ("u8", 1), "QInt32Storage": ("i32", 4),
}
#: torch dtype names (as pickled for `_rebuild_tensor_v3`) → (dtype, bytes per element).
_DTYPES: dict[str, tuple[str, int]] = {
    "float64": ("f64", 8), "float32": ("f32", 4), "float16": ("f16", 2), "bfloat16": ("bf16", 2),
    "int64": ("i64", 8), "int32": ("i32", 4), "int16": ("i16", 2), "int8": ("i8", 1), "uint8": ("u8", 1),
    "bool": ("bool", 1), "float8_e4m3fn": ("f8_e4m3", 1), "float8_e5m2": ("f8_e5m2", 1),
    "float8_e4m3fnuz": ("f8_e4m3", 1), "float8_e5m2fnuz": ("f8_e5m2", 1),
}
_REBUILD = {"_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3"}
_ZIP_MAGIC = b"PK\x03\x04"


def _is_rebuild(c: Call) -> bool:
    return isinstance(c.func, Global) and c.func.module == "torch._utils" and c.func.name in _REBUILD


def _suspicious(found: Scan) -> list[str]:
    """Globals a plain state dict does not need: what the pickle would have imported beyond torch."""
    names = {str(g) for g in found.globals if not (g.module == "torch" or g.module.startswith("torch."))}
    return sorted(names - {"collections.OrderedDict"})


def _untyped_dtypes(found: Scan) -> dict[int, tuple[str, int]]:
    """For UntypedStorage (numel in bytes): the dtype a `_rebuild_tensor_v3` call gives it, by storage id."""
    out: dict[int, tuple[str, int]] = {}
    for c in found.calls:
        if _is_rebuild(c) and isinstance(c.args, tuple) and len(c.args) > 6 and isinstance(c.args[0], Persistent):
            dt = c.args[6]
            if isinstance(dt, Global) and dt.module == "torch" and dt.name in _DTYPES:
                out[id(c.args[0].pid)] = _DTYPES[dt.name]
    return out


def _storages(path: Path, found: Scan, entries: dict[str, int]) -> dict[str, tuple[str, int, int]]:
    """Storage key → (dtype, elements, bytes), checked against the zip entry holding it."""
    untyped = _untyped_dtypes(found)
    out: dict[str, tuple[str, int, int]] = {}
    for p in found.persistent:
        pid = p.pid
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], Global)):
            raise Unreadable(f"persistent id {pid!r} is not a torch storage")
        kind, key, numel = pid[1].name, str(pid[2]), pid[4]
        if not isinstance(numel, int) or numel < 0:
            raise Unreadable(f"storage {key} has element count {numel!r}")
        if kind in _STORAGES:
            dtype, width = _STORAGES[kind]
            elements = numel
        elif kind == "UntypedStorage" and id(pid) in untyped:
            dtype, width = untyped[id(pid)]
            elements = numel // width
        else:
            raise Unreadable(f"storage type {kind} is not known")
        if key not in entries:
            raise fail(path, f"pickle names storage {key}, which the zip does not hold")
        if entries[key] != elements * width:
            held = entries[key]
            raise fail(path, f"storage {key} claims {elements} {dtype} elements but its zip entry holds {held} bytes")
        out[key] = (dtype, elements, entries[key])
    return out


def read_pytorch(path: Path, source: str | None = None) -> ModelInfo:
    """Describe a PyTorch zip checkpoint without unpickling it."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(4)
    if head[:1] in (b"\x80", b"("):
        raise fail(path, "legacy (non-zip) PyTorch pickle: cannot be read without executing it; convert to safetensors")
    if head != _ZIP_MAGIC:
        raise fail(path, "not a PyTorch zip checkpoint (nor any model format kbound reads)")
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            pickles = [i for i in infos if i.filename.count("/") == 1 and i.filename.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise fail(path, f"zip file with {len(pickles)} top-level data.pkl entries: not a PyTorch checkpoint")
            prefix = pickles[0].filename[: -len("data.pkl")]
            for i in infos:
                if i.header_offset + i.compress_size > size:
                    raise fail(path, f"truncated zip: entry {i.filename!r} runs past the end of the file")
            entries = {
                i.filename[len(prefix) + 5 :]: i.file_size for i in infos if i.filename.startswith(prefix + "data/")
            }
            data_pkl = None if pickles[0].file_size > MAX_PICKLE_BYTES else z.read(pickles[0])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as e:
        raise fail(path, f"malformed zip checkpoint: {e}") from None
    tensor_bytes = sum(entries.values())
    base = ModelInfo(
        source=source if source is not None else str(path), kind="pytorch", bytes_on_disk=size, other_bytes=0,
        parameters=None, dtypes={}, bits_per_parameter=None, files=(str(path),), tensor_bytes=tensor_bytes,
    )
    if data_pkl is None:
        return replace(base, note=f"parameters unknown: data.pkl is over the {MAX_PICKLE_BYTES}-byte cap")
    try:
        found = scan(data_pkl)
        storages = _storages(path, found, entries)
    except Unreadable as e:
        return replace(base, note=f"parameters unknown: the pickle could not be read without running it ({e})")
    dtypes: dict[str, DtypeShare] = {}
    for dtype, elements, n_bytes in storages.values():
        add_shares(dtypes, dtype, elements, n_bytes)
    parameters = sum(e for _, e, _ in storages.values())
    stored = sum(b for _, _, b in storages.values())
    tensors = len({id(c) for c in found.calls if _is_rebuild(c)})
    odd = _suspicious(found)
    note = None if not odd else "the pickle names " + ", ".join(odd) + " (not executed: kbound never unpickles)"
    return ModelInfo(
        source=base.source, kind="pytorch", bytes_on_disk=size, other_bytes=0, parameters=parameters, dtypes=dtypes,
        bits_per_parameter=rate(stored, parameters), files=(str(path),), note=note, tensors=tensors,
        tensor_bytes=tensor_bytes,
    )
