"""Reading a model's size safely (headers only, never unpickling) and comparing it with a bound.

`describe_model(arg)` takes what a user passes to `--model`: a .safetensors file, a sharded
checkpoint's directory or `model.safetensors.index.json`, a .gguf file, a PyTorch .bin/.pt zip
checkpoint, a model directory, or a size typed by hand (`13GB`, `500GiB`, `7B`, `70B:q4_k`).
Anything malformed or unsupported raises `ModelFormatError` with one line of text.
"""

from __future__ import annotations

import struct
from pathlib import Path

from kbound.errors import fail
from kbound.models.directory import read_directory
from kbound.models.dtypes import BITS_PER_PARAMETER, bits_per_parameter
from kbound.models.gguf_ import read_gguf
from kbound.models.info import DtypeShare, ModelInfo
from kbound.models.pytorch import read_pytorch
from kbound.models.safetensors_ import read_index, read_safetensors
from kbound.models.typed import parse_typed
from kbound.models.verdict import DEFAULT_BITS_PER_PARAM, ModelComparison, TwoPartCode, compare, compare_report

__all__ = [
    "BITS_PER_PARAMETER",
    "DEFAULT_BITS_PER_PARAM",
    "DtypeShare",
    "ModelComparison",
    "ModelInfo",
    "TwoPartCode",
    "bits_per_parameter",
    "compare",
    "compare_report",
    "describe_model",
]

_BY_SUFFIX = {
    ".safetensors": read_safetensors, ".gguf": read_gguf, ".bin": read_pytorch, ".pt": read_pytorch,
    ".pth": read_pytorch, ".ckpt": read_pytorch,
}


def _sniff(path: Path, source: str) -> ModelInfo:
    """Pick a reader for a file by its suffix, else by its first bytes."""
    if path.name.endswith(".index.json"):
        return read_index(path, source)
    reader = _BY_SUFFIX.get(path.suffix.lower())
    if reader is not None:
        return reader(path, source)
    with path.open("rb") as f:
        head = f.read(9)
    if head[:4] == b"GGUF":
        return read_gguf(path, source)
    if head[:4] == b"PK\x03\x04" or head[:1] == b"\x80":
        return read_pytorch(path, source)
    if len(head) == 9 and head[8:9] == b"{" and 8 + struct.unpack("<Q", head[:8])[0] <= path.stat().st_size:
        return read_safetensors(path, source)
    if path.suffix.lower() == ".json":
        return read_index(path, source)
    raise fail(path, "not a model file kbound can read (.safetensors, .gguf, PyTorch zip .bin/.pt, index.json)")


def describe_model(arg: str) -> ModelInfo:
    """Describe what `--model ARG` names: an existing file or directory by its headers, else a typed size."""
    path = Path(arg).expanduser()
    try:
        if path.is_dir():
            return read_directory(path, arg)
        if path.exists():
            if not path.is_file():
                raise fail(arg, "not a regular file")
            return _sniff(path, arg)
    except OSError as e:
        raise fail(arg, f"cannot read: {e.strerror or e}") from None
    except ValueError:  # a NUL byte in the name: not a path, so perhaps a typed size
        pass
    return parse_typed(arg)
