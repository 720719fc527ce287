"""What the duplicate stage found, and per-source accounting: sentences, tables, JSON and CSV parts of the estimate."""

from __future__ import annotations

from typing import Any

from kbound.bounds.results import Report
from kbound.dedup.figures import printable
from kbound.report.view import (
    Block,
    Column,
    CsvTable,
    Heading,
    Paragraph,
    Row,
    Sentence,
    Table,
    rounded,
    text_and_numbers,
)
from kbound.run.routed import MAX_ROUTED


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f} %" if whole else "0 %"


def duplicates_sentences(report: Report) -> list[Sentence]:
    """What repeats, defined exactly, and what coding repeats once saved."""
    d = report.duplicates
    if d is None:
        return [] if report.dedup_error is None else [
            Sentence(f"The duplicate stage gave no rows: {report.dedup_error}.", style="yellow")]
    out = [Sentence(
        f"Repeated content: {d.repeated_bytes:,} of {d.bytes:,} bytes ({_pct(d.repeated_bytes, d.bytes)}) are in "
        f"chunks that occur earlier in the corpus ({d.repeated_chunks:,} of {d.chunks:,} chunks; "
        f"{d.distinct_chunks:,} distinct); {d.repeated_documents:,} of {d.documents:,} documents "
        f"({d.repeated_document_bytes:,} bytes) repeat an earlier document exactly."
    )]
    plain = [r for r in report.results if not r.dedup and r.total_bytes is not None]
    coded = [r for r in report.results if r.dedup and r.total_bytes is not None]
    if plain and coded:
        a, b = min(plain, key=lambda r: r.total_bytes or 0), min(coded, key=lambda r: r.total_bytes or 0)
        assert a.total_bytes is not None and b.total_bytes is not None
        out.append(Sentence(
            f"Coding each repeat once as a reference: {b.total_bytes:,} bytes with {b.spec}, against "
            f"{a.total_bytes:,} with {a.spec} without references ({100 * (b.total_bytes / a.total_bytes - 1):+.2f} %)."
        ))
    else:
        out.append(Sentence("No shard repeats 1 % or more of its bytes: the rows with references were not run "
                            "(they would equal the plain ones, with a larger decoder)."))
    out.append(Sentence(f"Chunks: {d.chunking}; the index holds {d.index_bytes_per_chunk} bytes a chunk, in "
                        f"{d.partitions:,} partition{'s' if d.partitions != 1 else ''}.", style="dim"))
    return out


def _top_table(report: Report) -> Table | None:
    d = report.duplicates
    if d is None or not d.top:
        return None
    columns = (Column("most repeated chunks", fold=True), Column("count", "right", no_wrap=True),
               Column("bytes", "right", no_wrap=True), Column("first in", fold=True))
    rows = tuple(Row((t.preview, f"{t.count:,}", f"{t.length_bytes:,}", shown_name(t.source))) for t in d.top)
    return Table(columns, rows, blank_before=True)


def shown_name(name: str) -> str:
    """A source's name as a table shows it: control characters escaped (a field's value can hold any), `""` for
    the empty name."""
    return printable(name) if name else '""'


SOURCE_COLUMNS = ("source", "documents", "bytes", "rep. within B", "rep. earlier B", "rep. docs",
                  "adds B", "adds bpb", "own B", "own bpb")


def _sources_table(report: Report) -> Table:
    rows = []
    for s in report.sources:
        rows.append(Row((shown_name(s.name), f"{s.documents:,}", f"{s.bytes:,}", f"{s.repeated_bytes_within:,}",
                         f"{s.repeated_bytes_against_earlier:,}", f"{s.repeated_documents:,}",
                         "-" if s.adds_bytes is None else f"{s.adds_bytes:,}",
                         "-" if s.adds_bits_per_byte is None else f"{s.adds_bits_per_byte:.3f}",
                         "-" if s.own_bytes is None else f"{s.own_bytes:,}",
                         "-" if s.own_bits_per_byte is None else f"{s.own_bits_per_byte:.3f}")))
    first, *numbers = text_and_numbers(SOURCE_COLUMNS)
    # A source's name folds where the terminal is narrow: cut to "sour…", it would say nothing.
    return Table((Column(first.name, fold=True, min_width=len(first.name)), *numbers), tuple(rows), blank_before=True)


