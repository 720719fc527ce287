"""Putting models beside a report: each `--model` read by its headers and compared with the best bound."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from kbound.bounds.results import Report
from kbound.models.info import ModelInfo
from kbound.models.loss import MeasuredLoss
from kbound.models.verdict import DEFAULT_BITS_PER_PARAM, ModelComparison, compare_report


@dataclass(frozen=True)
class ModelResult:
    """One model: what its headers say, and how it compares with the report's best bound."""

    info: ModelInfo
    comparison: ModelComparison


def with_models(
    report: Report,
    models: Sequence[str | ModelInfo],
    *,
    bits_per_param: float = DEFAULT_BITS_PER_PARAM,
    model_loss: float | MeasuredLoss | None = None,
    tokens: int | None = None,
    corpus_size_bytes: int | None = None,
) -> Report:
    """Return `report` with each model (a path, a typed size like `70B:q4_k`, or one already read) compared.

    `model_loss` is the model's loss on this corpus: bits per byte, or nats per token when a
    token count is known (`tokens`, else the report's tokenizer count), or a `MeasuredLoss` (bits
    per byte of the text llama.cpp scored, which the two-part code then carries). Raises `ModelFormatError`
    for an unreadable model and ValueError for values that cannot be compared.
    """
    from kbound.models import describe_model

    if model_loss is not None and len(models) != 1:
        raise ValueError("--model-loss describes one model: give exactly one --model with it")
    measured = model_loss if isinstance(model_loss, MeasuredLoss) else None
    loss = measured.bits_per_byte if measured is not None else model_loss
    assert not isinstance(loss, MeasuredLoss)
    counted = tokens if tokens is not None else (report.tokens.tokens if report.tokens is not None else None)
    per_token = counted is not None and measured is None
    results = []
    for arg in models:
        info = arg if isinstance(arg, ModelInfo) else describe_model(arg)
        comparison = compare_report(
            report, info, bits_per_param=bits_per_param,
            model_loss_bpb=None if per_token else loss,
            loss_nats_per_token=loss if per_token else None,
            tokens=None if measured else counted, corpus_size_bytes=corpus_size_bytes,
        )
        if measured is not None and comparison.two_part is not None:
            what = "a sample" if measured.sample_seed is not None else "the corpus"
            comparison = dataclasses.replace(comparison, two_part=dataclasses.replace(
                comparison.two_part, measured=measured,
                loss_from=f"llama.cpp on {what}: {measured.tokens:,} tokens, {measured.bytes:,} bytes"))
        results.append(ModelResult(info, comparison))
    return dataclasses.replace(report, models=tuple(results))
