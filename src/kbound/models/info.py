"""What kbound learned about a model from its headers: the frozen `ModelInfo` every reader returns.

Units live in field names: `*_bytes` are bytes, `parameters` counts stored numbers (elements),
`bits_per_parameter` is tensor bits divided by parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DtypeShare:
    """How many parameters one dtype (or quantisation type) holds, and the bytes their tensors take."""

    parameters: int | None
    tensor_bytes: int


@dataclass(frozen=True)
class ModelInfo:
    """A model's size as read from its headers (or typed by hand): bytes on disk, parameters, dtypes.

    `bytes_on_disk` counts the weight files whole (headers included), since that is what a
    decoder would have to ship; `other_bytes` counts tokenizer, config and other non-weight files
    beside them. `tensor_bytes` is the tensor data alone, and `bits_per_parameter` is
    `8 * tensor_bytes / parameters`. `parameters` is None when it cannot be read safely.
    """

    source: str
    #: "safetensors", "gguf", "pytorch", "directory" or "typed".
    kind: str
    bytes_on_disk: int
    other_bytes: int
    parameters: int | None
    dtypes: dict[str, DtypeShare]
    bits_per_parameter: float | None
    files: tuple[str, ...]
    note: str | None = None
    tensors: int | None = None
    tensor_bytes: int | None = None
    other_files: tuple[str, ...] = field(default=())

    @property
    def bits_on_disk(self) -> int:
        """The weight files' size in bits."""
        return 8 * self.bytes_on_disk


def rate(tensor_bytes: int | None, parameters: int | None) -> float | None:
    """Bits per parameter, or None when either side is unknown or zero."""
    if tensor_bytes is None or not parameters:
        return None
    return 8 * tensor_bytes / parameters


def add_shares(into: dict[str, DtypeShare], name: str, parameters: int | None, tensor_bytes: int) -> None:
    """Add one tensor's (or one file's) parameters and bytes to the per-dtype totals."""
    old = into.get(name)
    if old is None:
        into[name] = DtypeShare(parameters, tensor_bytes)
        return
    both = None if old.parameters is None or parameters is None else old.parameters + parameters
    into[name] = DtypeShare(both, old.tensor_bytes + tensor_bytes)
