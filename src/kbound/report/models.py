"""The model section every format shows: what each model is, and how it compares with the bound."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from kbound.bounds.results import Report
from kbound.models.loss import MeasuredLoss
from kbound.report.view import rounded


def _finite(value: float) -> float | None:
    # A perplexity past float64 (over ~709 nats a word) is null: JSON has no infinity, and jq rejects Python's.
    return round(value, 6) if math.isfinite(value) else None


def _measured(m: MeasuredLoss) -> dict[str, Any]:
    d = dataclasses.asdict(m)
    # Rounded for reading; `nats` stays exact, so every figure can be derived again from the counts.
    d.update(bits=rounded(m.bits, 3), bits_per_token=rounded(m.bits_per_token), bits_per_byte=rounded(m.bits_per_byte),
             bits_per_character=rounded(m.bits_per_character), byte_perplexity=_finite(m.byte_perplexity),
             word_perplexity=_finite(m.word_perplexity),
             parts_bits_per_byte=[rounded(p) for p in m.parts_bits_per_byte], seconds=rounded(m.seconds, 3),
             tokens_per_second=rounded(m.tokens_per_second, 1), notes=list(m.notes))
    return d


def models_to_dicts(report: Report) -> list[dict[str, Any]]:
    """Each model as JSON-ready data: its headers' facts and the comparison."""
    out = []
    for m in report.models:
        info, c = m.info, m.comparison
        tp = c.two_part
        out.append({
            "source": info.source,
            "kind": info.kind,
            "bytes_on_disk": info.bytes_on_disk,
            "other_bytes": info.other_bytes,
            "parameters": info.parameters,
            "bits_per_parameter": rounded(info.bits_per_parameter),
            "dtypes": {k: {"parameters": v.parameters, "tensor_bytes": v.tensor_bytes} for k, v in info.dtypes.items()},
            "note": info.note,
            "comparison": {
                "model_bits": c.model_bits,
                "corpus_bytes": c.corpus_bytes,
                "measured_corpus_bytes": c.measured_corpus_bytes,
                "scaled": c.scaled,
                "bound_bits": rounded(c.bound_bits, 3),
                "bound_bits_per_byte": rounded(c.bound_bits_per_byte),
                "ratio": rounded(c.ratio),
                "model_has_room": c.model_has_room,
                "verdict": c.verdict,
                "bits_per_param": c.bits_per_param,
                "parameters_needed": c.parameters_needed,
                "two_part": None if tp is None else {
                    "loss_bits_per_byte": rounded(tp.loss_bits_per_byte),
                    "loss_from": tp.loss_from,
                    "model_bits": tp.model_bits,
                    "loss_bits": rounded(tp.loss_bits, 3),
                    "code_length_bits": rounded(tp.code_length_bits, 3),
                    "bits_per_byte": rounded(tp.bits_per_byte),
                    "beats_bound": tp.beats_bound,
                    "break_even_bytes": rounded(tp.break_even_bytes, 0),
                    "measured": None if tp.measured is None else _measured(tp.measured),
                },
                "assumptions": list(c.assumptions),
            },
        })
    return out


def model_csv_records(report: Report) -> list[dict[str, Any]]:
    """Each model as one flat CSV record: its facts and the comparison's numbers (dtypes, notes and
    assumptions left out; the two-part code's numbers prefixed `two_part_`)."""
    out = []
    for model in models_to_dicts(report):
        c = model["comparison"]
        tp = c["two_part"] or {}
        record = {k: v for k, v in model.items() if k not in ("comparison", "dtypes", "note")}
        record.update({k: v for k, v in c.items() if k not in ("two_part", "assumptions")})
        for key in ("loss_bits_per_byte", "code_length_bits", "bits_per_byte", "beats_bound", "break_even_bytes"):
            record[f"two_part_{key}"] = tp.get(key)
        out.append(record)
    return out


def tokens_to_dict(report: Report) -> dict[str, Any] | None:
    """The token count section of the JSON report (None without a tokenizer)."""
    t = report.tokens
    if t is None:
        return None
    return {"tokenizer": t.tokenizer, "tokens": t.tokens, "bits_per_token": rounded(t.bits_per_token), "note": t.note}


def _count(n: int | None) -> str:
    if n is None:
        return "unknown"
    for unit, scale in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit} ({n:,})"
    return f"{n:,}"


MODEL_COLUMNS = ("model", "bytes on disk", "parameters", "bits/param", "model / bound", "params for a copy")


def model_rows(report: Report) -> list[tuple[str, ...]]:
    """One row of text cells per model, for the models table."""
    rows: list[tuple[str, ...]] = []
    for m in report.models:
        info, c = m.info, m.comparison
        bpp = "-" if info.bits_per_parameter is None else f"{info.bits_per_parameter:.2f}"
        rows.append((
            info.source, f"{info.bytes_on_disk:,}", _count(info.parameters), bpp, f"{c.ratio:,.3f}x",
            f"{c.parameters_needed:,} at {c.bits_per_param:g} b/param",
        ))
    return rows


def model_sentences(report: Report) -> list[str]:
    """The verdicts, two-part codes and assumptions, one sentence each."""
    out = []
    for m in report.models:
        c = m.comparison
        size = f"{c.corpus_bytes:,} bytes" + (" (scaled)" if c.scaled else "")
        out.append(f"{c.model_source} vs the best bound on {size}: {c.verdict}.")
        tp = c.two_part
        if tp is not None:
            beats = "shorter" if tp.beats_bound else "longer"
            even = "never"
            if tp.break_even_bytes is not None:
                even = f"from {tp.break_even_bytes:,.0f} bytes of text like this"
            out.append(
                f"  Two-part code (model + loss of {tp.loss_bits_per_byte:.4f} bits/byte, from {tp.loss_from}):"
                f" {tp.code_length_bits / 8:,.0f} bytes = {tp.bits_per_byte:.4f} bits/byte, {beats} than the best"
                f" bound; it beats the best compressor {even}."
            )
            loss = tp.measured
            if loss is not None:
                sample = "the whole corpus" if loss.sample_seed is None else (
                    f"a sample of {loss.bytes:,} bytes (whole documents of {loss.documents:,},"
                    f" seed {loss.sample_seed})")
                docs = f"{loss.texts:,} document{'' if loss.texts == 1 else 's'}"
                scheme = (f"sliding window {loss.window} tokens, stride {loss.stride}" if loss.windows == "sliding" else
                          f"disjoint windows of {loss.window} tokens over {docs} (lm-eval's)")
                out.append(
                    f"  Measured loss: {loss.bits_per_token:.4f} bits/token, {loss.bits_per_byte:.4f} bits/byte,"
                    f" {loss.bits_per_character:.4f} bits/char, byte perplexity {loss.byte_perplexity:.4f},"
                    f" word perplexity {loss.word_perplexity:.4g} over {sample}; {scheme}, {loss.threads} threads,"
                    f" {loss.tokens_per_second:,.0f} tokens/s; spread {loss.spread}."
                )
                if loss.escaped_bytes:
                    out.append(f"  {loss.escaped_bytes:,} bytes the tokenizer did not reproduce were scored"
                               " as byte tokens.")
                out.extend(f"  Note: {n}." for n in loss.notes)
        out.extend(f"  Assumption: {a}." for a in c.assumptions)
    if report.tokens is not None:
        t = report.tokens
        per = "-" if t.bits_per_token is None else f"{t.bits_per_token:.4f}"
        note = f" ({t.note})" if t.note else ""
        out.append(f"Tokens ({t.tokenizer}): {t.tokens:,}; best bound {per} bits/token{note}.")
    return out
