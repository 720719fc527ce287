"""The corpus loader: files, directories, stdin and compressed or JSONL inputs, joined into one byte string."""

from __future__ import annotations

import bz2
import fnmatch
import gzip
import hashlib
import io
import json
import lzma
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from kbound.errors import CorpusError

#: Joins documents. ASCII Record Separator: one byte, valid UTF-8, almost never in text,
#: so the documents can be split apart again and the bound covers the collection.
DEFAULT_SEPARATOR = b"\x1e"
DEFAULT_MAX_BYTES = 4 * 1024**3
_CHUNK = 1 << 20

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


@dataclass(frozen=True)
class Corpus:
    """The text being measured: its bytes and where they came from."""

    data: bytes
    sources: tuple[str, ...]
    documents: int
    separator: bytes = DEFAULT_SEPARATOR
    #: Inputs that were decompressed on reading, as "path (gzip)".
    decompressed: tuple[str, ...] = ()
    #: A file holding exactly `data` (the input, when it is one plain file): workers stream it from disk.
    path: str | None = field(default=None, compare=False)
    sha256: str = field(init=False)
    chars: int | None = field(init=False)
    #: Why `chars` is None (invalid UTF-8), else None.
    chars_reason: str | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", hashlib.sha256(self.data).hexdigest())
        try:
            chars: int | None = len(self.data.decode("utf-8"))
            reason = None
        except UnicodeDecodeError as e:
            chars, reason = None, f"not valid UTF-8 (byte {e.start}: {e.reason})"
        object.__setattr__(self, "chars", chars)
        object.__setattr__(self, "chars_reason", reason)

    @property
    def n_bytes(self) -> int:
        """Size of the joined corpus in bytes."""
        return len(self.data)


def compression_of(head: bytes) -> str | None:
    """Name the container format a file starts with (gzip, bzip2, xz, zstd), or None for plain data."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


def _stream_chunks(stream: BinaryIO) -> Iterator[bytes]:
    return iter(lambda: stream.read(_CHUNK), b"")


def _zstd_chunks(raw: BinaryIO) -> Iterator[bytes]:
    """Decompress zstd frames one after another, failing on a frame cut short.

    zstandard's stream reader ends quietly at a truncated frame, so frames are decoded with
    decompressobj, fed in small pieces to bound the output of any one call (zstd's RLE blocks
    expand about 40,000-fold).
    """
    import zstandard

    dctx = zstandard.ZstdDecompressor(max_window_size=1 << 31)
    obj, in_frame = dctx.decompressobj(), False
    for piece in iter(lambda: raw.read(2048), b""):
        while piece:
            in_frame = True
            out = obj.decompress(piece)
            if out:
                yield out
            if not obj.eof:
                break
            piece, obj, in_frame = obj.unused_data, dctx.decompressobj(), False
    if in_frame:
        raise EOFError


def _decompressed_chunks(raw: BinaryIO, kind: str) -> Iterator[bytes]:
    if kind == "zstd":
        yield from _zstd_chunks(raw)
        return
    openers: dict[str, Callable[[BinaryIO], Any]] = {
        "gzip": lambda f: gzip.GzipFile(fileobj=f),
        "bzip2": bz2.BZ2File,
        "xz": lzma.LZMAFile,
    }
    with openers[kind](raw) as stream:
        yield from _stream_chunks(stream)


def too_large(name: str, limit: int) -> CorpusError:
    """The error for an input past --max-bytes (a decompression bomb, or simply too much text)."""
    return CorpusError(f"{name}: input exceeds --max-bytes ({limit:,} bytes); raise the limit to read it")


def _read_limited(chunks: Iterator[bytes], name: str, budget: int) -> bytes:
    """Join chunks, or fail once more than `budget` bytes arrive (a decompression bomb)."""
    parts: list[bytes] = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > budget:
            raise too_large(name, budget)
        parts.append(chunk)
    return b"".join(parts)


def _read_input(raw: BinaryIO, name: str, budget: int) -> tuple[bytes, str | None]:
    peek = raw.read(6)
    kind = compression_of(peek)
    rest: BinaryIO = io.BufferedReader(_Prefixed(peek, raw))
    if kind is None:
        return _read_limited(_stream_chunks(rest), name, budget), None
    try:
        return _read_limited(_decompressed_chunks(rest, kind), name, budget), kind
    except CorpusError:
        raise
    except EOFError:
        raise CorpusError(f"{name}: truncated {kind} data (ended before the end-of-stream marker)") from None
    except Exception as e:  # each library has its own error type for corrupt data
        raise CorpusError(f"{name}: corrupt {kind} data ({e})") from None


class _Prefixed(io.RawIOBase):
    """A raw stream that yields already-read bytes before the rest of another stream."""

    def __init__(self, head: bytes, tail: BinaryIO) -> None:
        self._head, self._tail = head, tail

    def readable(self) -> bool:
        return True

    def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buf), len(self._head))
            buf[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._tail.read(len(buf))
        buf[: len(data)] = data
        return len(data)


def expand_inputs(inputs: Sequence[str], glob: str | None = None) -> list[str]:
    """Turn files, directories (walked recursively, sorted) and `-` into a list of inputs.

    Hidden files and directories (names starting with `.`) inside a directory are skipped;
    `glob` (e.g. `*.txt`) filters the files found in directories by name.
    """
    out: list[str] = []
    for item in inputs:
        if item == "-":
            out.append(item)
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted(_walk(path, glob))
            if not found:
                what = f"matching {glob!r} " if glob else ""
                raise CorpusError(f"{item}: directory has no files {what}to read")
            out.extend(found)
        elif path.exists() or path.is_symlink():
            out.append(item)
        else:
            raise CorpusError(f"{item}: no such file or directory")
    return out


def _walk(root: Path, glob: str | None) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith(".") or (glob and not fnmatch.fnmatch(name, glob)):
                continue
            yield os.path.join(dirpath, name)


def _documents(data: bytes, name: str, field_name: str | None) -> list[bytes]:
    if field_name is None:
        return [data]
    docs: list[bytes] = []
    for lineno, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            raise CorpusError(f"{name}:{lineno}: not a JSON line ({e.args[0].split(':')[0]})") from None
        value = record.get(field_name) if isinstance(record, dict) else None
        if not isinstance(value, str):
            raise CorpusError(f"{name}:{lineno}: no string field {field_name!r}")
        docs.append(value.encode("utf-8", "surrogatepass"))
    return docs


def load_corpus(
    inputs: Sequence[str],
    *,
    glob: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    field: str | None = None,
    separator: bytes = DEFAULT_SEPARATOR,
    stdin: BinaryIO | None = None,
) -> Corpus:
    """Read every input (decompressing gzip/bzip2/xz/zstd by magic bytes) into one `Corpus`.

    Each file, or with `field` each JSON line's string field, is one document; documents are
    joined with `separator`. More than `max_bytes` in all (after decompression) is a `CorpusError`.
    """
    if not inputs:
        raise CorpusError("no input given (name a file, a directory, or - for standard input)")
    names = expand_inputs(inputs, glob)
    if names.count("-") > 1:
        raise CorpusError("standard input (-) can be read only once")
    docs: list[bytes] = []
    decompressed: list[str] = []
    used = 0
    for name in names:
        budget = max_bytes - used
        if name == "-":
            data, kind = _read_input(stdin or sys.stdin.buffer, "<stdin>", budget)
        else:
            try:
                with open(name, "rb") as f:
                    data, kind = _read_input(f, name, budget)
            except IsADirectoryError:
                raise CorpusError(f"{name}: is a directory") from None
            except OSError as e:
                raise CorpusError(f"{name}: cannot read ({e.strerror or e})") from None
        if kind:
            decompressed.append(f"{name} ({kind})")
        for doc in _documents(data, name, field):
            docs.append(doc)
            used += len(doc) + (len(separator) if len(docs) > 1 else 0)
        if used > max_bytes:
            raise too_large(name, max_bytes)
    plain_file = len(names) == 1 and names[0] != "-" and not decompressed and field is None
    return Corpus(
        path=os.path.abspath(names[0]) if plain_file else None,
        data=separator.join(docs),
        sources=tuple(names),
        documents=len(docs),
        separator=separator,
        decompressed=tuple(decompressed),
    )
