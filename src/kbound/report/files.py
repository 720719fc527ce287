"""Writing what the user asked for (`-o`, `--plot`) without harming what is at the path, and JSON that is valid UTF-8.

`write_output` writes a regular file (or a new one, making missing directories) through a
temporary file in the same directory and a rename, so a reader never sees half a report; the
file keeps its mode, and a new one gets 0o666 less the umask, as `>` in a shell would. A symlink
is followed: its target is replaced the same way in the target's own directory, and the link
stays. A device, FIFO or other special file (`/dev/stdout`, `/dev/null`, a named pipe) is opened
and written to, never replaced.
"""

from __future__ import annotations

import json
import os
import stat
from typing import Any

from kbound.cache_dir import write_bytes_atomic
from kbound.errors import KboundError


class OutputError(KboundError):
    """An output file could not be written (exit 1; what went to stdout is already printed)."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_output(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` as described in the module docstring. Raises `OutputError` with one line."""
    name = os.fsdecode(path)
    target = os.path.realpath(path)
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise OutputError(f"{display_name(name)}: cannot write ({e.strerror or e})") from None
    try:
        if st is not None and not stat.S_ISREG(st.st_mode):
            if stat.S_ISDIR(st.st_mode):
                raise OutputError(f"{display_name(name)}: is a directory")
            with open(target, "wb") as f:  # a device or FIFO: written to, never replaced
                f.write(data)
            return
        # `-o reports/kbound.json` makes reports/, as CI jobs expect.
        write_bytes_atomic(target, data, stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask())
    except OSError as e:
        raise OutputError(f"{display_name(name)}: cannot write ({e.strerror or e})") from None


def display_name(name: str) -> str:
    """A name as text that is valid UTF-8: bytes of a file name that were not UTF-8 (kept by Python as
    surrogate escapes) are written as `\\xHH`, so `caf\\xe9.txt` names the file whose name has byte 0xE9."""
    if not any("\udc80" <= c <= "\udcff" for c in name):
        return name
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return display_name(value)
    if isinstance(value, dict):
        return {_escaped(k): _escaped(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escaped(v) for v in value]
    return value


def dumps_json(value: Any) -> str:
    """Indented JSON ending in a newline, every string valid UTF-8 (names escaped as `display_name` says)."""
    return json.dumps(_escaped(value), indent=2, ensure_ascii=False) + "\n"
