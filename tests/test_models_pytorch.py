"""Reading PyTorch zip checkpoints without unpickling: zip entries and the pickle's opcodes."""

from __future__ import annotations

import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kbound.models import DtypeShare, describe_model
from model_files import one_line_error, torch_pickle, write_torch_zip


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
