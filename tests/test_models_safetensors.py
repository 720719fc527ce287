"""Reading safetensors files and sharded checkpoints by their headers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from kbound.models import DtypeShare, describe_model
from model_files import Q, minilm_dir, one_line_error, write_gguf, write_safetensors, write_shards, write_torch_zip

"""Reading model sizes from headers (never unpickling) and comparing them with a bound."""


@pytest.mark.model
def test_real_safetensors_parameters_match_its_header() -> None:
    path = minilm_dir() / "model.safetensors"
    expected = 0
    with safe_open(str(path), framework="numpy") as f:
        names = list(f.keys())
        for name in names:
            expected += math.prod(f.get_slice(name).get_shape())
    info = describe_model(str(path))
    assert info.kind == "safetensors"
    assert info.parameters == expected == 22_713_728
    assert info.bytes_on_disk == path.stat().st_size == 90_868_376
    assert info.tensors == len(names) == 104
    # 512 int64 position ids (a buffer) and the rest float32.
    assert info.dtypes == {"i64": DtypeShare(512, 4096), "f32": DtypeShare(22_713_216, 90_852_864)}
    assert info.tensor_bytes == 90_856_960
    assert info.files == (str(path),)


@pytest.mark.model
def test_real_model_directory_counts_weights_apart_from_tokenizer_and_config() -> None:
    root = minilm_dir()
    info = describe_model(str(root))
    assert info.kind == "directory"
    assert info.bytes_on_disk == (root / "model.safetensors").stat().st_size
    assert info.parameters == 22_713_728
    others = [p for p in root.rglob("*") if p.is_file() and not p.name.startswith((".", "model.safetensors"))]
    assert info.other_bytes == sum(p.stat().st_size for p in others)
    assert str(root / "tokenizer.json") in info.other_files


def test_small_safetensors_exact(tmp_path: Path) -> None:
    save_file({"a": np.zeros((3, 4), np.float16), "b": np.zeros(5, np.int8)}, str(tmp_path / "m.safetensors"))
    info = describe_model(str(tmp_path / "m.safetensors"))
    assert info.parameters == 17
    assert info.dtypes == {"f16": DtypeShare(12, 24), "i8": DtypeShare(5, 5)}
    assert info.bits_per_parameter == 8 * 29 / 17


@pytest.mark.parametrize(
    ("header", "data", "claimed", "words"),
    [
        ({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8, None, "outside"),
        ({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}, b"\0" * 16, None, "needs 16"),
        ({"a": {"dtype": "F99", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 16, None, "unknown dtype"),
        ({"a": {"dtype": "Q4_K", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 16, None, "unknown dtype"),
        ({"a": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}, b"\0" * 16, None, "malformed shape"),
        (b"{not json", b"", None, "not JSON"),
        (b"[1, 2, 3]", b"", None, "not a JSON object"),
        (b"\xff\xfe{}", b"", None, "not JSON"),
        (b"{}", b"", 10**6, "header claims 1000000 bytes but the file has"),
        (b"{}", b"", 2**40, "over the 100000000-byte cap"),
    ],
)
def test_malformed_safetensors(tmp_path: Path, header: object, data: bytes, claimed: int | None, words: str) -> None:
    path = write_safetensors(tmp_path / "bad.safetensors", header, data, claimed)
    assert words in one_line_error(path)


def test_truncated_safetensors(tmp_path: Path) -> None:
    good = tmp_path / "good.safetensors"
    save_file({"w": np.ones((64, 64), np.float32)}, str(good))
    raw = good.read_bytes()
    for cut in (4, 30, len(raw) - 100):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(raw[:cut])
        assert "safetensors" in one_line_error(bad) or "outside" in one_line_error(bad)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty", b""),
        ("random.bin", bytes(range(256)) * 4),
        ("notes.txt", b"This is not a model, just some text.\n" * 10),
        ("random", np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()),
        ("empty.safetensors", b""),
        ("empty.gguf", b""),
    ],
)
def test_not_a_model(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    one_line_error(path)


def test_sharded_index_and_its_directory(tmp_path: Path) -> None:
    write_shards(tmp_path)
    shards = sorted(tmp_path.glob("*.safetensors"))
    by_index = describe_model(str(tmp_path / "model.safetensors.index.json"))
    assert by_index.kind == "safetensors"
    assert by_index.parameters == 6 + 11
    assert by_index.bytes_on_disk == sum(p.stat().st_size for p in shards)
    assert by_index.dtypes == {"f32": DtypeShare(6, 24), "f16": DtypeShare(11, 22)}
    assert by_index.files == tuple(str(p) for p in shards)
    by_dir = describe_model(str(tmp_path))
    assert by_dir.kind == "directory"
    assert (by_dir.parameters, by_dir.bytes_on_disk, by_dir.dtypes) == (17, by_index.bytes_on_disk, by_index.dtypes)
    index_and_tokenizer = ("model.safetensors.index.json", "tokenizer.json")
    assert by_dir.other_bytes == sum((tmp_path / n).stat().st_size for n in index_and_tokenizer)


def test_sharded_missing_shard(tmp_path: Path) -> None:
    write_shards(tmp_path)
    (tmp_path / "model-00002-of-00002.safetensors").unlink()
    text = one_line_error(tmp_path / "model.safetensors.index.json")
    assert "'model-00002-of-00002.safetensors', which is missing" in text
    one_line_error(tmp_path)


def test_sharded_index_lies_about_a_shard(tmp_path: Path) -> None:
    write_shards(tmp_path)
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    index["weight_map"]["zzz"] = "model-00001-of-00002.safetensors"
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    assert "'zzz' is indexed in shard" in one_line_error(tmp_path / "model.safetensors.index.json")


def test_index_may_not_point_outside_its_directory(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": "../x.safetensors"}}))
    assert "outside its own directory" in one_line_error(tmp_path / "model.safetensors.index.json")


def test_directory_counts_one_format_of_the_same_weights(tmp_path: Path) -> None:
    save_file({"a": np.zeros(8, np.float32)}, str(tmp_path / "model.safetensors"))
    write_torch_zip(tmp_path / "pytorch_model.bin", [("a", "FloatStorage", 8, (8,))])
    info = describe_model(str(tmp_path))
    assert info.parameters == 8
    assert info.files == (str(tmp_path / "model.safetensors"),)
    assert info.note is not None and "pytorch_model.bin" in info.note


def test_directory_of_unrelated_ggufs_is_refused(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m-q8_0.gguf", [Q.Q8_0])
    write_gguf(tmp_path / "m-q4_0.gguf", [Q.Q4_0])
    assert "name the one to measure" in one_line_error(tmp_path)


def test_directory_of_split_gguf_is_summed(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m-00001-of-00002.gguf", [Q.Q8_0])
    write_gguf(tmp_path / "m-00002-of-00002.gguf", [Q.F16])
    info = describe_model(str(tmp_path))
    assert (info.parameters, info.tensor_bytes, info.note) == (2048, 1088 + 2048, "architecture llama")
    assert info.bytes_on_disk == sum(p.stat().st_size for p in tmp_path.glob("*.gguf"))


def test_directory_without_weights(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert "no weight files" in one_line_error(tmp_path)
