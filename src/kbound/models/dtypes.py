"""Bits per parameter for tensor dtypes and GGML quantisation types, and the names users type for them.

GGML figures come from the gguf library's GGML_QUANT_SIZES (block size, bytes per block), so
q4_k is 144 * 8 / 256 = 4.5 bits and q6_k 210 * 8 / 256 = 6.5625 bits, exactly as llama.cpp
stores them, scales included.
"""

from __future__ import annotations

from gguf import GGML_QUANT_SIZES

#: Plain dtypes, by the canonical names kbound reports (safetensors' names, lower-cased).
PLAIN_BITS: dict[str, float] = {
    "f64": 64, "f32": 32, "f16": 16, "bf16": 16,
    "f8_e4m3": 8, "f8_e5m2": 8, "f8_e8m0": 8, "f6_e2m3": 6, "f6_e3m2": 6, "f4": 4,
    "i64": 64, "i32": 32, "i16": 16, "i8": 8, "u64": 64, "u32": 32, "u16": 16, "u8": 8,
    "bool": 8, "c64": 64, "c128": 128,
}

#: Other spellings people type (`8B:fp16`, `1.5M:int8`).
ALIASES: dict[str, str] = {
    "fp64": "f64", "float64": "f64", "double": "f64",
    "fp32": "f32", "float32": "f32", "float": "f32",
    "fp16": "f16", "float16": "f16", "half": "f16",
    "bfloat16": "bf16",
    "fp8": "f8_e4m3", "f8": "f8_e4m3", "e4m3": "f8_e4m3", "e5m2": "f8_e5m2", "fp8_e4m3": "f8_e4m3",
    "fp8_e5m2": "f8_e5m2", "fp4": "f4", "int64": "i64", "int32": "i32", "int16": "i16", "int8": "i8",
    "uint8": "u8",
}


def _ggml() -> dict[str, float]:
    return {t.name.lower(): size * 8 / block for t, (block, size) in GGML_QUANT_SIZES.items()}


#: Every name kbound knows, canonical, with its bits per parameter.
BITS_PER_PARAMETER: dict[str, float] = {**_ggml(), **PLAIN_BITS}


def canonical(name: str) -> str:
    """The canonical dtype name for what a user typed (`FP16` → `f16`, `Q4_K` → `q4_k`)."""
    key = name.strip().lower()
    return ALIASES.get(key, key)


def bits_per_parameter(name: str) -> float:
    """Bits per parameter of a dtype or quantisation type; KeyError (with the name) if unknown."""
    key = canonical(name)
    if key not in BITS_PER_PARAMETER:
        raise KeyError(name)
    return BITS_PER_PARAMETER[key]
