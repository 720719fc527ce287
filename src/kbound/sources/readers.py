"""Opening an input's bytes: local paths and fsspec URLs, decompressed by magic bytes, as a stream of chunks.

Nothing here holds more than a chunk: gzip, bzip2, xz and zstd are decoded as streams, so a
decompression bomb costs time, not memory, and `--max-bytes` (checked by the stream's meter)
stops it. Every library error becomes one `CorpusError` line naming the input.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from kbound.errors import CorpusError

#: Bytes read per step: the unit of a worker's own memory and of its progress reports.
CHUNK = 1 << 20

MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
PARQUET_MAGIC = b"PAR1"
#: The way out when a text merely begins with a container's magic bytes.
AS_IS = "if it is text, --plain reads it as it is"


def compression_of(head: bytes) -> str | None:
    """Name the container format a file starts with (gzip, bzip2, xz, zstd), or None for plain data."""
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    return None


def is_url(name: str) -> bool:
    """True for an fsspec URL such as `s3://bucket/key` or `file:///tmp/x`."""
    return "://" in name


def url_filesystem(url: str) -> tuple[Any, str]:
    """fsspec's filesystem for a URL and the path within it; a `CorpusError` naming what is missing.

    fsspec itself may be missing, or only the package its protocol needs (s3fs, gcsfs, aiohttp):
    each says so, so that nobody is told to install fsspec when it is there.
    """
    try:
        import fsspec
    except ImportError:
        raise CorpusError(f"{url}: reading URLs needs fsspec (pip install 'kbound[dask]')") from None
    protocol = url.split("://", 1)[0]
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as e:
        raise CorpusError(f"{url}: fsspec needs another package for {protocol}:// URLs ({e})") from None
    except ValueError as e:
        raise CorpusError(f"{url}: not a URL fsspec can read ({e})") from None
    return fs, path


def open_raw(url: str) -> BinaryIO:
    """Open an input's bytes: a local path, or an fsspec URL (`url_filesystem`: a CorpusError). Raises OSError."""
    if is_url(url):
        fs, path = url_filesystem(url)
        return fs.open(path, "rb")  # type: ignore[no-any-return]
    return open(url, "rb")


def cannot_read(name: str, e: OSError) -> CorpusError:
    """The one-line error for an input the system will not let us read."""
    return CorpusError(f"{name}: cannot read ({e.strerror or e})")


def _zstd_chunks(raw: BinaryIO) -> Iterator[bytes]:
    """Decompress zstd frames one after another in chunks of at most `CHUNK`, failing on a frame cut short.

    zstandard's stream reader bounds each read's output (its decompressobj does not: a 16 KiB
    piece of RLE blocks expands to 512 MiB in one call), but ends quietly at a truncated frame;
    so the compressed bytes pass through `FrameWalker` on their way in, which knows from the
    block headers alone where every frame ends.
    """
    import zstandard

    walker = FrameWalker()
    reader = zstandard.ZstdDecompressor(max_window_size=1 << 31).stream_reader(
        _Walked(raw, walker), read_size=1 << 14, read_across_frames=True, closefd=False)  # type: ignore[arg-type]
    yield from iter(lambda: reader.read(CHUNK), b"")
    walker.finish()


class FrameWalker:
    """Follows the frame and block headers of a zstd stream (RFC 8878) as its bytes pass, decoding nothing.

    `feed` raises ValueError on bytes that cannot start a frame; `finish` raises EOFError unless
    the stream ended exactly where a frame did.
    """

    _MAGIC, _SKIPPABLE = 0xFD2FB528, 0x184D2A50

    def __init__(self) -> None:
        self._head = bytearray()  # header bytes gathered for the current step
        self._need = 4  # bytes the current step reads
        self._step = "magic"
        self._skip = 0  # content bytes to pass over before the next step
        self._checksum = False
        self.started = False  # a frame has begun and not ended

    def feed(self, data: bytes) -> None:
        view, pos = memoryview(data), 0
        while pos < len(view):
            if self._skip:
                n = min(self._skip, len(view) - pos)
                self._skip -= n
                pos += n
                continue
            n = min(self._need - len(self._head), len(view) - pos)
            self._head += view[pos : pos + n]
            pos += n
            if len(self._head) == self._need:
                head, self._head = bytes(self._head), bytearray()
                self._advance(head)

    def _advance(self, head: bytes) -> None:
        step = self._step
        if step == "magic":
            magic = int.from_bytes(head, "little")
            self.started = True
            if magic & 0xFFFFFFF0 == self._SKIPPABLE:
                self._step, self._need = "skippable", 4
            elif magic == self._MAGIC:
                self._step, self._need = "descriptor", 1
            else:
                raise ValueError("not a zstd frame")
        elif step == "skippable":
            self._skip = int.from_bytes(head, "little")
            self._frame_end()
        elif step == "descriptor":
            fhd = head[0]
            single = bool(fhd & 0x20)
            self._checksum = bool(fhd & 0x04)
            rest = (0 if single else 1) + (0, 1, 2, 4)[fhd & 3] + ((1 if single else 0), 2, 4, 8)[fhd >> 6]
            self._step, self._need = "block", 3
            self._skip = rest
        elif step == "block":
            header = int.from_bytes(head, "little")
            last, kind, size = header & 1, (header >> 1) & 3, header >> 3
            if kind == 3:
                raise ValueError("reserved block type")
            self._skip = 1 if kind == 1 else size
            if last:
                if self._checksum:
                    self._step, self._need = "checksum", 4
                else:
                    self._frame_end()
        elif step == "checksum":
            self._frame_end()

    def _frame_end(self) -> None:
        self._step, self._need, self.started = "magic", 4, False

    def finish(self) -> None:
        if self.started or self._skip or self._head:
            raise EOFError


