"""How many bytes of text a source holds, known or estimated before it is read: for shards, memory and progress.

A plain text file's size is its size on disk. A Parquet file says, in its footer, how large its
text column is. For compressed files and JSON lines the text size is not written anywhere, so
it is estimated from the first MiB of the first few such sources (text bytes per byte on disk)
and applied to the rest: shards are "about --shard-size", and the report gives the real sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

from kbound.errors import CorpusError
from kbound.sources.documents import Pieces, parquet_error
from kbound.sources.inputs import Source
from kbound.sources.readers import open_raw

#: How much of a source's text the ratio sample reads, and how many sources of a kind it samples.
SAMPLE_BYTES = 1 << 20
SAMPLED_SOURCES = 3


def parquet_groups(source: Source) -> list[int]:
    """The uncompressed size of the text column in each row group of a Parquet source (from its footer)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise CorpusError(f"{source.name}: reading Parquet needs pyarrow (pip install 'kbound[parquet]')") from None
    try:
        with open_raw(source.url) as raw:
            meta = pq.ParquetFile(raw).metadata
            names = [meta.schema.column(i).name for i in range(meta.num_columns)]
            col = names.index(source.field) if source.field in names else 0
            return [meta.row_group(g).column(col).total_uncompressed_size for g in range(meta.num_row_groups)]
    except Exception as e:  # this runs first on every Parquet input: a damaged one must be one line here
        raise parquet_error(source.name, e) from None


def _ratio(source: Source) -> float | None:
    """Text bytes per byte read from disk over the start of `source`; None when nothing was read."""
    pieces = Pieces(source, 0, None, b"\x1e", granular=False)
    text = 0
    items = pieces.items()
    try:
        for item in items:
            text += len(item.data)
            if text >= SAMPLE_BYTES:
                break
    finally:
        items.close()  # type: ignore[attr-defined]
    disk = pieces.disk_bytes
    if disk <= 0:
        return None
    return text / disk


def text_bytes(sources: Sequence[Source]) -> list[int]:
    """Each source's text size: exact for plain text files and Parquet, otherwise estimated by a sampled ratio."""
    ratios: dict[tuple[str, str | None], list[float]] = {}
    out: list[int | None] = []
    for s in sources:
        if s.fmt == "text" and s.compression is None and s.size_on_disk is not None:
            out.append(s.size_on_disk)
        elif s.fmt == "parquet":
            out.append(sum(parquet_groups(s)))
        else:
            kind = (s.fmt, s.compression)
            seen = ratios.setdefault(kind, [])
            if len(seen) < SAMPLED_SOURCES and (r := _ratio(s)) is not None:
                seen.append(r)
            out.append(None)
    sizes = []
    for s, known in zip(sources, out, strict=True):
        if known is not None:
            sizes.append(known)
            continue
        seen = ratios.get((s.fmt, s.compression)) or [1.0]
        sizes.append(round((s.size_on_disk or 0) * sum(seen) / len(seen)))
    return sizes
