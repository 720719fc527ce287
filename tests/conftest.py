"""Shared fixtures: the bundled corpora, and a private cache directory for every test session."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT / "corpora"
SHARED = ROOT.parent / "shared" / "corpora"


def pytest_configure(config: pytest.Config) -> None:
    # Tests must not write to the user's cache; one directory per session keeps decoder sizes warm.
    os.environ["KBOUND_CACHE_DIR"] = tempfile.mkdtemp(prefix="kbound-test-cache-")
    os.environ.pop("NO_COLOR", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    # The session's cache goes with it: a test run leaves nothing behind in the temp directory.
    cache = os.environ.pop("KBOUND_CACHE_DIR", "")
    if os.path.basename(cache).startswith("kbound-test-cache-"):
        shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture(scope="session")
def alice() -> Path:
    return CORPORA / "alice29.txt"


@pytest.fixture(scope="session")
def alice_bytes(alice: Path) -> bytes:
    return alice.read_bytes()


@pytest.fixture(scope="session")
def shakespeare() -> Path:
    return CORPORA / "tinyshakespeare.txt"
