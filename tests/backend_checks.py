"""The checks every backend passes (numcodecs-style): register a backend and it gets the whole suite."""

from __future__ import annotations

import signal

import pytest

from kbound.backends.base import Backend
from kbound.backends.registry import parse_spec
from kbound.errors import BackendError


def check_round_trip(backend: Backend, data: bytes) -> bytes:
    """compress then decompress gives the input back; returns the payload."""
    payload = backend.compress(data)
    assert isinstance(payload, bytes)
    assert backend.decompress(payload) == data
    return payload


def check_deterministic(backend: Backend, data: bytes) -> None:
    """The same input and settings give the same payload, including through a fresh instance."""
    again = parse_spec(backend.spec)
    assert backend.compress(data) == again.compress(data)


def check_config(backend: Backend) -> None:
    """The canonical spec parses back to the same settings, and the config names the backend."""
    config = backend.get_config()
    assert config["id"] == backend.name
    twin = parse_spec(backend.spec)
    assert twin.get_config() == config
    assert twin.spec == backend.spec


def check_bad_specs(name: str, first: str = "") -> None:
    """Nonsense settings are refused with a BackendError that names the backend.

    `first` goes before them: a required positional setting (`lm`'s model file and a comma).
    """
    for args in ("nosuchkey=1", "1,2,3=", "level=abc"):
        with pytest.raises(BackendError, match=name):
            parse_spec(f"{name}:{first}{args}")


def sigint_default() -> None:
    """For Popen(preexec_fn=...): a child started from a background job inherits SIGINT ignored, and
    Python then never raises KeyboardInterrupt; the Ctrl-C tests need the terminal's default. Under
    `nohup` it inherits SIGHUP ignored, and kbound then keeps running on a hang-up, as it should:
    the SIGHUP tests need the default too."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
