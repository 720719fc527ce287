"""kbound: honest upper bounds on the Kolmogorov complexity of a text corpus.

    >>> import kbound
    >>> report = kbound.estimate(["corpora/alice29.txt"], ["zstd:19", "xz:9e"])
    >>> report.best.spec, report.best.total_bytes  # doctest: +SKIP

Flow: `corpus` (loading) -> `backends` (compressing, verified in `engine`) -> `bounds`
(combining into estimates) -> `report` (rendering) -> `cli` (wiring).
"""

from kbound.backends.registry import parse_spec
from kbound.bounds.estimate import estimate, resolve_backends
from kbound.bounds.results import BackendResult, Best, CorpusSummary, Report
from kbound.errors import BackendError, CorpusError, KboundError, ModelFormatError, RoundTripError
from kbound.sources.corpus import Corpus, load_corpus
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
    "load_corpus",
    "parse_spec",
    "resolve_backends",
]
__version__ = kbound_version()