def duplicates_blocks(report: Report) -> list[Block]:
    """The blocks after the results: repeated content, then the sources."""
    blocks: list[Block] = []
    if report.duplicates is not None or report.dedup_error is not None:
        blocks += [Heading("Repeated content"), Paragraph(tuple(duplicates_sentences(report)))]
        if (top := _top_table(report)) is not None:
            blocks.append(top)
    if report.sources:
        blocks += [Heading("Sources"), _sources_table(report), Paragraph((Sentence(_sources_note(report),
                                                                                   style="dim"),))]
    return blocks


def _sources_note(report: Report) -> str:
    """What the per-source columns mean: sources as directories, or named per document by a field."""
    repeats = ("rep. within B and rep. earlier B: bytes in chunks seen earlier in the same source or in a source "
               "before it; rep. docs: documents identical to an earlier one.")
    field = report.settings.get("source_field")
    if field:
        spec = next((s.adds_spec for s in report.sources if s.adds_spec), None)
        if spec is None:
            return (f"Sources are the values of {field}; with more than {MAX_ROUTED} of them no source is coded "
                    f"on its own, so adds and own are left out. {repeats}")
        return (f"Sources are the values of {field}, in the order they first occur; each document was also coded "
                f"with {spec} in a stream of its source (own B, decoder included) and in one for each prefix of the "
                f"sources (adds B: the prefix through the source less the prefix before it), shard by shard, "
                f"verified; repeats across shards are not references there. {repeats}")
    best = report.best.spec if report.best else "the best row"
    return (f"adds B: the payload bytes of the source's shards in {best}, in corpus order, references to "
            "earlier sources included: the bound of the sources up to it less the bound of those before it "
            "(the decoder is counted once, in the best bound). own B: the smallest program for the source "
            f"alone among the rows whose shards do not reach outside it, decoder included. {repeats}")


def duplicates_to_dict(report: Report) -> dict[str, Any] | None:
    """The duplicate figures as JSON-ready data, with their definitions."""
    d = report.duplicates
    if d is None:
        return None if report.dedup_error is None else {"error": report.dedup_error}
    return {
        "chunking": d.chunking,
        "definition": "a chunk or document repeats when an identical one (the same name: 16-byte BLAKE2b for "
                      "chunks, XXH3-128 for documents) occurs earlier in corpus order; "
                      "repeated_fraction = repeated_bytes / bytes",
        "bytes": d.bytes, "documents": d.documents, "chunks": d.chunks, "distinct_chunks": d.distinct_chunks,
        "repeated_bytes": d.repeated_bytes, "repeated_fraction": rounded(d.repeated_fraction),
        "repeated_chunks": d.repeated_chunks, "repeated_documents": d.repeated_documents,
        "repeated_document_bytes": d.repeated_document_bytes,
        "index_bytes_per_chunk": d.index_bytes_per_chunk, "partitions": d.partitions,
        "sources": [{"name": s.name, "documents": s.documents, "bytes": s.bytes,
                     "repeated_bytes_within": s.repeated_bytes_within,
                     "repeated_bytes_against_earlier": s.repeated_bytes_against_earlier,
                     "repeated_documents_within": s.repeated_documents_within,
                     "repeated_documents_against_earlier": s.repeated_documents_against_earlier} for s in d.sources],
        "most_repeated": [{"count": t.count, "length_bytes": t.length_bytes, "preview": t.preview,
                           "first_in": t.source} for t in d.top],
    }


def sources_to_dicts(report: Report) -> list[dict[str, Any]]:
    """Per-source accounting as JSON-ready rows (also the CSV table)."""
    return [{"source": s.name, "documents": s.documents, "bytes": s.bytes,
             "repeated_bytes_within": s.repeated_bytes_within,
             "repeated_bytes_against_earlier": s.repeated_bytes_against_earlier,
             "repeated_documents": s.repeated_documents, "adds_bytes": s.adds_bytes,
             "adds_bits_per_byte": rounded(s.adds_bits_per_byte),
             "own_bytes": s.own_bytes,
             "own_bits_per_byte": rounded(s.own_bits_per_byte),
             "own_spec": s.own_spec, "adds_spec": s.adds_spec}
            for s in report.sources]


def sources_csv(report: Report) -> CsvTable | None:
    """The per-source rows as a CSV table, or None without them."""
    rows = sources_to_dicts(report)
    return CsvTable(tuple(rows[0]), tuple(rows)) if rows else None
