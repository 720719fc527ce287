"""Reading .gguf headers with the gguf library's GGUFReader: tensor types, shapes, quantisation.

GGUFReader trusts the counts it reads (an array claiming 2**63 entries makes it loop for ever),
so kbound's bounded scan of the header (`kbound.backends.gguf_scan`, which the lm backend also
runs) checks it first.
"""

from __future__ import annotations

from pathlib import Path

from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType

from kbound.backends.gguf_scan import scan_header
from kbound.errors import fail
from kbound.models.info import DtypeShare, ModelInfo, add_shares, rate


def read_gguf(path: Path, source: str | None = None) -> ModelInfo:
    """Describe a .gguf file: parameters and bytes per quantisation type, and bits per weight."""
    scan_header(path)
    try:
        reader = GGUFReader(path)
    except (ValueError, KeyError, IndexError, OverflowError, UnicodeDecodeError, TypeError) as e:
        raise fail(path, f"malformed GGUF: {e}") from None
    size = path.stat().st_size
    dtypes: dict[str, DtypeShare] = {}
    parameters = tensor_bytes = 0
    for t in reader.tensors:
        if t.data_offset + t.n_bytes > size:
            raise fail(path, f"truncated GGUF: tensor {t.name!r} data runs past the end of the file")
        add_shares(dtypes, GGMLQuantizationType(t.tensor_type).name.lower(), int(t.n_elements), int(t.n_bytes))
        parameters, tensor_bytes = parameters + int(t.n_elements), tensor_bytes + int(t.n_bytes)
    arch = reader.get_field("general.architecture")
    note = f"architecture {arch.contents()}" if arch is not None and arch.types == [GGUFValueType.STRING] else None
    return ModelInfo(
        source=source if source is not None else str(path), kind="gguf", bytes_on_disk=size, other_bytes=0,
        parameters=parameters, dtypes=dtypes, bits_per_parameter=rate(tensor_bytes, parameters), files=(str(path),),
        note=note, tensors=len(reader.tensors), tensor_bytes=tensor_bytes,
    )
