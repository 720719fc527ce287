"""The installed kbound version, recorded in every report."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def kbound_version() -> str:
    """The installed kbound version."""
    try:
        return version("kbound")
    except PackageNotFoundError:
        return "0+unknown"
