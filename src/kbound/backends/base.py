"""What every compressor backend is: a named, configured codec whose spec string a user can type."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from kbound.backends.stream import run_coder
from kbound.errors import BackendError
from kbound.units import parse_size


@dataclass(frozen=True)
class Param:
    """One setting of a backend: its key in a spec, how to parse it, its default and meaning."""

    key: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    #: Leave the setting out of the canonical spec while it has its default (e.g. "the preset's own").
    omit_default: bool = False


def int_in(lo: int, hi: int, unit: str = "", read: Callable[[str], int] = int) -> Callable[[str], int]:
    """A parser for integers in [lo, hi], read by `read` (`parse_size` for counts written as 1k)."""
    suffix = f" {unit}" if unit else ""

    def parse(text: str) -> int:
        value = read(text)
        if not lo <= value <= hi:
            raise ValueError(f"{value} is outside {lo}..{hi}{suffix}")
        return value

    return parse


def size_in(lo: int, hi: int) -> Callable[[str], int]:
    """A parser for byte sizes (`256m`, `1g`) in [lo, hi]."""

    def parse(text: str) -> int:
        value = parse_size(text)
        if not lo <= value <= hi:
            raise ValueError(f"{text} is outside {lo:,}..{hi:,} bytes")
        return value

    return parse


def show_value(value: Any) -> str:
    """A setting as a spec writes it: sizes as 256m or 1g, flags as on/off."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int) and value >= 1 << 10:
        for unit, shift in (("g", 30), ("m", 20), ("k", 10)):
            if value % (1 << shift) == 0:
                return f"{value >> shift}{unit}"
    return str(value)


class Coder(Protocol):
    """One direction of a streaming codec: feed pieces to `process`, then call `finish` once."""

    def process(self, chunk: bytes) -> bytes:
        """Take the next piece of input; return whatever output is ready."""

    def finish(self) -> bytes:
        """Return the rest of the output; raise ValueError if the input was cut short or has trailing data.

        A compressor may also have `patch() -> (offset, bytes)`: bytes to write over its output at
        `offset` once it has finished (a length that was not known when the header went out).
        """


