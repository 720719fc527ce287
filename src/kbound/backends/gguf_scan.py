"""A bounded scan of a GGUF header: every count and length checked against the bytes left in the file.

GGUFReader and llama.cpp trust the counts they read (an array claiming 2**63 entries makes the
reader loop for ever), so this walk runs first: every count and length against the bytes left,
every tensor type against GGML's table. The model readers (`kbound.models.gguf_`) and the lm
backend's settings check (part of its decode path) both run it.
"""

from __future__ import annotations

import mmap
import stat
import struct
from pathlib import Path

from gguf import GGML_QUANT_SIZES, GGUF_MAGIC, GGUFValueType

from kbound.errors import fail

_SCALAR = {
    GGUFValueType.UINT8: 1, GGUFValueType.INT8: 1, GGUFValueType.BOOL: 1,
    GGUFValueType.UINT16: 2, GGUFValueType.INT16: 2,
    GGUFValueType.UINT32: 4, GGUFValueType.INT32: 4, GGUFValueType.FLOAT32: 4,
    GGUFValueType.UINT64: 8, GGUFValueType.INT64: 8, GGUFValueType.FLOAT64: 8,
}
_MAX_DIMS = 8
_MAX_NESTING = 4
_KNOWN_TYPES = {int(t) for t in GGML_QUANT_SIZES}


class _Scan:
    """A cursor over the mapped header that refuses to step past the end of the file."""

    def __init__(self, path: Path, buf: mmap.mmap) -> None:
        self.path, self.buf, self.pos = path, buf, 0

    def take(self, n: int, what: str) -> int:
        if n < 0 or self.pos + n > len(self.buf):
            raise fail(self.path, f"truncated GGUF: {what} runs past the end of the file")
        start, self.pos = self.pos, self.pos + n
        return start

    def u32(self, what: str) -> int:
        return int(struct.unpack_from("<I", self.buf, self.take(4, what))[0])

    def u64(self, what: str) -> int:
        return int(struct.unpack_from("<Q", self.buf, self.take(8, what))[0])

    def string(self, what: str) -> str:
        n = self.u64(what)
        start = self.take(n, what)
        try:
            return self.buf[start : start + n].decode("utf-8")
        except UnicodeDecodeError:
            raise fail(self.path, f"malformed GGUF: {what} is not UTF-8") from None

    def value(self, raw_type: int, what: str, depth: int = 0) -> None:
        if raw_type not in {int(t) for t in GGUFValueType}:
            raise fail(self.path, f"malformed GGUF: {what} has unknown value type {raw_type}")
        vtype = GGUFValueType(raw_type)
        if vtype in _SCALAR:
            self.take(_SCALAR[vtype], what)
        elif vtype == GGUFValueType.STRING:
            self.take(self.u64(what), what)
        elif depth >= _MAX_NESTING:
            raise fail(self.path, f"malformed GGUF: {what} nests arrays more than {_MAX_NESTING} deep")
        else:
            item_type, count = self.u32(what), self.u64(what)
            if item_type in {int(t) for t in _SCALAR}:
                self.take(count * _SCALAR[GGUFValueType(item_type)], what)
                return
            if count * 8 > len(self.buf) - self.pos:  # every string or array item takes at least 8 bytes
                raise fail(self.path, f"truncated GGUF: {what} claims {count} items, more than the file holds")
            for _ in range(count):
                self.value(item_type, what, depth + 1)


_INTEGERS = {GGUFValueType.UINT32: "<I", GGUFValueType.INT32: "<i", GGUFValueType.UINT64: "<Q",
             GGUFValueType.INT64: "<q"}


def scan_header(path: Path) -> int | None:
    """Walk a GGUF header without trusting it; raise ModelFormatError at the first thing out of bounds.

    Returns the model's context length in tokens (`<architecture>.context_length`), or None where
    the header does not say, so that a window can be cut to it before llama.cpp allocates one.
    """
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would be read (or block) without end
        raise fail(path, "not a regular file")
    size = st.st_size
    if size < 24:
        raise fail(path, f"not a GGUF file: {size} bytes, too short for a GGUF header")
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        scan = _Scan(path, buf)
        if scan.u32("magic") != GGUF_MAGIC:
            raise fail(path, "not a GGUF file: bad magic")
        version = scan.u32("version")
        if version & 0xFFFF == 0:
            raise fail(path, "big-endian GGUF files are not supported")
        if version not in (2, 3):
            raise fail(path, f"unsupported GGUF version {version}")
        n_tensors, n_kv = scan.u64("tensor count"), scan.u64("key-value count")
        if n_tensors * 24 + n_kv * 12 > size:
            raise fail(path, f"malformed GGUF: claims {n_tensors} tensors and {n_kv} keys, more than the file holds")
        architecture, lengths = None, {}
        for i in range(n_kv):
            key = scan.string(f"key {i}")
            raw_type, start = scan.u32(key), scan.pos
            scan.value(raw_type, f"value of {key!r}")
            if key == "general.architecture" and raw_type == GGUFValueType.STRING:
                architecture = bytes(buf[start + 8 : scan.pos]).decode("utf-8")
            elif key.endswith(".context_length") and raw_type in _INTEGERS:
                lengths[key] = struct.unpack_from(_INTEGERS[GGUFValueType(raw_type)], buf, start)[0]
        for _ in range(n_tensors):
            name = scan.string("tensor name")
            n_dims = scan.u32(f"tensor {name!r}")
            if n_dims > _MAX_DIMS:
                raise fail(path, f"malformed GGUF: tensor {name!r} claims {n_dims} dimensions")
            for _ in range(n_dims):
                scan.u64(f"tensor {name!r}")
            ggml_type = scan.u32(f"tensor {name!r}")
            if ggml_type not in _KNOWN_TYPES:
                raise fail(path, f"tensor {name!r} has unknown GGML type {ggml_type} (gguf library too old?)")
            scan.u64(f"tensor {name!r}")
    length = lengths.get(f"{architecture}.context_length")
    return length if length is not None and length > 0 else None
