"""kbound: honest upper bounds on the Kolmogorov complexity of a text corpus.

    >>> import kbound
    >>> report = kbound.estimate(["corpora/alice29.txt"], ["zstd:19", "xz:9e"])
    >>> report.best.spec, report.best.total_bytes  # doctest: +SKIP

Flow: `sources` (inputs as documents, one stream) -> `backends` (codecs) -> `run` (tasks in
workers, shards, Dask, the cache) -> `bounds` (results, the best bound, the Report) -> `models`
-> `growth` -> `report` (rendering) -> `cli` (wiring). See docs/architecture.md.
"""

from kbound.backends.registry import parse_spec
from kbound.bounds.estimate import estimate, resolve_backends
from kbound.bounds.results import BackendResult, Best, CorpusSummary, Report
from kbound.errors import BackendError, CorpusError, KboundError, ModelFormatError, RoundTripError
from kbound.sources.corpus import Corpus, open_corpus
from kbound.version import kbound_version

__all__ = [
    "BackendError",
    "BackendResult",
    "Best",
    "Corpus",
    "CorpusError",
    "CorpusSummary",
    "KboundError",
    "ModelFormatError",
    "Report",
    "RoundTripError",
    "estimate",
    "kbound_version",
    "open_corpus",
    "parse_spec",
    "resolve_backends",
]
__version__ = kbound_version()
