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
    # Dask's workers keep their scratch space (and its lock files) in dask-scratch-space under the system's
    # temporary directory, and leave it there; the test clusters keep it in the session's own, removed below.
    # Set in the environment, so that worker processes read it too, before dask is imported.
    os.environ["DASK_TEMPORARY_DIRECTORY"] = tempfile.mkdtemp(prefix="kbound-test-dask-")
    os.environ.pop("NO_COLOR", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    # The session's cache and scratch space go with it: a test run leaves nothing behind in the temp directory.
    for name, prefix in (("KBOUND_CACHE_DIR", "kbound-test-cache-"), ("DASK_TEMPORARY_DIRECTORY", "kbound-test-dask-")):
        path = os.environ.pop(name, "")
        if os.path.basename(path).startswith(prefix):
            shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def alice() -> Path:
    return CORPORA / "alice29.txt"


@pytest.fixture(scope="session")
def alice_bytes(alice: Path) -> bytes:
    return alice.read_bytes()


@pytest.fixture(scope="session")
def shakespeare() -> Path:
    return CORPORA / "tinyshakespeare.txt"
