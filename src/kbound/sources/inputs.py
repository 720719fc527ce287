"""What the user named, as sources: files, directories, stdin, FIFOs and fsspec URLs, each with its format.

A source is small and picklable: a worker process, or a Dask worker on another machine, opens
it again by its `url`. Its format comes from its first bytes and `--field`: Parquet (`PAR1`)
with `--field` naming the text column; JSON lines with `--field` (gzip, bzip2, xz or zstd
compressed or not); otherwise text, one document per file.
"""

from __future__ import annotations

import fnmatch
import json
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from kbound.errors import CorpusError
from kbound.sources.readers import PARQUET_MAGIC, cannot_read, compression_of, is_url, open_raw

FORMATS = ("text", "jsonl", "parquet")
STDIN = "-"


@dataclass(frozen=True)
class Source:
    """One input file: where it is, how its bytes become documents, and what changes when it changes."""

    #: The name the user gave or the walk found: for messages and the report.
    name: str
    #: What a reader opens: an absolute local path or an fsspec URL.
    url: str
    #: "text" (the file is one document), "jsonl" (one per line, `field`) or "parquet" (one per row, `field`).
    fmt: str
    compression: str | None
    field: str | None
    size_on_disk: int | None
    #: Size, modification time and inode (or an object store's ETag): the key of remembered results.
    stamp: str


def expand(inputs: Sequence[str], glob: str | None = None) -> list[str]:
    """Files, directories (walked recursively, sorted by path), URLs and `-`, as the list of inputs to read.

    Names starting with `.` inside a directory are skipped; `glob` filters the files found in
    directories by name. A missing input, or a directory that cannot be read, is a `CorpusError`.
    """
    out: list[str] = []
    for item in inputs:
        if item == STDIN:
            if STDIN in out:
                raise CorpusError("standard input (-) is given twice; it can be read only once")
            out.append(item)
            continue
        found = sorted(_walk_url(item, glob)) if is_url(item) else _local(item, glob)
        out.extend(found)
    return out


def groups_of(inputs: Sequence[str], names: Sequence[str]) -> tuple[str, ...]:
    """Each expanded input's source: the top-level subdirectory of the input directory it was found in
    (that directory itself for the files directly in it); an input named on its own is its own source."""
    dirs = [i for i in inputs if i != STDIN and (i.rstrip("/") and _is_dir(i))]
    out = []
    for name in names:
        root = next((d for d in dirs if name.startswith(d.rstrip("/") + "/")), None)
        if root is None:
            out.append(name)
            continue
        base = root.rstrip("/")
        parts = name[len(base) + 1 :].split("/")
        out.append(f"{base}/{parts[0]}" if len(parts) > 1 else base)
    return tuple(out)


def _is_dir(item: str) -> bool:
    if is_url(item):
        return False
    try:
        return stat.S_ISDIR(os.stat(item).st_mode)
    except OSError:
        return False


def _local(item: str, glob: str | None) -> list[str]:
    try:
        st = os.stat(item)
    except FileNotFoundError:
        if os.path.islink(item):
            raise CorpusError(f"{item}: broken symbolic link") from None
        raise CorpusError(f"{item}: no such file or directory") from None
    except OSError as e:
        raise cannot_read(item, e) from None
    if not stat.S_ISDIR(st.st_mode):
        return [item]
    found = sorted(_walk(item, glob))
    if not found:
        what = f"matching {glob!r} " if glob else ""
        raise CorpusError(f"{item}: directory has no files {what}to read")
    return found


def _walk(root: str, glob: str | None) -> Iterator[str]:
    def fail(e: OSError) -> None:
        # A directory we cannot list would silently shrink the corpus: that is an error, not a skip.
        raise cannot_read(e.filename or root, e)

    for dirpath, dirnames, filenames in os.walk(root, onerror=fail):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith(".") or (glob and not fnmatch.fnmatch(name, glob)):
                continue
            yield os.path.join(dirpath, name)


def _walk_url(url: str, glob: str | None) -> list[str]:
    try:
        import fsspec

        fs, path = fsspec.core.url_to_fs(url)
        if not fs.isdir(path):
            return [url]
        protocol = url.split("://", 1)[0]
        names = [
            p for p in fs.find(path)
            if not any(part.startswith(".") for part in p[len(path):].split("/"))
            and not (glob and not fnmatch.fnmatch(p.rsplit("/", 1)[-1], glob))
        ]
    except ImportError:
        raise CorpusError(f"{url}: reading URLs needs fsspec (pip install 'kbound[dask]')") from None
    except OSError as e:
        raise cannot_read(url, e) from None
    if not names:
        raise CorpusError(f"{url}: no files {'matching ' + repr(glob) + ' ' if glob else ''}to read")
    return [f"{protocol}://{p}" if "://" not in p else p for p in names]


def is_stream(name: str) -> bool:
    """True for stdin and other inputs that can be read only once (FIFOs, sockets, character devices)."""
    if name == STDIN:
        return True
    if is_url(name):
        return False
    try:
        mode = os.stat(name).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISBLK(mode))


def describe(name: str, field: str | None, url: str | None = None) -> Source:
    """Open a file once to learn its format (from its first bytes) and its stamp; `CorpusError` if unreadable."""
    target = url or (name if is_url(name) else os.path.abspath(name))
    try:
        with open_raw(target) as f:
            head = f.read(8)
    except IsADirectoryError:
        raise CorpusError(f"{name}: is a directory") from None
    except OSError as e:
        raise cannot_read(name, e) from None
    size, stamp = _stamp(target)
    if head.startswith(PARQUET_MAGIC):
        if field is None:
            raise CorpusError(f"{name}: is a Parquet file: name its text column with --field")
        return Source(name, target, "parquet", None, field, size, stamp)
    return Source(name, target, "jsonl" if field else "text", compression_of(head), field, size, stamp)


def _stamp(url: str) -> tuple[int | None, str]:
    if is_url(url):
        try:
            import fsspec

            fs, path = fsspec.core.url_to_fs(url)
            info = fs.info(path)
        except (ImportError, OSError, ValueError):
            return None, ""
        keys = ("size", "ETag", "etag", "mtime", "LastModified", "last_modified", "md5Hash", "generation")
        picked = {k: str(info[k]) for k in keys if info.get(k) is not None}
        size = info.get("size")
        return (None if size is None else int(size)), json.dumps(picked, sort_keys=True)
    st = os.stat(url)
    return st.st_size, f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_dev}"
