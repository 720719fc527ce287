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
    """Decompress zstd frames one after another, failing on a frame cut short.

    zstandard's stream reader ends quietly at a truncated frame, so frames are decoded with
    decompressobj, fed in small pieces to bound the output of any one call (zstd's RLE blocks
    expand about 40,000-fold).
    """
    import zstandard

    dctx = zstandard.ZstdDecompressor(max_window_size=1 << 31)
    obj, in_frame = dctx.decompressobj(), False
    pending: list[bytes] = []
    size = 0
    for piece in iter(lambda: raw.read(1 << 14), b""):
        while piece:
            in_frame = True
            out = obj.decompress(piece)
            if out:
                pending.append(out)
                size += len(out)
                if size >= CHUNK:
                    yield b"".join(pending)
                    pending, size = [], 0
            if not obj.eof:
                break
            piece, obj, in_frame = obj.unused_data, dctx.decompressobj(), False
    if in_frame:
        raise EOFError
    if pending:
        yield b"".join(pending)


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
