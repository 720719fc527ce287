"""Reading .safetensors headers (8-byte little-endian length + JSON) and sharded index files.

Only the header is read: its claimed length is checked against a cap and the file size before a
byte of it is read, every tensor's offsets must lie inside the data section, and each tensor's
byte span must equal its shape times its dtype's width.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from kbound.errors import fail
from kbound.models.dtypes import PLAIN_BITS
from kbound.models.info import DtypeShare, ModelInfo, add_shares, rate

#: The largest header kbound will read; real ones are a few hundred kB even for 400B models.
MAX_HEADER_BYTES = 100 * 10**6
#: The largest index.json kbound will read.
MAX_INDEX_BYTES = 64 * 10**6


def _tensor(path: Path, name: str, entry: object, data_bytes: int) -> tuple[str, int, int]:
    """Check one header entry; return (dtype, parameters, bytes)."""
    if not isinstance(entry, dict):
        raise fail(path, f"tensor {name!r} header entry is not an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str) or dtype.lower() not in PLAIN_BITS:
        raise fail(path, f"tensor {name!r} has unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise fail(path, f"tensor {name!r} has a malformed shape {shape!r}")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        or not 0 <= offsets[0] <= offsets[1] <= data_bytes
    ):
        raise fail(path, f"tensor {name!r} data_offsets {offsets!r} lie outside the {data_bytes}-byte data section")
    numel = math.prod(shape)
    bits = PLAIN_BITS[dtype.lower()]
    span, needed = offsets[1] - offsets[0], math.ceil(numel * bits / 8)
    if span != needed:
        raise fail(path, f"tensor {name!r} spans {span} bytes but shape {shape} of {dtype} needs {needed}")
    return dtype.lower(), numel, span


def read_header(path: Path) -> tuple[dict[str, Any], int]:
    """The parsed JSON header of a .safetensors file and the size of its data section, after every sanity check."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise fail(path, f"not a safetensors file: {size} bytes, too short for the 8-byte header length")
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER_BYTES:
            raise fail(path, f"not a safetensors file: header claims {n} bytes, over the {MAX_HEADER_BYTES}-byte cap")
        if 8 + n > size:
            raise fail(path, f"truncated or not a safetensors file: header claims {n} bytes but the file has {size}")
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise fail(path, "not a safetensors file: header is not JSON") from None
    if not isinstance(header, dict):
        raise fail(path, "not a safetensors file: header is not a JSON object")
    return header, size - 8 - n


def read_safetensors(path: Path, source: str | None = None) -> ModelInfo:
    """Describe one .safetensors file from its header: tensors, parameters and bytes per dtype."""
    header, data_bytes = read_header(path)
    size = path.stat().st_size
    dtypes: dict[str, DtypeShare] = {}
    parameters = tensor_bytes = tensors = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype, numel, span = _tensor(path, name, entry, data_bytes)
        add_shares(dtypes, dtype, numel, span)
        parameters, tensor_bytes, tensors = parameters + numel, tensor_bytes + span, tensors + 1
    return ModelInfo(
        source=source if source is not None else str(path), kind="safetensors", bytes_on_disk=size, other_bytes=0,
        parameters=parameters, dtypes=dtypes, bits_per_parameter=rate(tensor_bytes, parameters), files=(str(path),),
        tensors=tensors, tensor_bytes=tensor_bytes,
    )


def tensor_names(path: Path) -> set[str]:
    """The tensor names in a .safetensors header (for checking an index against its shards)."""
    header, _ = read_header(path)
    return {k for k in header if k != "__metadata__"}


def read_index(path: Path, source: str | None = None) -> ModelInfo:
    """Describe a sharded checkpoint from its `*.safetensors.index.json`: every shard it names, summed."""
    size = path.stat().st_size
    if size > MAX_INDEX_BYTES:
        raise fail(path, f"index file is {size} bytes, over the {MAX_INDEX_BYTES}-byte cap")
    try:
        index = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise fail(path, "not a safetensors index: not JSON") from None
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise fail(path, "not a safetensors index: no weight_map object of tensor name to shard file")
    shards: dict[str, set[str]] = {}
    for tensor, shard in weight_map.items():
        parts = PurePosixPath(shard).parts
        if not parts or PurePosixPath(shard).is_absolute() or ".." in parts or "\\" in shard:
            raise fail(path, f"index names shard {shard!r} outside its own directory")
        shards.setdefault(shard, set()).add(tensor)
    infos = []
    for shard, listed in sorted(shards.items()):
        shard_path = path.parent / shard
        if not shard_path.is_file():
            raise fail(path, f"index names shard {shard!r}, which is missing")
        info = read_safetensors(shard_path)
        missing = listed - tensor_names(shard_path)
        if missing:
            raise fail(path, f"tensor {sorted(missing)[0]!r} is indexed in shard {shard!r} but not in its header")
        infos.append(info)
    merged = merge(source if source is not None else str(path), "safetensors", infos)
    return replace(merged, other_bytes=size, other_files=(str(path),), note=f"{len(infos)} shards")


def merge(source: str, kind: str, infos: list[ModelInfo]) -> ModelInfo:
    """Sum several ModelInfos (shards, or the weight files of a directory) into one."""
    dtypes: dict[str, DtypeShare] = {}
    for info in infos:
        for name, share in info.dtypes.items():
            add_shares(dtypes, name, share.parameters, share.tensor_bytes)
    params = [i.parameters for i in infos]
    parameters = None if any(p is None for p in params) else sum(p for p in params if p is not None)
    tbytes = [i.tensor_bytes for i in infos]
    tensor_bytes = None if any(t is None for t in tbytes) else sum(t for t in tbytes if t is not None)
    counts = [i.tensors for i in infos]
    notes = [f"{os.path.basename(i.files[0]) if i.files else i.source}: {i.note}" for i in infos if i.note]
    if len(infos) > 1 and len({i.note for i in infos}) == 1 and infos[0].note:
        notes = [infos[0].note]  # shards of one model say the same thing once
    return ModelInfo(
        source=source, kind=kind, bytes_on_disk=sum(i.bytes_on_disk for i in infos),
        other_bytes=sum(i.other_bytes for i in infos), parameters=parameters, dtypes=dtypes,
        bits_per_parameter=rate(tensor_bytes, parameters), files=tuple(f for i in infos for f in i.files),
        note="; ".join(notes) or None, tensors=None if any(c is None for c in counts) else sum(c for c in counts if c),
        tensor_bytes=tensor_bytes, other_files=tuple(f for i in infos for f in i.other_files),
    )
