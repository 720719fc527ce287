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


def write_text_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory and a rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