class _Walked:
    """A file whose bytes, as they are read, are shown to a `FrameWalker`."""

    def __init__(self, raw: Any, walker: FrameWalker) -> None:
        self._raw, self._walker = raw, walker

    def read(self, n: int = -1) -> bytes:
        data: bytes = self._raw.read(n)
        self._walker.feed(data)
        return data

    def readable(self) -> bool:
        return True


_OPENERS: dict[str, Callable[[BinaryIO], Any]] = {
    "gzip": lambda f: gzip.GzipFile(fileobj=f),
    "bzip2": bz2.BZ2File,
    "xz": lzma.LZMAFile,
}


class Reader:
    """An input's (decompressed) bytes as chunks, starting at byte `start`, counting what it read from disk.

    `disk_bytes` is how far into the file on disk (or URL) the reader has got: the unit of
    progress for compressed inputs, whose decompressed size is not known in advance.
    """

    def __init__(self, name: str, url: str, compression: str | None, start: int = 0) -> None:
        self.name, self.url, self.compression, self.start = name, url, compression, start
        self.disk_bytes = 0

    def chunks(self) -> Iterator[bytes]:
        """Yield the bytes from `start` on, in chunks of about `CHUNK`; raise `CorpusError` on bad data."""
        try:
            with open_raw(self.url) as raw:
                if self.compression is None:
                    if self.start:
                        raw.seek(self.start)
                        self.disk_bytes = self.start
                    for chunk in iter(lambda: raw.read(CHUNK), b""):
                        self.disk_bytes += len(chunk)
                        yield chunk
                    return
                yield from self._decompressed(_Counting(raw, self))
        except CorpusError:
            raise
        except OSError as e:
            if self.compression is not None and e.errno is None:  # the library's word on the data, not the system's
                raise CorpusError(f"{self.name}: corrupt {self.compression} data ({e}); {AS_IS}") from None
            raise cannot_read(self.name, e) from None
        except EOFError:
            raise CorpusError(
                f"{self.name}: truncated {self.compression} data (ended before the end-of-stream marker)"
            ) from None
        except Exception as e:  # each library has its own error type for corrupt data
            raise CorpusError(f"{self.name}: corrupt {self.compression} data ({e}); {AS_IS}") from None

    def _decompressed(self, raw: Any) -> Iterator[bytes]:
        assert self.compression is not None
        if self.compression == "zstd":
            chunks = _zstd_chunks(raw)
        else:
            stream = _OPENERS[self.compression](raw)
            chunks = iter(lambda: stream.read(CHUNK), b"")
        skip = self.start
        for chunk in chunks:
            if skip:
                # A piece that starts inside a compressed file decodes the bytes before it and drops them.
                if len(chunk) <= skip:
                    skip -= len(chunk)
                    continue
                chunk, skip = chunk[skip:], 0
            yield chunk


class _Counting:
    """A file wrapper that tells its `Reader` how many bytes were read from disk."""

    def __init__(self, raw: Any, reader: Reader) -> None:
        self._raw, self._reader = raw, reader

    def read(self, n: int = -1) -> bytes:
        data: bytes = self._raw.read(n)
        self._reader.disk_bytes += len(data)
        return data

    def readinto(self, buf: Any) -> int:
        n = self._raw.readinto(buf)
        self._reader.disk_bytes += n or 0
        return n or 0

    def readable(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)
