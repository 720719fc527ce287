"""Measuring a command as the benchmarks do: wall time, memory of its whole process tree, temporary files, load.

Memory is sampled from /proc: the summed proportional set size (PSS) of the process and all its
descendants (forked workers share pages; summing RSS would count them once per worker), and the
parent's own peak resident set (VmHWM). Named temporary bytes are the files under the TMPDIR the
command was given; scratch bytes add the anonymous ones (unlinked files still open, found through
/proc/PID/fd of every process in the tree), which `ls` and `du` miss. CPU seconds are the user +
system time of the command's whole process tree (RUSAGE_CHILDREN, one command at a time).
"""

from __future__ import annotations

import contextlib
import os
import resource
import stat
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


def load() -> float:
    """The one-minute load average."""
    return os.getloadavg()[0]


def pss(pid: int) -> int:
    """A process's proportional set size in bytes: shared pages divided among the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def peak_rss(pid: int) -> int:
    """A process's own peak resident set in bytes so far (VmHWM), or 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def tree_pss(pid: int) -> int:
    """The summed PSS in bytes of `pid` and all its descendants (Linux /proc)."""
    return sum(pss(p) for p in descendants(pid))


def dir_bytes(path: Path) -> int:
    """Bytes allocated to the files under `path`."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


def open_deleted_bytes(pids: list[int]) -> int:
    """Bytes allocated to regular files that the processes hold open but that have no name any more."""
    seen: dict[tuple[int, int], int] = {}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            path = f"/proc/{pid}/fd/{fd}"
            try:
                if not os.readlink(path).endswith(" (deleted)"):
                    continue
                st = os.stat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                seen[(st.st_dev, st.st_ino)] = st.st_blocks * 512
    return sum(seen.values())


@dataclass
class Run:
    """One measured command."""

    wall_seconds: float
    tree_pss_bytes: int
    parent_peak_rss_bytes: int
    temp_bytes: int
    load_before: float
    load_after: float
    returncode: int
    #: Peak of named temporary bytes plus open unlinked files' (the payloads kbound spools).
    scratch_bytes: int = 0
    cpu_seconds: float = 0.0
    stdout: bytes = field(repr=False, default=b"")
    stderr: bytes = field(repr=False, default=b"")


def measure(cmd: list[str], *, env: dict[str, str] | None = None, tmpdir: Path | None = None,
            check: bool = True, stop_when: object = None, every: float = 0.1) -> Run:
    """Run `cmd`, sampling its process tree; `tmpdir` becomes its TMPDIR and is watched for named files.

    `stop_when`, a callable, is asked at each sample and sends SIGTERM to the command when it returns
    True (to stop a run part way). A failing command is an error unless `check` is False.
    """
    full_env = {**os.environ, **(env or {})}
    if tmpdir is not None:
        tmpdir.mkdir(parents=True, exist_ok=True)
        full_env["TMPDIR"] = str(tmpdir)
    before = load()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env)
    peaks = {"tree": 0, "parent": 0, "temp": 0, "scratch": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            pids = descendants(proc.pid)
            peaks["tree"] = max(peaks["tree"], sum(pss(p) for p in pids))
            peaks["parent"] = max(peaks["parent"], peak_rss(proc.pid))
            named = dir_bytes(tmpdir) if tmpdir is not None else 0
            peaks["temp"] = max(peaks["temp"], named)
            peaks["scratch"] = max(peaks["scratch"], named + open_deleted_bytes(pids))
            if callable(stop_when) and stop_when():
                proc.terminate()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    if check and proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} exited {proc.returncode}: {stderr.decode(errors='replace')[-2000:]}")
    return Run(wall, peaks["tree"], peaks["parent"], peaks["temp"], before, load(), proc.returncode, peaks["scratch"],
               cpu, stdout, stderr)


def mib(n: float) -> str:
    """Bytes as MiB for tables."""
    return f"{n / (1 << 20):,.0f}"
