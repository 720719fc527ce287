"""The corpus: what the user named, described and never held: sources, the separator, what is known of it.

`open_corpus` turns inputs into sources (checking that each can be read) and yields a
`Corpus`; workers then read the sources themselves. Standard input and other streams that
can be read only once (FIFOs, character devices) are spooled once into an anonymous
temporary file (zstd level 1 when the stream is plain, so a text spool takes about a third of
its size), removed however the run ends; everything else is read where it lies.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from kbound.errors import CorpusError
from kbound.sources.inputs import STDIN, Source, describe, expand, groups_of, is_stream, warn
from kbound.sources.readers import CHUNK, PARQUET_MAGIC, compression_of
from kbound.sources.stream import DEFAULT_SEPARATOR, Piece, Selection, StreamStats, check_limit


@dataclass(frozen=True)
class Corpus:
    """The documents of every source, in order, joined by `separator`: described here, read by workers."""

    sources: tuple[Source, ...]
    separator: bytes = DEFAULT_SEPARATOR
    #: `--max-bytes`, checked while streaming (None: no limit).
    max_bytes: int | None = None
    #: Sources read from a spool (standard input, a FIFO): their bytes exist only during this run.
    spooled: tuple[str, ...] = field(default=())
    #: Each source's group for per-source accounting (`kbound.sources.inputs.groups_of`); empty: none known.
    groups: tuple[str, ...] = field(default=())

    def group_index(self) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """The distinct groups in corpus order, and each source's index among them."""
        labels = self.groups or tuple("corpus" for _ in self.sources)
        order: dict[str, int] = {}
        for g in labels:
            order.setdefault(g, len(order))
        return tuple(order), tuple(order[g] for g in labels)

    @property
    def names(self) -> tuple[str, ...]:
        """The inputs as found, in corpus order."""
        return tuple(s.name for s in self.sources)

    @property
    def decompressed(self) -> tuple[str, ...]:
        """The inputs read decompressed, as "name (gzip)"."""
        return tuple(f"{s.name} ({s.compression})" for s in self.sources
                     if s.compression and s.name not in self.spooled)

    def selection(self) -> Selection:
        """The whole corpus as one selection."""
        return Selection(tuple(Piece(s) for s in self.sources), self.separator)

    def read(self) -> tuple[bytes, StreamStats]:
        """The whole corpus in memory with its identity (for small corpora and tests; the engine streams)."""
        from kbound.sources.stream import read_selection

        return read_selection(self.selection(), self.max_bytes)


#: Why `plain` (--plain) and `field` (--field) do not go together.
PLAIN_WITH_FIELD = "--plain reads every input as text as it is; --field reads JSON lines or Parquet"


@contextlib.contextmanager
def open_corpus(
    inputs: Sequence[str] | str,
    *,
    glob: str | None = None,
    field: str | None = None,
    separator: bytes = DEFAULT_SEPARATOR,
    max_bytes: int | None = None,
    stdin: BinaryIO | None = None,
    plain: bool = False,
    source_field: str | None = None,
) -> Iterator[Corpus]:
    """Describe every input as a source and yield the `Corpus`; spooled streams are removed on exit.

    Files, directories (walked recursively, sorted), fsspec URLs and `-` (standard input). Each is
    opened once here to learn its format, so a missing or unreadable input fails at once with one
    `CorpusError` line, before anything is compressed. With `plain`, every input is text as it is:
    no decompression and no Parquet by its first bytes (a text that begins with `BZh` or `PAR1`).
    `source_field` (`--source-field`, with `field`) names each document's source by a field of its own.
    """
    if isinstance(inputs, str):
        inputs = [inputs]
    if not inputs:
        raise CorpusError("no input given (name a file, a directory, or - for standard input)")
    if max_bytes is not None and max_bytes < 1:
        raise CorpusError(f"--max-bytes must be at least 1 byte, not {max_bytes}")
    if plain and field is not None:
        raise CorpusError(PLAIN_WITH_FIELD)
    check_source_field(field, source_field)
    names = expand(inputs, glob)
    with contextlib.ExitStack() as stack:
        sources: list[Source] = []
        spooled: list[str] = []
        for name in names:
            if is_stream(name):
                stream = (stdin or sys.stdin.buffer) if name == STDIN else stack.enter_context(_open_stream(name))
                label = "<stdin>" if name == STDIN else name
                sources.append(_spool(label, stream, stack, field, max_bytes, plain))
                spooled.append(label)
            else:
                sources.append(describe(name, field, plain=plain))
        if field is None:
            _hint_json_lines(sources)
        if source_field is not None:
            sources = [dataclasses.replace(s, source_field=source_field) for s in sources]
        as_is = sum(s.size_on_disk or 0 for s in sources if s.fmt == "text" and not s.compression)
        check_limit(max_bytes, as_is, "the input")
        yield Corpus(tuple(sources), separator, max_bytes, tuple(spooled), groups_of(list(inputs), names))


