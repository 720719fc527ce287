"""The errors kbound raises; the CLI turns each into one line on stderr and exit code 1."""

from __future__ import annotations


class KboundError(Exception):
    """Base class of every error kbound reports to a user (never a bug)."""


class CorpusError(KboundError):
    """The input cannot be read as a corpus: missing, unreadable, truncated, too large."""


class BackendError(KboundError):
    """A backend spec is malformed, unknown, or its library is not installed."""


class RoundTripError(BackendError):
    """A backend's output did not decompress back to the input."""


class ModelFormatError(KboundError):
    """A model file is not in a format kbound can read by its header, or is malformed."""


class BaselineError(KboundError):
    """A baseline report cannot be compared with this one."""


class InputWarning(UserWarning):
    """Something named as input was left out (a FIFO in a directory, a symbolic link loop); the CLI prints one line."""


def fail(where: object, message: str) -> ModelFormatError:
    """A ModelFormatError whose text is one line: `where: message`."""
    text = f"{where}: {message}"
    return ModelFormatError(" ".join(text.split()))
