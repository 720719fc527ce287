"""Reading GGUF files by their headers: tensor types, shapes, quantisation."""

from __future__ import annotations

import struct
from pathlib import Path

import gguf
import pytest

from kbound.models import DtypeShare, describe_model
from model_files import Q, one_line_error, write_gguf


@pytest.mark.parametrize(
    ("qtype", "bits"),
    [(Q.F32, 32), (Q.F16, 16), (Q.BF16, 16), (Q.Q8_0, 8.5), (Q.Q4_0, 4.5), (Q.Q4_K, 4.5), (Q.Q6_K, 6.5625),
     (Q.Q2_K, 2.625)],
)
def test_gguf_single_type_exact(tmp_path: Path, qtype: gguf.GGMLQuantizationType, bits: float) -> None:
    path = write_gguf(tmp_path / "m.gguf", [qtype])
    info = describe_model(str(path))
    assert info.kind == "gguf"
    assert info.parameters == 4 * 256
    assert info.bits_per_parameter == bits
    assert info.dtypes == {qtype.name.lower(): DtypeShare(1024, int(1024 * bits / 8))}
    assert info.bytes_on_disk == path.stat().st_size
    assert info.note == "architecture llama"


def test_gguf_mixed_types(tmp_path: Path) -> None:
    info = describe_model(str(write_gguf(tmp_path / "m.gguf", [Q.F32, Q.F16, Q.Q8_0, Q.Q4_0])))
    assert info.parameters == 4 * 1024
    assert info.tensor_bytes == 4096 + 2048 + 1088 + 576
    assert info.bits_per_parameter == 8 * (4096 + 2048 + 1088 + 576) / 4096
    assert info.tensors == 4


def test_gguf_bad_magic(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", [Q.F32])
    raw = bytearray(path.read_bytes())
    raw[:4] = b"GGUX"
    path.write_bytes(bytes(raw))
    assert "bad magic" in one_line_error(path)


def test_gguf_unknown_tensor_type(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", [Q.F32])
    raw = bytearray(path.read_bytes())
    name = b"t.F32"
    at = raw.index(struct.pack("<Q", len(name)) + name) + 8 + len(name)
    n_dims = struct.unpack_from("<I", raw, at)[0]
    type_at = at + 4 + 8 * n_dims
    assert struct.unpack_from("<I", raw, type_at)[0] == int(Q.F32)
    struct.pack_into("<I", raw, type_at, 99)
    path.write_bytes(bytes(raw))
    assert "unknown GGML type 99" in one_line_error(path)


def test_gguf_truncated(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", [Q.F32, Q.Q8_0])
    raw = path.read_bytes()
    for cut in (10, 40, len(raw) - 100):
        (tmp_path / "cut.gguf").write_bytes(raw[:cut])
        one_line_error(tmp_path / "cut.gguf")


def test_gguf_huge_array_claim_is_refused_quickly(tmp_path: Path) -> None:
    key = b"tokenizer.ggml.tokens"
    header = struct.pack("<IIQQ", gguf.GGUF_MAGIC, 3, 0, 1) + struct.pack("<Q", len(key)) + key
    for item_type, words in ((int(gguf.GGUFValueType.STRING), "claims"), (int(gguf.GGUFValueType.UINT8), "truncated")):
        body = struct.pack("<IIQ", int(gguf.GGUFValueType.ARRAY), item_type, 2**62)
        (tmp_path / "huge.gguf").write_bytes(header + body + b"\0" * 64)
        assert words in one_line_error(tmp_path / "huge.gguf")