def check_source_field(field: str | None, source_field: str | None) -> None:
    """A `--source-field` needs `--field` (documents with fields) and a path that is not inside the text field."""
    if source_field is None:
        return
    if field is None:
        raise CorpusError("--source-field names a field of JSON lines or Parquet rows: give --field too")
    parts = source_field.split(".")
    if not all(parts):
        raise CorpusError(f"--source-field {source_field!r}: an empty name in the dotted path")
    if parts[0] == field:
        raise CorpusError(f"--source-field {source_field!r} is inside the text field {field!r}")


#: Names of JSON-lines files, compressed or not.
_JSON_LINES = re.compile(r"\.(jsonl|ndjson)(\.(gz|bz2|xz|zst))?$", re.IGNORECASE)


def _hint_json_lines(sources: Sequence[Source]) -> None:
    """Without --field a JSON-lines file is one text document, JSON syntax and all: say so once, with the fix."""
    named = [s.name for s in sources if _JSON_LINES.search(s.name)]
    if named:
        more = f" and {len(named) - 1:,} more" if len(named) > 1 else ""
        warn(f"{named[0]}{more}: read as plain text, JSON syntax and all; give --field NAME to read each line's "
             "NAME string")


@contextlib.contextmanager
def _open_stream(name: str) -> Iterator[BinaryIO]:
    try:
        f = open(name, "rb")  # noqa: SIM115 - closed by the context manager
    except OSError as e:
        raise CorpusError(f"{name}: cannot read ({e.strerror or e})") from None
    with f:
        yield f


def _spool(name: str, stream: BinaryIO, stack: contextlib.ExitStack, field: str | None,
           max_bytes: int | None, as_text: bool = False) -> Source:
    """Read a stream once into an anonymous temporary file that workers can open; return it as a source."""
    import zstandard

    spool = stack.enter_context(tempfile.TemporaryFile(prefix="kbound-spool-"))  # noqa: SIM115 - the stack closes it
    try:
        head = stream.read(8)
        # `as_text` (--plain): spooled as text whatever its first bytes, so the spool's own zstd is all that is undone.
        plain = as_text or (compression_of(head) is None and not head.startswith(PARQUET_MAGIC))
        total = len(head)
        if plain:
            # Text compresses about 3:1 at level 1, at several hundred MB/s: the spool costs a third of the disk.
            writer = zstandard.ZstdCompressor(level=1).stream_writer(spool, closefd=False)
            writer.write(head)
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                total += len(chunk)
                check_limit(max_bytes, total, name)
                writer.write(chunk)
            writer.close()  # type: ignore[no-untyped-call]
        else:
            spool.write(head)
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                spool.write(chunk)
        spool.flush()
    except OSError as e:
        raise CorpusError(f"{name}: cannot spool the stream to a temporary file ({e.strerror or e})") from None
    proc = f"/proc/{os.getpid()}/fd/{spool.fileno()}"
    url = proc if os.path.exists(proc) else _named_copy(spool, stack)
    source = describe(name, field, url=url)
    # A spool has no lasting identity: its results are cached by content, never recalled by name.
    return Source(source.name, source.url, source.fmt, source.compression, source.field, None, "")


def _named_copy(spool: BinaryIO, stack: contextlib.ExitStack) -> str:
    """Where /proc is missing: a named temporary file (removed on exit) workers can open."""
    tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="kbound-spool-"))
    path = os.path.join(tmp, "spool")
    spool.seek(0)
    with open(path, "wb") as out:
        for chunk in iter(lambda: spool.read(CHUNK), b""):
            out.write(chunk)
    return path
