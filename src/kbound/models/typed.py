"""A model size typed by hand: `13GB`, `500GiB` (bytes on disk), `7B`, `70B:q4_k`, `8B:fp16` (parameters).

The rule that settles `B`: a number with a bare K, M, B or T counts parameters (thousand,
million, billion, trillion: `7B` is 7 billion parameters, as model cards write it); a byte unit
has a prefix and a B (`kB`, `MB`, `GB`, `TB`, or binary `KiB`, `MiB`, `GiB`, `TiB`). A bare
number or a bare G (`13G`) is refused as ambiguous. `:TYPE` names the dtype or quantisation type;
parameters default to bf16, and bytes with a type give an estimated parameter count.
"""

from __future__ import annotations

import math
import re

from kbound.errors import fail
from kbound.models.dtypes import BITS_PER_PARAMETER, bits_per_parameter, canonical
from kbound.models.info import DtypeShare, ModelInfo
from kbound.units import parse_count, parse_size

DEFAULT_DTYPE = "bf16"

_PARAMS = re.compile(r"^\s*\d+(?:\.\d+)?\s*[kmbt]\s*$", re.IGNORECASE)
_BYTES = re.compile(r"^\s*\d+(?:\.\d+)?\s*[kmgtp]i?b\s*$", re.IGNORECASE)
# llama.cpp file types (Q4_K_M, Q3_K_XL...) mix several tensor types, so they have no single rate.
_MIX = re.compile(r"^i?q\d_k?_?(xxs|xs|s|m|l|xl)$|^q\d_k_\w+$", re.IGNORECASE)


def _bits(source: str, dtype: str) -> float:
    try:
        return bits_per_parameter(dtype)
    except KeyError:
        if _MIX.match(dtype) and canonical(dtype) not in BITS_PER_PARAMETER:
            hint = "a llama.cpp file type mixing several tensor types; give one type such as q4_k, or the .gguf file"
        else:
            hint = "not a known dtype or quantisation type; known: " + ", ".join(sorted(BITS_PER_PARAMETER))
        raise fail(source, f"{dtype!r} is {hint}") from None


def parse_typed(source: str) -> ModelInfo:
    """Read `13GB`, `500GiB`, `7B`, `70B:q4_k`, `8B:fp16`, `1.5M:int8` as a ModelInfo of kind "typed"."""
    size, _, dtype = source.partition(":")
    if dtype.strip() == "" and ":" in source:
        raise fail(source, "nothing after ':' (try 70B:q4_k)")
    if _PARAMS.match(size):
        name = canonical(dtype) if dtype else DEFAULT_DTYPE
        bits = _bits(source, name)
        parameters = parse_count(size)
        tensor_bytes = math.ceil(parameters * bits / 8)
        note = f"bytes computed from typed parameters at {bits:g} bits each ({name}"
        note += ", the default)" if not dtype else ")"
        return ModelInfo(
            source=source, kind="typed", bytes_on_disk=tensor_bytes, other_bytes=0, parameters=parameters,
            dtypes={name: DtypeShare(parameters, tensor_bytes)}, bits_per_parameter=bits, files=(),
            note=note, tensor_bytes=tensor_bytes,
        )
    if _BYTES.match(size):
        n_bytes = parse_size(size)
        if not dtype:
            return ModelInfo(
                source=source, kind="typed", bytes_on_disk=n_bytes, other_bytes=0, parameters=None, dtypes={},
                bits_per_parameter=None, files=(), note="typed size in bytes; parameters unknown",
                tensor_bytes=n_bytes,
            )
        name = canonical(dtype)
        bits = _bits(source, name)
        parameters = round(n_bytes * 8 / bits)
        return ModelInfo(
            source=source, kind="typed", bytes_on_disk=n_bytes, other_bytes=0, parameters=parameters,
            dtypes={name: DtypeShare(parameters, n_bytes)}, bits_per_parameter=bits, files=(),
            note=f"parameters estimated from typed size at {bits:g} bits each ({name})", tensor_bytes=n_bytes,
        )
    if re.match(r"^\s*\d+(?:\.\d+)?\s*[g]?\s*$", size, re.IGNORECASE):
        raise fail(source, "ambiguous size: write 13GB or 13GiB for bytes on disk, 13B for parameters")
    raise fail(
        source,
        "not a model file, directory or typed size (sizes: 13GB or 13GiB for bytes, 7B or 125M for parameters, "
        "optionally :TYPE as in 70B:q4_k)",
    )
