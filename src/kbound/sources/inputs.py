"""What the user named, as sources: files, directories, stdin, FIFOs and fsspec URLs, each with its format.

A source is small and picklable: a worker process, or a Dask worker on another machine, opens
it again by its `url`. Its format comes from its first bytes and `--field`: Parquet (`PAR1`)
with `--field` naming the text column; JSON lines with `--field` (gzip, bzip2, xz or zstd
compressed or not); otherwise text, one document per file.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import stat
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from kbound.errors import CorpusError, InputWarning
from kbound.sources.readers import AS_IS, PARQUET_MAGIC, cannot_read, compression_of, is_url, open_raw, url_filesystem

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
    #: Size, modification and change times, inode and device (or an object store's ETag): the key of remembered results.
    stamp: str
    #: `--source-field`: the dotted path of each document's source name (JSON lines and Parquet); None: none.
    source_field: str | None = None


def expand(inputs: Sequence[str], glob: str | None = None) -> list[str]:
    """Files, directories (walked recursively, sorted by path), URLs and `-`, as the list of inputs to read.

    Names starting with `.` inside a directory are skipped; `glob` filters the files found in
    directories by name; symbolic links are followed (see `_walk`). A missing input, or a
    directory that cannot be read, is a `CorpusError`.
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


def _walk(root: str, glob: str | None, dirs: dict[tuple[int, int], str] | None = None) -> Iterator[str]:
    """The files under `root` that the corpus reads, following symbolic links with loop detection.

    A linked directory is read as if it were there (as `du -L` and `rg -L` do: a link to a
    dataset must not drop the dataset); each directory is read once, so a link back to an
    ancestor, or a link to a directory the walk reads elsewhere, is left out with a warning. A FIFO,
    socket or device inside a directory is not data (a FIFO would wait forever for a writer):
    it is left out with a warning. A broken link is yielded, and the reader names it.
    `dirs` collects every directory read, by (st_dev, st_ino).
    """
    seen = {} if dirs is None else dirs
    top = _dir_key(root)
    seen[top] = root
    # Stacks, not recursion: a tree deeper than Python's recursion limit is still a tree. Linked
    # directories wait until the real ones are read, so a directory both in the tree and linked
    # is read where it is, and the link is the one left out.
    real: list[tuple[str, frozenset[tuple[int, int]]]] = [(root, frozenset({top}))]
    linked: list[tuple[str, tuple[int, int], frozenset[tuple[int, int]]]] = []
    while real or linked:
        if real:
            path, ancestors = real.pop()
        else:
            path, key, ancestors = linked.pop(0)
            if key in ancestors:
                warn(f"{path}: symbolic link loop (back to {seen[key]}); not followed")
                continue
            if key in seen:
                warn(f"{path}: the same directory as {seen[key]}; read once, there")
                continue
            seen[key] = path
            ancestors |= {key}
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            # A directory we cannot list would silently shrink the corpus: that is an error, not a skip.
            raise cannot_read(path, e) from None
        for entry in entries:
            name, full = entry.name, entry.path
            if name.startswith("."):
                continue
            try:
                # The entry's type from the directory listing: no system call for a file that is no link.
                is_file = entry.is_file()
                is_dir = not is_file and entry.is_dir()
            except OSError:
                is_file = is_dir = False
            if is_dir:
                try:
                    st = os.stat(full)
                except OSError as e:
                    raise cannot_read(full, e) from None
                key = (st.st_dev, st.st_ino)
                if entry.is_symlink():
                    linked.append((full, key, ancestors))
                elif key in seen:  # a bind mount can show a directory twice
                    warn(f"{full}: the same directory as {seen[key]}; read once, there")
                else:
                    seen[key] = full
                    real.append((full, ancestors | {key}))
            elif glob and not fnmatch.fnmatch(name, glob):
                continue
            elif is_file:
                yield full
            else:
                try:
                    mode = os.stat(full).st_mode
                except OSError:  # a broken link or an unreadable entry: yielded, so its reader says what is wrong
                    yield full
                    continue
                warn(f"{full}: {_kind(mode)}, not a regular file; skipped")


def _dir_key(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError as e:
        raise cannot_read(path, e) from None
    return st.st_dev, st.st_ino


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def warn(message: str) -> None:
    """Say that an input was left out or read in a way the user may not expect (the CLI prints `kbound: warning:
    MESSAGE`): data is never dropped silently."""
    warnings.warn(message, InputWarning, stacklevel=2)


def local_tree(inputs: Sequence[str], glob: str | None,
               files_too: bool = True) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """The (st_dev, st_ino) of every local file the corpus would read (unless not `files_too`), and of every
    directory it would walk.

    For checking that no output lands on an input: quiet (the run itself warns) and partial
    where an input cannot be read (the run itself fails on it).
    """
    files: set[tuple[int, int]] = set()
    dirs: dict[tuple[int, int], str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        for item in inputs:
            if item == STDIN or is_url(item):
                continue
            try:
                st = os.stat(item)
                if not stat.S_ISDIR(st.st_mode):
                    files.add((st.st_dev, st.st_ino))
                    continue
                for name in _walk(item, glob, dirs):
                    if not files_too:
                        continue
                    with contextlib.suppress(OSError):
                        found = os.stat(name)
                        files.add((found.st_dev, found.st_ino))
            except (OSError, CorpusError):
                continue
    return files, set(dirs)


def _walk_url(url: str, glob: str | None) -> list[str]:
    fs, path = url_filesystem(url)
    try:
        if not fs.isdir(path):
            return [url]
        protocol = url.split("://", 1)[0]
        names = [
            p for p in fs.find(path)
            if not any(part.startswith(".") for part in p[len(path):].split("/"))
            and not (glob and not fnmatch.fnmatch(p.rsplit("/", 1)[-1], glob))
        ]
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


def describe(name: str, field: str | None, url: str | None = None, *, plain: bool = False) -> Source:
    """Open a file once to learn its format (from its first bytes) and its stamp; `CorpusError` if unreadable.

    With `plain` (`--plain`) the first bytes decide nothing: the file is text, as it is.
    """
    target = url or (name if is_url(name) else os.path.abspath(name))
    try:
        with open_raw(target) as f:
            head = f.read(8)
    except IsADirectoryError:
        raise CorpusError(f"{name}: is a directory") from None
    except OSError as e:
        raise cannot_read(name, e) from None
    size, stamp = _stamp(target)
    if plain:
        return Source(name, target, "text", None, None, size, stamp)
    if head.startswith(PARQUET_MAGIC):
        if field is None:
            raise CorpusError(f"{name}: is a Parquet file: name its text column with --field ({AS_IS})")
        return Source(name, target, "parquet", None, field, size, stamp)
    return Source(name, target, "jsonl" if field else "text", compression_of(head), field, size, stamp)


def _stamp(url: str) -> tuple[int | None, str]:
    if is_url(url):
        try:
            fs, path = url_filesystem(url)
            info = fs.info(path)
        except (CorpusError, OSError, ValueError):
            return None, ""
        keys = ("size", "ETag", "etag", "mtime", "LastModified", "last_modified", "md5Hash", "generation")
        picked = {k: str(info[k]) for k in keys if info.get(k) is not None}
        size = info.get("size")
        return (None if size is None else int(size)), json.dumps(picked, sort_keys=True)
    st = os.stat(url)
    # ctime with the rest: a write in place keeps the size and inode, and `touch -r` restores
    # the mtime, but nothing short of the clock can set ctime back, so a change always shows.
    return st.st_size, f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{st.st_dev}"