class Whole:
    """The fallback `Coder`: gathers every piece, then makes one whole-buffer call (memory grows with the input)."""

    def __init__(self, fn: Callable[[bytes], bytes]) -> None:
        self._fn = fn
        self._parts: list[bytes] = []

    def process(self, chunk: bytes) -> bytes:
        self._parts.append(chunk)
        return b""

    def finish(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return self._fn(data)


class Backend(ABC):
    """A lossless codec configured by a spec: streaming coders, or whole-buffer `compress`/`decompress`.

    Subclasses declare `name`, `library`, `params` (the first is the positional one, as in
    `zstd:19`) and `decoder_native`/`decoder_python` (the library's modules that make up the
    decoder), and implement either `compressor`/`decompressor` (set `streams`; the whole-buffer
    methods then run them, so a payload never depends on the path that made it) or
    `compress`/`decompress`. The kbound modules a decoder counts are not listed: they are the
    backend's own module and every kbound module it imports, this one included
    (`kbound.backends.decoder.decode_modules`). So facts that only schedule work (memory, window,
    levels, speed) live in `kbound.backends.catalog`, and measuring a decoder in
    `kbound.backends.decoder`, neither imported from here.
    """

    name: ClassVar[str]
    library: ClassVar[str]
    summary: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    #: Extension modules holding the decoder (their linked libraries are found and counted too).
    decoder_native: ClassVar[tuple[str, ...]] = ()
    #: The library's Python modules the decode path runs (kbound's own are found from the imports).
    decoder_python: ClassVar[tuple[str, ...]] = ()
    #: True when `compressor`/`decompressor` stream (memory bounded by the codec, not the input).
    streams: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        whole = cls.compress is not Backend.compress and cls.decompress is not Backend.decompress
        stream = cls.compressor is not Backend.compressor and cls.decompressor is not Backend.decompressor
        if not (whole or stream or getattr(cls, "__abstractmethods__", None)):
            raise TypeError(f"{cls.__name__} must implement compress/decompress or compressor/decompressor")

    def __init__(self, **config: Any) -> None:
        known = {p.key: p for p in self.params}
        unknown = set(config) - set(known)
        if unknown:
            raise BackendError(f"{self.name}: unknown setting(s) {', '.join(sorted(unknown))}")
        self.config: dict[str, Any] = {p.key: config.get(p.key, p.default) for p in self.params}
        try:
            self.check()
        except ValueError as e:
            raise BackendError(str(e)) from None

    def check(self) -> None:
        """Reject combinations of settings that the library would refuse (override to add rules)."""

    @classmethod
    def from_args(cls, args: str) -> Backend:
        """Build from the part of a spec after the colon: `19`, `9e,dict=64m`, `o=8,mem=1g`."""
        config: dict[str, Any] = {}
        by_key: Mapping[str, Param] = {p.key: p for p in cls.params}
        for i, item in enumerate(a for a in args.split(",") if a.strip()):
            key, eq, value = item.strip().partition("=")
            if not eq:
                if i > 0 or not cls.params:
                    raise BackendError(f"{cls.name}: {item!r} needs a key (key=value)")
                key, value = cls.params[0].key, item.strip()
            param = by_key.get(key.strip())
            if param is None:
                choices = ", ".join(p.key for p in cls.params) or "none"
                raise BackendError(f"{cls.name}: unknown setting {key!r} (settings: {choices})")
            try:
                config[param.key] = param.parse(value.strip())
            except ValueError as e:
                raise BackendError(f"{cls.name}: bad {param.key}={value!r}: {e}") from None
        return cls(**config)

    @property
    def spec(self) -> str:
        """The canonical spec: every setting spelled out, so a result says exactly what ran."""
        if not self.params:
            return self.name
        first, *rest = self.params
        parts = [show_value(self.config[first.key])]
        parts += [
            f"{p.key}={show_value(self.config[p.key])}"
            for p in rest
            if not (p.omit_default and self.config[p.key] == p.default)
        ]
        return f"{self.name}:{','.join(parts)}"

    def identity(self) -> str:
        """What a result depends on beyond its spec and library versions (a model file's sha256); usually nothing."""
        return ""

    def get_config(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict, with the backend's name under `id`."""
        return {"id": self.name, **self.config}

    def decoder_libraries(self) -> tuple[str, ...]:
        """Shared libraries the decoder loads through ctypes rather than as extension modules (llama.cpp's)."""
        return ()

    def decoder_data(self) -> tuple[str, ...]:
        """Files the decoder reads, counted whole as stored (a model file); usually none."""
        return ()

    @classmethod
    @abstractmethod
    def library_version(cls) -> str:
        """The version of the library doing the work (and of its native core where it differs)."""

    def compress(self, data: bytes) -> bytes:
        """Return a self-contained payload from which `decompress` restores `data` exactly."""
        return run_coder(self.compressor(), data)

    def decompress(self, payload: bytes) -> bytes:
        """Invert `compress`."""
        return run_coder(self.decompressor(), payload)

    def compressor(self) -> Coder:
        """A streaming `compress`: fed the input in pieces, its output joined equals `compress(input)`.

        The default gathers the input and calls `compress` (memory grows with the input); streaming
        backends override it so that memory is bounded by the codec's own state.
        """
        return Whole(self.compress)

    def decompressor(self) -> Coder:
        """A streaming `decompress` (the default gathers the payload and calls `decompress`)."""
        return Whole(self.decompress)


def write_varint(n: int, width: int = 0) -> bytes:
    """LEB128: 7 bits a byte, low first; the length headers in kbound's own payloads.

    With `width`, exactly that many bytes (padded with continuation bytes), so that a number
    known only later can be written over a placeholder of the same size.
    """
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        more = n or len(out) + 1 < width
        out.append(byte | (0x80 if more else 0))
        if not more:
            if n or (width and len(out) > width):
                raise ValueError(f"{n} does not fit in {width} LEB128 bytes")
            return bytes(out)


def read_varint(buf: bytes | bytearray, pos: int = 0) -> tuple[int, int]:
    """Read a LEB128 number at `pos`; return it and the position after it."""
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated length header")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos
