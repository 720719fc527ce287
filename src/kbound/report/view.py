"""One renderer interface: each report kind builds a `View`; one emitter per format renders any view.

A view says what a report shows and nothing about how a format spells it: its blocks (paragraphs
of sentences, tables of rows, headings) in reading order, its JSON dictionary, its CSV tables and
its `lines` rows. The emitters own the spelling: rich for the terminal table, GitHub Markdown,
`csv.DictWriter`, JSON through `dumps_json`, tab-separated lines. Neither measures anything.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from kbound.report.files import dumps_json


@dataclass(frozen=True)
class Column:
    """A table column: its heading, alignment, and how the terminal fits a long cell."""

    name: str
    align: Literal["left", "right"] = "left"
    no_wrap: bool = False
    #: Break a long cell anywhere (a path, an error) rather than end it with an ellipsis.
    fold: bool = False
    min_width: int | None = None


def rounded(value: float | None, digits: int = 6) -> float | None:
    """A figure for the JSON dicts: rounded to `digits` decimals (6 for rates, 4 for seconds), None kept."""
    return None if value is None else round(value, digits)


def text_and_numbers(names: Sequence[str], *, status_last: bool = False) -> tuple[Column, ...]:
    """The usual columns: a text column first (the backend or sample), numbers right-aligned on one line,
    and, with `status_last`, a text column last (a status or flags, left-aligned and wrapped)."""
    last = len(names) - 1 if status_last else len(names)
    return tuple(Column(name, "left" if i in (0, last) else "right", no_wrap=0 < i < last)
                 for i, name in enumerate(names))


@dataclass(frozen=True)
class Cell:
    """A cell that is more than its text: a terminal style (a status colour) or a Markdown spelling."""

    text: str
    style: str | None = None
    #: What Markdown shows instead of `text` (a spec as `code`, without the terminal's "◀ best").
    md: str | None = None


@dataclass(frozen=True)
class Row:
    """One table row; its emphasis is the terminal's `style` and, in Markdown, bold cells."""

    cells: tuple[str | Cell, ...]
    style: str | None = None
    strong: bool = False


@dataclass(frozen=True)
class Table:
    """Columns and rows; the terminal leaves a blank line before it when `blank_before` (Markdown always does)."""

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    blank_before: bool = False


@dataclass(frozen=True)
class Sentence:
    """One line of prose; `style` is the terminal's ("dim" for notes, "yellow" for a warning)."""

    text: str
    style: str | None = None
    #: False for lines about this run on this terminal (interruption, sharding) that a Markdown summary leaves out.
    markdown: bool = True


@dataclass(frozen=True)
class Paragraph:
    """Sentences one per line; Markdown separates paragraphs by a blank line and shows `bullets` as a list."""

    sentences: tuple[str | Sentence, ...]
    bullets: bool = False


@dataclass(frozen=True)
class Heading:
    """A section heading in Markdown; the terminal shows its tables' column headings instead."""

    text: str


Block: TypeAlias = Paragraph | Table | Heading


@dataclass(frozen=True)
class CsvTable:
    """One CSV table: its header and one record per row (None is written as an empty field)."""

    fields: tuple[str, ...]
    records: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class View:
    """Everything one report shows, in every format."""

    blocks: tuple[Block, ...]
    data: dict[str, Any]
    csv: tuple[CsvTable, ...]
    lines: tuple[tuple[str, ...], ...]


def _sentence(s: str | Sentence) -> Sentence:
    return s if isinstance(s, Sentence) else Sentence(s)


def _terminal_cell(c: str | Cell) -> str | Text:
    if isinstance(c, str):
        return c
    return c.text if c.style is None else Text(c.text, style=c.style)


def _rich_table(table: Table) -> RichTable:
    out = RichTable(show_edge=False, pad_edge=False, header_style="bold")
    for c in table.columns:
        out.add_column(c.name, justify=c.align, no_wrap=c.no_wrap, overflow="fold" if c.fold else "ellipsis",
                       min_width=c.min_width)
    for row in table.rows:
        out.add_row(*(_terminal_cell(c) for c in row.cells), style=row.style)
    return out


def emit_table(view: View, *, color: bool = False, width: int = 120) -> str:
    """The terminal table; ANSI colour only when `color` (the CLI passes True on a TTY without NO_COLOR)."""
    buf = io.StringIO()
    # No markup: cells and sentences hold names and text from the corpus ("[red]x" is a file name, not a style).
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None, highlight=False, emoji=False, markup=False)
    for block in view.blocks:
        if isinstance(block, Table):
            if block.blank_before:
                console.print()
            console.print(_rich_table(block))
        elif isinstance(block, Paragraph):
            for s in map(_sentence, block.sentences):
                console.print(s.text, soft_wrap=True, style=s.style)
    return buf.getvalue()


def _md_cell(c: str | Cell) -> str:
    text = c if isinstance(c, str) else c.text if c.md is None else c.md
    return text.replace("|", "\\|")


def _md_table(table: Table) -> list[str]:
    lines = ["| " + " | ".join(c.name for c in table.columns) + " |",
             "|" + "|".join("---:" if c.align == "right" else "---" for c in table.columns) + "|"]
    for row in table.rows:
        cells = [_md_cell(c) for c in row.cells]
        if row.strong:
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _md_block(block: Block) -> list[str]:
    if isinstance(block, Table):
        return _md_table(block)
    if isinstance(block, Heading):
        return [f"**{block.text}**"]
    shown = [s.text for s in map(_sentence, block.sentences) if s.markdown]
    return [f"- {text.strip()}" for text in shown] if block.bullets else shown


def emit_markdown(view: View) -> str:
    """GitHub-flavoured Markdown: the blocks, a blank line between them."""
    out: list[str] = []
    for lines in filter(None, map(_md_block, view.blocks)):
        out += ["", *lines] if out else lines
    return "\n".join(out) + "\n"


def emit_json(view: View) -> str:
    """Indented JSON ending in a newline."""
    return dumps_json(view.data)


def emit_csv(view: View) -> str:
    """Each CSV table, a blank line between them."""
    buf = io.StringIO()
    for i, table in enumerate(view.csv):
        if i:
            buf.write("\n")
        writer = csv.DictWriter(buf, fieldnames=list(table.fields), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for record in table.records:
            writer.writerow({k: "" if v is None else v for k, v in record.items()})
    return buf.getvalue()


def emit_lines(view: View) -> str:
    """Tab-separated rows, one a line, for shell pipelines."""
    return "".join("\t".join(row) + "\n" for row in view.lines)


#: The formats that need nothing but the view; the table also takes colour and width.
EMITTERS: dict[str, Callable[[View], str]] = {
    "json": emit_json, "csv": emit_csv, "md": emit_markdown, "lines": emit_lines,
}
FORMATS = ("table", *EMITTERS)


def emit(view: View, fmt: str, *, color: bool = False, width: int = 120) -> str:
    """Render `view` in `fmt` (one of `FORMATS`); only the table uses `color` and `width`."""
    if fmt == "table":
        return emit_table(view, color=color, width=width)
    return EMITTERS[fmt](view)
