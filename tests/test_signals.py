"""Every command ends on SIGINT, SIGTERM and SIGHUP the same way: what finished, one line, 128 + the signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend_checks import sigint_default
from cli_helpers import children

# A slow backend on a few MB, so the workers are still running when the signal comes.
COMMANDS = {
    "curve": ["curve", "{big}", "-b", "xz:9e", "--points", "1", "--no-cache"],
    "compare": ["compare", "{big}", "{small}", "-b", "xz:9e"],
    "tradeoff": ["tradeoff", "{big}", "-b", "xz:9e"],
}


@pytest.mark.parametrize(("command", "sig", "code", "word"), [
    ("curve", signal.SIGTERM, 143, b"terminated (SIGTERM)"),
    ("compare", signal.SIGTERM, 143, b"terminated (SIGTERM)"),
    ("compare", signal.SIGHUP, 129, b"hung up (SIGHUP)"),
    ("tradeoff", signal.SIGTERM, 143, b"terminated (SIGTERM)"),
])
def test_a_signal_during_the_run_exits_with_its_own_code_in_every_command(
    command: str, sig: int, code: int, word: bytes, tmp_path: Path, shakespeare: Path
) -> None:
    big, small = tmp_path / "big.txt", tmp_path / "small.txt"
    big.write_bytes(shakespeare.read_bytes() * 4)
    small.write_bytes(shakespeare.read_bytes()[:1000])
    args = [a.format(big=big, small=small) for a in COMMANDS[command]]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from kbound.cli import main; main()", *args, "-f", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, preexec_fn=sigint_default,
    )
    deadline = time.monotonic() + 30
    while not children(proc.pid) and time.monotonic() < deadline:  # wait until a worker runs
        time.sleep(0.05)
    assert children(proc.pid), "no worker started"
    time.sleep(0.3)
    os.kill(proc.pid, sig)  # as kill, timeout and CI runners do: the main process only
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert err.strip().endswith(b"kbound: " + word), err
    assert b'"interrupted": true' in out, out  # the report of what finished is printed


_LATE = """
import os, signal, sys
from kbound.cli.common import run_cli

class Finalizer:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100_000):  # the handler runs here, inside the finalizer
            pass

def body():
    Finalizer()  # collected at once: its __del__ gets the signal, whose exception Python cannot raise
    print("every row")
    return 0

sys.exit(run_cli(body))
"""


def test_a_signal_a_finalizer_swallows_still_ends_the_run_as_terminated() -> None:
    # Once seen at the end of a run: SIGTERM arrived while a lock was released at garbage collection,
    # Python printed the exception as "ignored" (20 lines of traceback) and the run exited 0.
    done = subprocess.run([sys.executable, "-c", _LATE], capture_output=True, timeout=60)
    assert done.stdout == b"every row\n"
    assert done.returncode == 143
    assert done.stderr == b"kbound: terminated (SIGTERM)\n"
