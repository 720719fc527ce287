"""Comparing a model's size with the best upper bound on K(corpus), in words that claim no more than they can.

A bound B bits is an upper bound on K(corpus) only, so a model of M bits with M >= B has room
for a lossless copy, and M < B settles nothing: K could be far below every bound found here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kbound.bounds.results import Report
from kbound.errors import KboundError
from kbound.models.info import ModelInfo
from kbound.models.loss import MeasuredLoss

#: Storage rate for `parameters_needed`: ~2 bits of knowledge per parameter (Allen-Zhu & Li,
#: "Physics of Language Models: Part 3.3, Knowledge Capacity Scaling Laws", 2024).
DEFAULT_BITS_PER_PARAM = 2.0

ROOM = "the model has room to store a lossless copy of the corpus ({ratio:,.1f} times over)"
NO_ROOM = (
    "the model cannot hold a lossless copy unless the corpus is more compressible than every backend here found"
    " — inconclusive, because K is uncomputable"
)


@dataclass(frozen=True)
class TwoPartCode:
    """The model as a compressor: its own bits plus the corpus coded at its loss (Delétang et al. 2024)."""

    loss_bits_per_byte: float
    #: "bits per byte" when given so, else "nats per token over N tokens".
    loss_from: str
    #: Weights plus tokenizer/config files: the decoder must ship both (inference code not counted).
    model_bits: int
    loss_bits: float
    code_length_bits: float
    #: code_length_bits / corpus bytes: the rate with the model's size counted.
    bits_per_byte: float
    #: True when this two-part code is shorter than the best bound at the compared size.
    beats_bound: bool
    #: Corpus size above which the two-part code beats the best compressor's rate; None: never
    #: (the model's loss is no lower than the compressor's rate).
    break_even_bytes: float | None
    #: Set when kbound measured the loss itself (`--model-loss measure`).
    measured: MeasuredLoss | None = None


@dataclass(frozen=True)
class ModelComparison:
    """One model against the best bound: ratio, verdict, parameters a copy would need, two-part code."""

    model_source: str
    #: The weight files' size in bits (what could store a copy).
    model_bits: int
    model_parameters: int | None
    #: The corpus size compared: the measured one, or `--corpus-size` when scaled.
    corpus_bytes: int
    measured_corpus_bytes: int
    #: The best bound at `corpus_bytes` (when `scaled`: the payload at its constant rate, the decoder once).
    bound_bits: float
    #: bound_bits / corpus_bytes: the bound's rate at the compared size.
    bound_bits_per_byte: float
    scaled: bool
    #: model_bits / bound_bits.
    ratio: float
    model_has_room: bool
    verdict: str
    bits_per_param: float
    #: ceil(bound_bits / bits_per_param): parameters storing the bound's bits at that rate.
    parameters_needed: int
    two_part: TwoPartCode | None
    assumptions: tuple[str, ...]


def _loss_bpb(
    model_loss_bpb: float | None, loss_nats_per_token: float | None, tokens: int | None, token_bytes: int
) -> tuple[float, str] | None:
    if model_loss_bpb is not None and loss_nats_per_token is not None:
        raise ValueError("give the model's loss in bits per byte or in nats per token, not both")
    if model_loss_bpb is not None:
        if not model_loss_bpb >= 0 or math.isinf(model_loss_bpb):
            raise ValueError(f"model loss must be a finite number of bits per byte >= 0, not {model_loss_bpb}")
        return model_loss_bpb, "bits per byte"
    if loss_nats_per_token is None:
        return None
    if tokens is None or tokens <= 0:
        raise ValueError("a loss in nats per token needs the corpus's token count (--tokens N)")
    if not loss_nats_per_token >= 0 or math.isinf(loss_nats_per_token):
        raise ValueError(f"model loss must be a finite number of nats per token >= 0, not {loss_nats_per_token}")
    if token_bytes <= 0:
        raise ValueError("a loss in nats per token needs a non-empty corpus (its tokens per byte)")
    return loss_nats_per_token * tokens / math.log(2) / token_bytes, f"nats per token over {tokens} tokens"


def compare(
    model: ModelInfo,
    *,
    bound_bits: int,
    corpus_bytes: int,
    bits_per_param: float = DEFAULT_BITS_PER_PARAM,
    model_loss_bpb: float | None = None,
    loss_nats_per_token: float | None = None,
    tokens: int | None = None,
    token_bytes: int | None = None,
    corpus_size_bytes: int | None = None,
    fixed_bits: int = 0,
) -> ModelComparison:
    """Compare a model with a bound of `bound_bits` on a corpus of `corpus_bytes` bytes.

    `tokens` counts the tokens of `token_bytes` bytes (default: the corpus) for a loss in nats per
    token, which is taken at that many tokens per byte;
    `corpus_size_bytes` scales the comparison to another corpus size: the part of the bound that
    grows with the text (all but `fixed_bits`, the decoder and the selector) at its constant bits
    per byte, and `fixed_bits` once, as `curve` adds the decoder once at `--to`.
    Raises ValueError for values that cannot be compared (zero corpus, negative loss, ...).
    """
    if corpus_bytes <= 0 or bound_bits <= 0:
        raise ValueError("nothing to compare with: the corpus or its bound is empty")
    if not bits_per_param > 0 or math.isinf(bits_per_param):
        raise ValueError(f"bits per parameter must be a finite number > 0, not {bits_per_param}")
    if corpus_size_bytes is not None and corpus_size_bytes <= 0:
        raise ValueError(f"corpus size must be > 0 bytes, not {corpus_size_bytes}")
    if not 0 <= fixed_bits <= bound_bits:
        raise ValueError(f"the bound's fixed part must be 0 to {bound_bits} bits, not {fixed_bits}")
    scaled = corpus_size_bytes is not None
    n = corpus_size_bytes if corpus_size_bytes is not None else corpus_bytes
    # A decoder is one program whatever the corpus size: only the payload's rate scales with the text.
    rate = (bound_bits - fixed_bits) / corpus_bytes
    bound = rate * n + fixed_bits if scaled else float(bound_bits)
    bpb = bound / n
    model_bits = model.bits_on_disk
    ratio = model_bits / bound
    assumptions = [
        "model bits are the weight files' bytes on disk x 8; a model's ability to store a copy is not shown, only room",
    ]
    if scaled:
        fixed = f", plus {fixed_bits} bits of decoder and selector counted once" if fixed_bits else ""
        assumptions.append(
            f"bound scaled from {corpus_bytes} to {n} bytes at a constant {rate:.4f} bits per byte{fixed}"
            " (larger corpora usually compress better, so this overstates the bound)"
        )
    loss = _loss_bpb(model_loss_bpb, loss_nats_per_token, tokens, corpus_bytes if token_bytes is None else token_bytes)
    two_part = None
    if loss is not None:
        loss_bpb, loss_from = loss
        model_2p = 8 * (model.bytes_on_disk + model.other_bytes)
        loss_bits = loss_bpb * n
        code = model_2p + loss_bits
        two_part = TwoPartCode(
            loss_bits_per_byte=loss_bpb, loss_from=loss_from, model_bits=model_2p, loss_bits=loss_bits,
            code_length_bits=code, bits_per_byte=code / n, beats_bound=code < bound,
            break_even_bytes=model_2p / (bpb - loss_bpb) if bpb > loss_bpb else None,
        )
        assumptions.append(
            "two-part code counts weights and tokenizer/config files but not the inference program;"
            " the model's loss is taken to hold on all text like this corpus, and the best compressor's"
            " rate to stay constant"
        )
    return ModelComparison(
        model_source=model.source, model_bits=model_bits, model_parameters=model.parameters, corpus_bytes=n,
        measured_corpus_bytes=corpus_bytes, bound_bits=bound, bound_bits_per_byte=bpb, scaled=scaled, ratio=ratio,
        model_has_room=ratio >= 1, verdict=ROOM.format(ratio=ratio) if ratio >= 1 else NO_ROOM,
        bits_per_param=bits_per_param, parameters_needed=math.ceil(bound / bits_per_param), two_part=two_part,
        assumptions=tuple(assumptions),
    )


def compare_report(
    report: Report,
    model: ModelInfo,
    *,
    bits_per_param: float = DEFAULT_BITS_PER_PARAM,
    model_loss_bpb: float | None = None,
    loss_nats_per_token: float | None = None,
    tokens: int | None = None,
    corpus_size_bytes: int | None = None,
) -> ModelComparison:
    """Compare a model with a report's best bound (`report.best.total_bits` over `report.corpus.bytes`)."""
    if report.best is None:
        raise KboundError("no bound to compare the model with: every backend failed")
    best = report.best
    decoder_bytes = next((r.decoder_bytes or 0 for r in report.results if r.spec == best.spec), 0)
    return compare(
        model, bound_bits=best.total_bits, corpus_bytes=report.corpus.bytes, bits_per_param=bits_per_param,
        model_loss_bpb=model_loss_bpb, loss_nats_per_token=loss_nats_per_token, tokens=tokens,
        corpus_size_bytes=corpus_size_bytes, fixed_bits=8 * decoder_bytes + best.selector_bits,
    )
