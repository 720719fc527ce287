"""Reading inputs as documents and streaming the corpus they make.

`open_corpus(inputs)` describes the inputs as `Source`s (a text file, a compressed file, JSON
lines with `--field`, a Parquet file with `--field`, stdin, a FIFO, an fsspec URL) and yields a
`Corpus`. The corpus is its sources' documents, in input order (directories walked sorted by
path), joined by the separator. A `Selection` names part of it for one task; `CorpusStream`
reads a selection from the sources, and `Meter` computes its identity as it passes.
"""

from kbound.sources.corpus import Corpus, open_corpus
from kbound.sources.inputs import Source
from kbound.sources.readers import CHUNK
from kbound.sources.stream import (
    DEFAULT_SEPARATOR,
    CorpusStream,
    Meter,
    Piece,
    Sampling,
    Selection,
    StreamStats,
    read_selection,
)

__all__ = [
    "CHUNK", "DEFAULT_SEPARATOR", "Corpus", "CorpusStream", "Meter", "Piece", "Sampling", "Selection", "Source",
    "StreamStats", "open_corpus", "read_selection",
]
