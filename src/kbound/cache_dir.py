"""Where kbound keeps its caches: `--cache-dir`, else $KBOUND_CACHE_DIR, else the user's cache directory."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import platformdirs


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The cache directory to use (not created here)."""
    if override:
        return Path(override)
    env = os.environ.get("KBOUND_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir("kbound"))


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, mode: int | None = None) -> None:
    """Write through a temporary file in the same directory (made if missing) and a rename, so readers never
    see half a file. The file gets `mode`, or mkstemp's 0600 when None (caches are the user's own)."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text atomically (see `write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, value: Any) -> None:
    """Write a JSON value atomically (sorted keys, so equal values give equal files)."""
    write_text_atomic(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON cache file; None when it is missing or unreadable (a cache is never trusted blindly)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
