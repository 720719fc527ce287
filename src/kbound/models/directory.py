"""Reading a model directory: weight files counted apart from tokenizer, config and other files.

When the same weights sit there in several formats (model.safetensors beside pytorch_model.bin,
as Hugging Face snapshots often have), only one format is counted, in the order safetensors,
gguf, pytorch, and the others are named in the note. Several unrelated .gguf files (different
quantisations of one model) are refused: which one is meant cannot be guessed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from kbound.errors import fail
from kbound.models.gguf_ import read_gguf
from kbound.models.info import ModelInfo
from kbound.models.pytorch import read_pytorch
from kbound.models.safetensors_ import merge, read_index, read_safetensors

_FORMATS: dict[str, str] = {
    ".safetensors": "safetensors", ".gguf": "gguf", ".bin": "pytorch", ".pt": "pytorch", ".pth": "pytorch",
    ".ckpt": "pytorch",
}
_PREFERENCE = ("safetensors", "gguf", "pytorch")
#: Weights in formats kbound does not read; never counted, named in the note.
_OTHER_FORMATS = {".onnx", ".h5", ".keras", ".msgpack", ".tflite", ".ot", ".mlmodel", ".npz"}
#: Training-state files that share weight extensions but hold no model weights.
_TRAINING_STATE = re.compile(r"^(training_args\.bin|optimizer\.(pt|bin)|scheduler\.pt|scaler\.pt|rng_state.*\.pth)$")
_GGUF_SPLIT = re.compile(r"-\d{5}-of-\d{5}\.gguf$")
_READERS: dict[str, Callable[[Path], ModelInfo]] = {
    "safetensors": read_safetensors, "gguf": read_gguf, "pytorch": read_pytorch,
}


def _walk(root: Path) -> list[Path]:
    out = []
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [Path(here) / f for f in sorted(files) if not f.startswith(".")]
    return out


def read_directory(root: Path, source: str | None = None) -> ModelInfo:
    """Describe every weight file under a directory, in one format, with the other files' bytes apart."""
    by_format: dict[str, list[Path]] = {}
    indexes: list[Path] = []
    other: list[Path] = []
    skipped: list[Path] = []
    for path in _walk(root):
        name = path.name
        if name.endswith(".safetensors.index.json"):
            indexes.append(path)
        elif path.suffix in _FORMATS and not _TRAINING_STATE.match(name):
            by_format.setdefault(_FORMATS[path.suffix], []).append(path)
        elif path.suffix in _OTHER_FORMATS:
            skipped.append(path)
        elif path.is_file():
            other.append(path)
    chosen = next((f for f in _PREFERENCE if by_format.get(f)), None)
    if chosen is None:
        raise fail(root, "no weight files (.safetensors, .gguf, .bin, .pt) in this directory")
    for fmt, paths in by_format.items():
        if fmt != chosen:
            skipped += paths
    if chosen != "safetensors":
        other += indexes
    weights = by_format[chosen]
    if chosen == "gguf" and len(weights) > 1 and not all(_GGUF_SPLIT.search(p.name) for p in weights):
        names = ", ".join(p.name for p in weights)
        raise fail(root, f"holds {len(weights)} .gguf files ({names}): name the one to measure")
    infos: list[ModelInfo] = []
    if chosen == "safetensors":
        for index in indexes:
            info = read_index(index)
            infos.append(info)
        in_index = {os.path.realpath(f) for i in infos for f in i.files}
        weights = [p for p in weights if os.path.realpath(p) not in in_index]
    infos += [_READERS[chosen](p) for p in weights]
    merged = merge(source if source is not None else str(root), "directory", infos)
    notes = [merged.note] if merged.note else []
    if skipped:
        listed = ", ".join(str(p.relative_to(root)) for p in skipped[:5]) + (", ..." if len(skipped) > 5 else "")
        notes.append(f"not counted (other formats, likely the same weights): {listed}")
    return replace(
        merged,
        other_bytes=merged.other_bytes + sum(p.stat().st_size for p in other),
        other_files=merged.other_files + tuple(str(p) for p in other),
        note="; ".join(notes) or None,
    )
