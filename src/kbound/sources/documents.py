"""An input's documents: a text file is one, a JSON line (`--field`) one, a Parquet row (`--field` column) one.

Each reader yields `Item`s for one piece of a source: the whole file, or a range of it (a byte
range of a text file, the lines that start in a byte range of a JSON-lines file, a range of a
Parquet file's row groups), so that shards can be read by different workers with no index
and no copy. Items are joined into the corpus stream by `kbound.sources.stream`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple

from kbound.errors import CorpusError
from kbound.sources.inputs import Source
from kbound.sources.readers import CHUNK, Reader, open_raw


class Item(NamedTuple):
    """A stretch of the corpus from one source: `docs` documents start in it (joined by the separator).

    A text file's chunks are parts of one document: the first has `starts` True and `docs` 1,
    the rest `starts` False and `docs` 0. JSON-lines and Parquet items hold whole documents.
    """

    data: bytes
    docs: int
    starts: bool
    #: With `--source-field`, the source name of the document this item starts (None: the field is absent).
    label: str | None = None


class Pieces:
    """The items of `source` from `start` to `stop` (units by format; None: to the end), and bytes read from disk."""

    def __init__(self, source: Source, start: int, stop: int | None, separator: bytes, granular: bool) -> None:
        self.source, self.start, self.stop, self.separator, self.granular = source, start, stop, separator, granular
        self._reader: Reader | None = None
        self._disk = 0

    @property
    def disk_bytes(self) -> int:
        """How much of the file on disk has been read so far."""
        return self._reader.disk_bytes if self._reader is not None else self._disk

    def items(self) -> Iterator[Item]:
        """Yield the piece's items; `CorpusError` (naming the input and where) on anything unreadable."""
        fmt = self.source.fmt
        if fmt == "text":
            return self._text()
        if fmt == "jsonl":
            return self._jsonl()
        if fmt == "parquet":
            return self._parquet()
        raise CorpusError(f"{self.source.name}: unknown format {fmt!r}")

    # -- text: the file is one document; a piece is the part of it between two cut points
    def _text(self) -> Iterator[Item]:
        src, start, stop = self.source, self.start, self.stop
        self._reader = Reader(src.name, src.url, src.compression, max(start - 1, 0))
        first = start == 0
        pending = b""  # read, not yet known to be before the start / before the end
        pos = max(start - 1, 0)  # file offset of pending[0]
        begun = start == 0
        for chunk in self._reader.chunks():
            pending += chunk
            if not begun:
                cut = _cut(pending, start - pos, final=False)
                if cut is None:
                    continue
                pos, pending, begun = pos + cut, pending[cut:], True
            if stop is not None:
                cut = _cut(pending, stop - pos, final=False)
                if cut is not None:
                    if cut:
                        yield Item(pending[:cut], int(first), first)
                    return
                # Everything before the byte ahead of `stop` is certainly ours.
                keep = min(len(pending), max(0, stop - 1 - pos))
                if keep:
                    yield Item(pending[:keep], int(first), first)
                    first = False
                    pos, pending = pos + keep, pending[keep:]
            elif pending:
                yield Item(pending, int(first), first)
                first = False
                pos, pending = pos + len(pending), b""
        if not begun:
            cut = _cut(pending, start - pos, final=True)
            pos, pending, begun = pos + (cut or 0), pending[cut or 0 :], True
        if stop is not None and pending:
            cut = _cut(pending, stop - pos, final=True)
            pending = pending[: cut if cut is not None else len(pending)]
        if pending or first:
            yield Item(pending, int(first), first)  # an empty file is an empty document

    # -- JSON lines: the lines that start in [start, stop) of the (decompressed) file
    def _jsonl(self) -> Iterator[Item]:
        src, start, stop = self.source, self.start, self.stop
        # From the byte before the piece: a line starts at `start` exactly when that byte is a newline.
        origin = max(start - 1, 0)
        self._reader = Reader(src.name, src.url, src.compression, origin)
        lines = _Lines(src, first_line_number=1 if start == 0 else None)
        # An unfinished line waits as a list of chunks, joined once when its newline comes: a 500 MB line
        # grew by a copy of itself at every chunk (quadratic time, twice its size held).
        pos, pending, skipping = origin, bytearray(), start > 0
        for chunk in self._reader.chunks():
            if skipping:
                i = chunk.find(b"\n")
                if i < 0:
                    pos += len(chunk)
                    continue
                pos, chunk, skipping = pos + i + 1, chunk[i + 1 :], False
            end = chunk.rfind(b"\n")
            if end < 0:
                pending += chunk
                continue
            if pending:
                pending += memoryview(chunk)[: end + 1]
                held: list[bytes] = [pending]  # type: ignore[list-item]  # read as bytes, never changed
            else:
                held = [chunk[: end + 1]]
            pending = bytearray(memoryview(chunk)[end + 1 :])
            size = len(held[0])
            docs, done = lines.parse(held, pos, stop)
            pos += size
            yield from self._emit(docs, lines.labels)
            if done:
                return
        if pending and not skipping:
            pending += b"\n"
            docs, _ = lines.parse([pending], pos, stop)  # type: ignore[list-item]
            yield from self._emit(docs, lines.labels)

    def _emit(self, docs: list[Document], labels: list[str | None]) -> Iterator[Item]:
        # Small documents go joined (a document's pieces are too small to pass one by one); a long one
        # goes alone, not copied into a join (as separate items they are joined by the stream the same way),
        # and a very long one (`LONG_LINE`) in pieces as it is decoded. Labels ride on granular items only.
        batch: list[bytes] = []
        for i, doc in enumerate(docs):
            label = labels[i] if labels else None
            if not isinstance(doc, bytes):
                if batch:
                    yield Item(self.separator.join(batch), len(batch), True)
                    batch = []
                first = True
                for part in doc:
                    if part or first:
                        yield Item(part, int(first), first, label if first else None)
                        first = False
            elif self.granular:
                yield Item(doc, 1, True, label)
            elif len(doc) >= CHUNK:
                if batch:
                    yield Item(self.separator.join(batch), len(batch), True)
                    batch = []
                yield Item(doc, 1, True)
            else:
                batch.append(doc)
        if batch:
            yield Item(self.separator.join(batch), len(batch), True)

    # -- Parquet: rows of the `field` column in row groups [start, stop)
    def _parquet(self) -> Iterator[Item]:
        src = self.source
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise CorpusError(f"{src.name}: reading Parquet needs pyarrow (pip install 'kbound[parquet]')") from None
        try:
            with open_raw(src.url) as raw:
                pf = pq.ParquetFile(raw)
                column = _text_column(pf, src, pa)
                labelled = src.source_field is not None and self.granular
                label_column, keys = _label_column(pf, src) if labelled else ("", [])
                columns = [column, label_column] if labelled else [column]
                row = sum(pf.metadata.row_group(g).num_rows for g in range(self.start))
                stop = pf.num_row_groups if self.stop is None else min(self.stop, pf.num_row_groups)
                paths = [pf.metadata.schema.column(i).path for i in range(pf.metadata.num_columns)]
                leaf = paths.index(column)  # leaves, not top-level columns: a struct before it has several
                for group in range(self.start, stop):
                    # In batches of about `PARQUET_BATCH` bytes of text, not the row group whole: a 320 MB row
                    # group read whole peaked at 757 MiB, in batches at 210-270 MiB (its compressed bytes stay).
                    meta = pf.metadata.row_group(group)
                    text_bytes = meta.column(leaf).total_uncompressed_size
                    rows = max(1, min(65536, PARQUET_BATCH * max(meta.num_rows, 1) // max(text_bytes, 1)))
                    for batch in pf.iter_batches(batch_size=rows, row_groups=[group], columns=columns):
                        labels = _parquet_labels(batch.column(1), keys, src, row) if labelled else None
                        yield from self._rows(batch.column(0), row, pa, labels)
                        row += batch.num_rows
                    self._disk = raw.tell()
        except CorpusError:
            raise
        except Exception as e:
            raise parquet_error(src.name, e) from None

    def _rows(self, arr: Any, first_row: int, pa: Any, labels: list[str | None] | None = None) -> Iterator[Item]:
        if arr.null_count:
            nulls = arr.is_null().to_numpy(zero_copy_only=False)
            row = first_row + int(nulls.argmax())
            raise CorpusError(f"{self.source.name}: row {row:,}: null in column {self.source.field!r}")
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = arr.cast(pa.large_string())
        import numpy as np

        width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
        _, offsets_buf, data_buf = arr.buffers()
        offsets = np.frombuffer(offsets_buf, dtype=width)[arr.offset : arr.offset + len(arr) + 1].tolist()
        data = memoryview(data_buf) if data_buf is not None else memoryview(b"")
        docs = [data[offsets[i] : offsets[i + 1]] for i in range(len(arr))]
        if self.granular:
            for i, doc in enumerate(docs):
                yield Item(bytes(doc), 1, True, None if labels is None else labels[i])
        elif docs:
            # Parquet row groups can be large: join in steps of about CHUNK bytes.
            step = max(1, CHUNK * len(docs) // max(offsets[-1] - offsets[0], 1))
            for i in range(0, len(docs), step):
                part = docs[i : i + step]
                yield Item(self.separator.join(part), len(part), True)


def parquet_error(name: str, e: Exception) -> CorpusError:
    """One line for an error reading a Parquet file: the system's (it has an errno), or pyarrow's for a damaged
    file (ArrowInvalid, and the OSErrors without an errno that pyarrow raises for a corrupt footer)."""
    if isinstance(e, OSError) and e.errno is not None:
        return CorpusError(f"{name}: cannot read ({e.strerror or e})")
    why = " ".join(str(e).split()) or type(e).__name__  # pyarrow's messages can span lines
    return CorpusError(f"{name}: not a readable Parquet file ({why})")


def _text_column(pf: Any, src: Source, pa: Any) -> str:
    schema = pf.schema_arrow
    field = src.field or ""
    if field not in schema.names:
        names = ", ".join(schema.names[:12]) + (", …" if len(schema.names) > 12 else "")
        raise CorpusError(f"{src.name}: no column {field!r} (columns: {names})")
    kind = schema.field(field).type
    stringy = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    stringy = stringy or (hasattr(pa.types, "is_string_view") and pa.types.is_string_view(kind))
    if not stringy:
        raise CorpusError(f"{src.name}: column {field!r} holds {kind}, not strings")
    return field


#: Bytes of text a Parquet batch holds (rows per batch from the row group's uncompressed size).
PARQUET_BATCH = 8 << 20


def _label_column(pf: Any, src: Source) -> tuple[str, list[str]]:
    """The top-level column that holds `--source-field` (a column of that name, or the struct column its dotted
    path starts in), and the keys that lead from it to the field."""
    path = src.source_field or ""
    names = pf.schema_arrow.names
    if path in names:
        return path, []
    head, *keys = path.split(".")
    if head not in names:
        shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
        raise CorpusError(f"{src.name}: no column {head!r} for --source-field {path!r} (columns: {shown})")
    return head, keys


def _parquet_labels(column: Any, keys: list[str], src: Source, first_row: int) -> list[str | None]:
    """Each row's source name from the column `_label_column` chose, following `keys` into its structs."""
    path = src.source_field or ""
    out: list[str | None] = []
    for i, v in enumerate(column.to_pylist()):
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        out.append(source_label(v, path, lambda i=i: f"{src.name}: row {first_row + i:,}"))
    return out


def source_label(value: Any, path: str, where: Any) -> str | None:
    """A document's source name from its `--source-field` value: a string as it is, a number or true/false as JSON
    writes it, None when the field is absent or null; an object or array is refused (`where()` names the place)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    kind = "an object" if isinstance(value, dict) else "an array" if isinstance(value, list) else type(value).__name__
    raise CorpusError(f"{where()}: --source-field {path!r} holds {kind}, not a source name")


#: How far past a cut point a text file is searched for a newline to cut at instead.
_LINE_REACH = 1 << 20


def _cut(buf: bytes, target: int, *, final: bool) -> int | None:
    """Where a text file is cut near `target` (an index into `buf`, which starts at `target - 1` or before).

    Just after the first newline at or after `target - 1`, if one comes within `_LINE_REACH`;
    failing that, at the first byte at or after `target` that starts a UTF-8 character. So every
    piece holds whole lines (whole characters at least), and two neighbouring pieces, read by
    different workers, agree on the point. None: `buf` does not yet reach far enough to say.
    """
    if target <= 0:
        return 0
    nl = buf.find(b"\n", target - 1, target - 1 + _LINE_REACH)
    if nl >= 0:
        return nl + 1
    if len(buf) < target + _LINE_REACH and not final:
        return None
    for i in range(target, min(len(buf), target + 4)):
        if buf[i] & 0xC0 != 0x80:
            return i
    return min(len(buf), target + 4)


#: A JSON line at least this long has its document decoded in pieces of `CHUNK`, as it passes: held whole,
#: a line was held about three times over (its bytes, the parser's scratch copy, its str).
LONG_LINE = 8 << 20

#: A document, whole or (from a long line) as its pieces, decoded as they are taken.
Document = bytes | Iterator[bytes]


class _Lines:
    """Parses blocks of whole JSON lines into documents (the `field` string of each), naming bad lines."""

    def __init__(self, source: Source, first_line_number: int | None) -> None:
        self.source, self.field = source, source.field or ""
        self.lineno = first_line_number
        self._decoder: Any = None
        self._refused: tuple[type[BaseException], ...] = ()
        #: `--source-field` as keys, and the source names of the documents the last `parse` returned.
        self.path = source.source_field.split(".") if source.source_field else []
        self.labels: list[str | None] = []

    def _label(self, record: Any, offset: int) -> None:
        """Note the source name of a parsed record (a dict from `json`, a struct from msgspec)."""
        if not self.path:
            return
        v = record
        for k in self.path:
            v = v.get(k) if isinstance(v, dict) else None
        self.labels.append(source_label(v, self.source.source_field or "", lambda: self._where(offset)))

    def _where(self, offset: int) -> str:
        if self.lineno is not None:
            return f"{self.source.name}:{self.lineno}"
        return f"{self.source.name} (the line at byte {offset:,})"

    def parse(self, held: list[bytes], offset: int, stop: int | None) -> tuple[list[Document], bool]:
        """The documents of the lines in the block `held[0]` (which starts at byte `offset`) that start before
        `stop`. The block is taken out of `held`, so that it is freed once parsed, before the documents are
        encoded: a long line is not held three times over (its bytes, its str, the document's bytes)."""
        block = held.pop()
        self.labels = []
        if len(block) >= LONG_LINE:
            return self._lines(block, offset, stop)
        if stop is None or offset + len(block) <= stop:
            lines = block.count(b"\n")
            records = self._fast(block, lines)
            if records is not None:
                del block
                if self.path:
                    self._fast_labels(records, offset)
                if self.lineno is not None:
                    self.lineno += lines
                records.reverse()  # each str is dropped as soon as its document is encoded
                docs: list[Document] = []
                while records:
                    docs.append(records.pop().value.encode("utf-8", "surrogatepass"))
                return docs, False
        return self._parse(block, offset, stop)

    def _lines(self, block: bytes, offset: int, stop: int | None) -> tuple[list[Document], bool]:
        """A block holding a long line, line by line: the long ones in pieces, the rest as usual."""
        docs: list[Document] = []
        view, pos = memoryview(block), 0
        while pos < len(block):
            end = block.index(b"\n", pos) + 1
            if stop is not None and offset + pos >= stop:
                return docs, True
            if end - pos >= LONG_LINE:
                docs.append(self._long(view[pos : end - 1], offset + pos))
                if self.path:
                    self._long_label(view[pos : end - 1], offset + pos)
                if self.lineno is not None:
                    self.lineno += 1
            else:
                docs += self._parse(bytes(view[pos:end]), offset + pos, stop)[0]
            pos = end
        return docs, False

    def _long(self, line: memoryview, offset: int) -> Iterator[bytes]:
        """A long line's document in pieces: msgspec checks the line and finds the field's string without
        decoding it, then the string is decoded a `CHUNK` at a time, cut where no character or escape is split."""
        import msgspec

        where = self._where(offset)
        doc = msgspec.defstruct("Field", [("value", msgspec.Raw)], rename={"value": self.field})
        try:
            record: Any = msgspec.json.decode(line, type=doc)
            token = memoryview(record.value)
        except (msgspec.MsgspecError, RecursionError):
            token = memoryview(b"")
        if len(token) < 2 or token[0] != 0x22:  # not a string: say why as json would
            docs, _ = self._parse(bytes(line) + b"\n", offset, None)
            return (d for d in docs if isinstance(d, bytes))
        return _string_pieces(token, where)

    def _fast(self, block: bytes, lines: int) -> list[Any] | None:
        """The block's documents by msgspec, which builds only the field it is asked for (several times
        faster than `json`); None on anything it refuses, so that `_parse` decides and names the line.

        msgspec does not check the UTF-8 inside the fields it skips; `json` refused a line with a bad
        byte anywhere. Everything both accept gives the same documents (the last of duplicate keys).
        """
        if self._decoder is None:
            import msgspec

            fields: list[Any] = [("value", str)]
            rename = {"value": self.field}
            if self.path:
                fields.append(("source", _nested(self.path[1:]), None))
                rename["source"] = self.path[0]
            doc = msgspec.defstruct("Document", fields, rename=rename)
            self._decoder = msgspec.json.Decoder(doc)
            self._refused = (msgspec.MsgspecError, ValueError, RecursionError)
        try:
            records: list[Any] = self._decoder.decode_lines(block)
        except self._refused:
            return None
        if len(records) != lines:  # a blank line, or two values on one line (which json refuses)
            return None
        return records

    def _fast_labels(self, records: list[Any], offset: int) -> None:
        """The source names of a block msgspec decoded: each record's `source` struct, followed down the path."""
        path = self.source.source_field or ""
        for i, r in enumerate(records):
            self.labels.append(source_label(self._down(r.source), path, lambda i=i: self._nth(offset, i)))

    def _nth(self, offset: int, i: int) -> str:
        """Where the i-th line of a block starting at `offset` is, for a message."""
        if self.lineno is not None:
            return f"{self.source.name}:{self.lineno + i}"
        return f"{self.source.name} (line {i + 1:,} of the block at byte {offset:,})"

    def _long_label(self, line: memoryview, offset: int) -> None:
        """The source name of a long line, read by msgspec without decoding its text."""
        import msgspec

        doc = msgspec.defstruct("Labelled", [("source", _nested(self.path[1:]), None)], rename={"source": self.path[0]})
        try:
            record: Any = msgspec.json.decode(line, type=doc)
        except (msgspec.MsgspecError, RecursionError):
            record = None  # the text's own reading names the bad line
        v = None if record is None else self._down(record.source)
        self.labels.append(source_label(v, self.source.source_field or "", lambda: self._where(offset)))

    def _down(self, level: Any) -> Any:
        """The value at the end of the path inside a struct `_nested` read (None where a level is absent)."""
        for _ in self.path[1:]:
            level = None if level is None else level.value
        return level

    def _parse(self, block: bytes, offset: int, stop: int | None) -> tuple[list[Document], bool]:
        docs: list[Document] = []
        field = self.field
        loads = json.loads
        for line in block.split(b"\n")[:-1]:
            if stop is not None and offset >= stop:
                return docs, True
            if line and not line.isspace():
                try:
                    record = loads(line)
                except json.JSONDecodeError as e:  # column in characters, as an editor counts them
                    raise CorpusError(f"{self._where(offset)}: not a JSON line ({e.msg}: column {e.colno})") from None
                except ValueError as e:
                    why = str(e.args[0]).split(":")[0] if e.args else "invalid"
                    raise CorpusError(f"{self._where(offset)}: not a JSON line ({why})") from None
                except RecursionError:  # json.loads recurses once per level: `[[[[…` 100,000 deep
                    raise CorpusError(f"{self._where(offset)}: not a JSON line (nested too deeply)") from None
                value = record.get(field) if isinstance(record, dict) else None
                if not isinstance(value, str):
                    raise CorpusError(f"{self._where(offset)}: no string field {field!r}")
                docs.append(value.encode("utf-8", "surrogatepass"))
                self._label(record, offset)
            offset += len(line) + 1
            if self.lineno is not None:
                self.lineno += 1
        return docs, False


def _nested(keys: list[str]) -> Any:
    """A msgspec type that reads the value at `keys` inside an object (any JSON value at the end; each level may
    be absent or null), skipping everything else; each level's value is in its `value` attribute."""
    import msgspec

    kind: Any = Any
    for key in reversed(keys):
        kind = msgspec.defstruct("Level", [("value", kind | None, None)], rename={"value": key})
    return kind


def _string_pieces(token: memoryview, where: str) -> Iterator[bytes]:
    """The UTF-8 of a JSON string token (quotes included), decoded a `CHUNK` of the token at a time."""
    import msgspec

    end, at = len(token) - 1, 1
    while at < end:
        cut = min(at + CHUNK, end)
        if cut < end:
            while cut > at and token[cut] & 0xC0 == 0x80:  # not inside a UTF-8 character
                cut -= 1
            cut = _before_escape(token, at, cut)
        quoted = b"".join((b'"', token[at:cut], b'"'))
        try:
            yield msgspec.json.decode(quoted, type=str).encode("utf-8")
        except (msgspec.MsgspecError, UnicodeEncodeError):
            try:  # an unpaired surrogate, which json takes (and kbound passes on as it always has)
                yield json.loads(quoted).encode("utf-8", "surrogatepass")
            except ValueError as e:
                why = str(e.args[0]).split(":")[0] if e.args else "invalid"
                raise CorpusError(f"{where}: not a JSON line ({why})") from None
        at = cut


def _before_escape(token: memoryview, at: int, cut: int) -> int:
    """`cut`, or the start of the first escape in the 12 bytes before it; if that escape is the low half of a
    surrogate pair (`\\udc00`-`\\udfff`), the start of its high half, six bytes before."""
    for i in range(max(at + 1, cut - 12), cut):
        if token[i] == 0x5C:
            run = i
            while token[run - 1] == 0x5C:
                run -= 1
            if (i - run) % 2 == 0:  # an odd backslash: it starts an escape
                low = bytes(token[i : i + 4]).lower() in (b"\\udc", b"\\udd", b"\\ude", b"\\udf")
                high = i - 6 > at and bytes(token[i - 6 : i - 4]).lower() == b"\\u"
                return i - 6 if low and high else i
    return cut
