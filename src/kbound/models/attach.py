"""Putting models beside a report: each `--model` read by its headers and compared with the best bound."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from kbound.bounds.results import Report
from kbound.models.compare import DEFAULT_BITS_PER_PARAM, ModelComparison, compare_report
from kbound.models.info import ModelInfo


@dataclass(frozen=True)
class ModelResult:
    """One model: what its headers say, and how it compares with the report's best bound."""

    info: ModelInfo
    comparison: ModelComparison


@dataclass(frozen=True)
class TokenCount:
    """The corpus counted in tokens by a local tokenizer.json, and the best bound per token."""

    tokenizer: str
    tokens: int
    bits_per_token: float | None
    #: Set when the corpus is not valid UTF-8 and undecodable bytes were replaced before counting.
    note: str | None = None


def with_models(
    report: Report,
    models: Sequence[str | ModelInfo],
    *,
    bits_per_param: float = DEFAULT_BITS_PER_PARAM,
    model_loss: float | None = None,
    tokens: int | None = None,
    corpus_size_bytes: int | None = None,
) -> Report:
    """Return `report` with each model (a path, a typed size like `70B:q4_k`, or one already read) compared.

    `model_loss` is the model's loss on this corpus: bits per byte, or nats per token when a
    token count is known (`tokens`, else the report's tokenizer count). Raises `ModelFormatError`
    for an unreadable model and ValueError for values that cannot be compared.
    """
    from kbound.models import describe_model

    if model_loss is not None and len(models) != 1:
        raise ValueError("--model-loss describes one model: give exactly one --model with it")
    counted = tokens if tokens is not None else (report.tokens.tokens if report.tokens is not None else None)
    per_token = counted is not None
    results = []
    for arg in models:
        info = arg if isinstance(arg, ModelInfo) else describe_model(arg)
        comparison = compare_report(
            report, info, bits_per_param=bits_per_param,
            model_loss_bpb=None if per_token else model_loss,
            loss_nats_per_token=model_loss if per_token else None,
            tokens=counted, corpus_size_bytes=corpus_size_bytes,
        )
        results.append(ModelResult(info, comparison))
    return dataclasses.replace(report, models=tuple(results))
