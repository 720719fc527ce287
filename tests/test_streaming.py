"""The streaming engine: bounded memory, payloads equal to the whole-buffer path, scheduling, Ctrl-C."""

from __future__ import annotations

import hashlib
import importlib.util
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import tracemalloc
import weakref
from collections.abc import Callable
from pathlib import Path

import pytest

from backend_checks import sigint_default
from cli_helpers import children
from corpus_helpers import corpus_of, run_on
from kbound.backends.base import Backend, Coder
from kbound.backends.decoder import measure
from kbound.backends.raw import Raw
from kbound.backends.registry import memory_bytes, parse_spec
from kbound.backends.stream import run_coder
from kbound.run import executor
from kbound.run.engine import WORKER_BYTES, available_memory, memory_need, run_tasks
from kbound.run.outcome import Interrupted, Outcome
from kbound.run.worker import Task, run_task
from kbound.sources import Selection

SPECS = ["raw", "zlib:9", "bz2:9", "xz:6", "zstd:19,long=27", "brotli:9,w=24", "ppmd:6,mem=16m", "ppmd:8,mem=16m,v=I"]


def task(backend: Backend, path: Path, **selection: object) -> Task:
    """`backend` on the whole of one file."""
    corpus = corpus_of(path)
    return Task(backend, Selection(corpus.selection().pieces, **selection), path.stat().st_size)  # type: ignore[arg-type]


@pytest.mark.parametrize("spec", SPECS)
def test_a_worker_payload_equals_the_whole_buffer_payload_at_8_5_mb(
    spec: str, tmp_path: Path, shakespeare: Path
) -> None:
    # Every path feeds a coder the same 1 MiB pieces, so the payload a worker streams from disk is the one
    # compress() returns; once it did not hold (zstd:12,long=27 on 8.5 MB streamed to 98 bytes fewer).
    data = b"".join(shakespeare.read_bytes().replace(b"the", b"the" + bytes([48 + i])) for i in range(8))[:8_500_000]
    path = tmp_path / "big.txt"
    path.write_bytes(data)
    backend = parse_spec(spec)
    whole = backend.compress(data)
    result = run_task(task(backend, path))
    assert result["verified"] and result["payload_bytes"] == len(whole)
    assert run_coder(backend.decompressor(), whole, piece=777) == data  # odd pieces split headers too


def test_a_worker_streams_a_file_much_larger_than_its_memory(tmp_path: Path, shakespeare: Path) -> None:
    # 12 and 24 MB of real text: the worker's Python allocations must not grow with the file. What it does
    # hold is fixed: the pieces read ahead (`Prefetch`, 4 of 1 MiB), the piece being coded and its decoding.
    text = shakespeare.read_bytes()
    backend = parse_spec("zlib:1")
    measure(backend)  # measured once and cached; the measurement is not the streaming being tested
    peaks = []
    for copies in (11, 22):
        big = tmp_path / f"big{copies}.txt"
        with big.open("wb") as f:
            for i in range(copies):
                f.write(text.replace(b"the", b"the" + str(i).encode()))
        tracemalloc.start()
        try:
            result = run_task(task(backend, big))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert result.get("verified") is True, result
        peaks.append(peak)
    assert big.stat().st_size > 24_000_000
    assert peaks[1] < 16 << 20, f"peak {peaks[1]:,} bytes of Python allocations for a 24 MB file"
    assert peaks[1] < peaks[0] + (1 << 20), f"Python allocations grew with the file: {peaks}"


def test_the_encoder_is_released_before_the_decoder_starts(alice: Path) -> None:
    # Otherwise a worker holds both codecs' state at once (xz's match finder, ppmd's model).
    alive_when_decoding: list[bool] = []

    class Watched(Raw):
        def compressor(self) -> Coder:
            coder = super().compressor()
            self.encoder_ref = weakref.ref(coder)
            return coder

        def decompressor(self) -> Coder:
            alive_when_decoding.append(self.encoder_ref() is not None)
            return super().decompressor()

    result = run_task(task(Watched(), alice))
    assert result.get("verified") is True, result
    assert alive_when_decoding == [False]


def test_a_task_reads_only_its_part_and_measures_it(alice: Path) -> None:
    data = alice.read_bytes()
    part = data[1000:51000]
    result = run_task(task(parse_spec("zlib:9"), alice, window=(1000, 50_000)))
    assert result["verified"] and result["payload_bytes"] == len(parse_spec("zlib:9").compress(part))
    assert result["stats"].sha256 == hashlib.sha256(part).hexdigest() and result["stats"].bytes == 50_000


def test_longest_expected_task_starts_first(alice: Path) -> None:
    specs = ["raw", "zlib:9", "xz:9e", "brotli:5", "ppmd:8,mem=16m", "zstd:19"]
    tasks = [task(parse_spec(s), alice) for s in specs]
    started: list[str] = []
    outcomes = run_tasks(tasks, jobs=1, on_start=lambda t: started.append(t.backend.spec))
    assert started == ["xz:9e", "zstd:19", "ppmd:8,mem=16m,v=H", "zlib:9", "brotli:5,w=24", "raw"]
    assert [o.backend.spec for o in outcomes] == [t.backend.spec for t in tasks]  # results in the order given
    assert all(o.verified for o in outcomes)


def test_an_interrupt_stops_every_worker_and_keeps_what_finished(alice: Path) -> None:
    tasks = [task(parse_spec(s), alice) for s in ("xz:9e", "raw", "zstd:19", "ppmd:8,mem=16m")]

    def stop_after_first(t: Task, outcome: Outcome) -> None:
        raise KeyboardInterrupt

    with pytest.raises(Interrupted) as stop:
        run_tasks(tasks, jobs=2, on_done=stop_after_first)
    assert len(stop.value.finished) == 1 and stop.value.finished[0].verified
    assert multiprocessing.active_children() == []  # every other worker was terminated and reaped


def _gone(pids: list[int], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                os.kill(pid, 0)
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    alive.append(pid)
            except (ProcessLookupError, OSError):
                pass
        if not alive:
            return True
        time.sleep(0.05)
    return False


def _start_run(
    tmp: Path, shakespeare: Path, preexec: Callable[[], None] = sigint_default
) -> tuple[subprocess.Popen[bytes], list[int]]:
    """kbound on standard input with a slow backend; returns once its workers are running."""
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from kbound.cli import main; main()", "-", "-b", "raw", "-b", "xz:9e",
         "-b", "ppmd:12,mem=64m", "--no-cache", "-j", "3"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True,
        preexec_fn=preexec,
    )
    assert proc.stdin is not None
    proc.stdin.write(shakespeare.read_bytes() * 4)
    proc.stdin.close()
    proc.stdin = None  # so communicate() does not flush it
    deadline = time.monotonic() + 30
    while len(children(proc.pid)) < 3 and time.monotonic() < deadline:  # wait until the workers run
        time.sleep(0.05)
    workers = children(proc.pid)
    time.sleep(1.0)  # raw finishes in well under a second
    return proc, workers


@pytest.mark.parametrize(("sig", "code", "word"), [
    (signal.SIGINT, 130, b"interrupted (SIGINT)"), (signal.SIGTERM, 143, b"terminated (SIGTERM)"),
    (signal.SIGHUP, 129, b"hung up (SIGHUP)"),
])
def test_a_signal_stops_the_workers_prints_finished_rows_and_leaves_nothing(
    sig: int, code: int, word: bytes, tmp_path: Path, shakespeare: Path
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc, workers = _start_run(tmp, shakespeare)
    assert len(workers) == 3
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # as a terminal's Ctrl-C does: the whole process group
    else:
        os.kill(proc.pid, sig)  # as kill, timeout and CI runners do: the main process only
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert err.strip().endswith(b"kbound: " + word), err
    assert out.startswith(b"raw\t"), (out, err)  # the floor finished before the signal and is printed
    assert _gone(workers), "a worker outlived the run"
    assert list(tmp.iterdir()) == []  # the spooled stdin and the payloads were anonymous files


def _hup_ignored() -> None:
    sigint_default()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as `nohup kbound ...` starts it


def test_under_nohup_a_hang_up_does_not_stop_the_run(tmp_path: Path, shakespeare: Path) -> None:
    proc, workers = _start_run(tmp_path, shakespeare, _hup_ignored)
    assert len(workers) == 3
    os.kill(proc.pid, signal.SIGHUP)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    names = sorted(line.split(b"\t")[0] for line in out.splitlines())
    assert names == [b"ppmd:12,mem=64m,v=H", b"raw", b"xz:9e"], out  # every row finished, none interrupted


def test_workers_die_with_their_parent_even_when_it_is_killed(tmp_path: Path, shakespeare: Path) -> None:
    proc, workers = _start_run(tmp_path, shakespeare)
    assert workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert _gone(workers), "workers kept running after their parent was killed"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", [None, "invalid"])
def test_the_worker_measures_the_identity_it_streams(content: str | None, tmp_path: Path, alice: Path) -> None:
    path = alice
    if content == "invalid":  # a bad byte far past the first chunk, and a multibyte character split at 1 MiB
        path = tmp_path / "mixed.txt"
        path.write_bytes(b"a" * ((1 << 20) - 1) + "é".encode() + b"b" * 300_000 + b"\xff" + b"c" * 10)
    data = path.read_bytes()
    stats = run_task(task(Raw(), path))["stats"]
    assert (stats.bytes, stats.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    if content is None:
        assert (stats.chars, stats.chars_reason) == (len(data.decode()), None)
    else:
        assert stats.chars is None and stats.chars_reason == "not valid UTF-8 (byte 1,348,577: invalid start byte)"


def test_progress_shows_a_bar_per_backend_then_its_result(alice: Path) -> None:
    import io

    from rich.console import Console

    import kbound
    from kbound.cli.progress import Progress

    buf = io.StringIO()
    with Progress(True, console=Console(file=buf, force_terminal=True, width=150)) as progress:
        report = kbound.estimate(
            [str(alice)], ["zlib:9", "bz2:9"], use_cache=False,
            on_start=progress.start, on_progress=progress.advance, on_done=progress.done,
        )
        progress._bars.refresh()  # type: ignore[union-attr]  # draw the finished state before the display closes
    shown = buf.getvalue()
    for row in report.results:
        assert row.spec in shown
        assert f"payload {row.payload_bytes:,} B" in shown
    # Verified inline, beside the encoder: each bar ends at the corpus's size.
    assert "152.1/152.1 kB" in shown
    assert "all" in shown and "456.3/456.3 kB" in shown  # the overall bar: every backend, raw included


class _Hungry(Raw):
    """`raw`, claiming to need `claim` bytes: for testing the memory budget without using it."""

    claim = 100 << 20

    def memory_bytes(self, size: int) -> int:
        return self.claim


def _peak_claims(tasks: list[Task], path: Path, **kw: object) -> tuple[int, int, list[Outcome]]:
    """Run tasks; return the most tasks and the most estimated bytes that were running at once."""
    running: dict[int, int] = {}
    most = [0, 0]

    def start(t: Task) -> None:
        running[id(t)] = memory_need(t)
        most[0], most[1] = max(most[0], len(running)), max(most[1], sum(running.values()))

    outcomes = run_tasks(tasks, on_start=start, on_done=lambda t, o: running.pop(id(t), None), **kw)  # type: ignore[arg-type]
    return most[0], most[1], outcomes


def test_backends_run_together_only_while_their_memory_estimates_fit(alice: Path) -> None:
    tasks = [task(_Hungry(), alice) for _ in range(4)]
    each = memory_need(tasks[0])
    assert each == WORKER_BYTES + _Hungry.claim
    # Room for four: the job limit (3) is what holds them back.
    assert _peak_claims(tasks, alice, jobs=3, max_memory=4 * each)[0] == 3
    # Room for two: never more than two at once, and every task still runs.
    most, peak, outcomes = _peak_claims(tasks, alice, jobs=3, max_memory=2 * each + 1)
    assert (most, peak) == (2, 2 * each)
    assert all(o.verified for o in outcomes)


def test_a_backend_that_cannot_fit_alone_is_refused_and_says_what_it_needs(alice: Path) -> None:
    small, big = task(Raw(), alice), task(_Hungry(), alice)
    budget = memory_need(small) + (1 << 20)
    outcomes = run_tasks([big, small], max_memory=budget)
    assert outcomes[1].verified
    refused = outcomes[0]
    assert not refused.verified and refused.payload_bytes is None and refused.error is not None
    assert f"needs about {(memory_need(big) >> 20):,} MiB" in refused.error
    assert "--max-memory" in refused.error and "\n" not in refused.error


def test_the_default_memory_budget_is_what_the_kernel_says_is_available() -> None:
    available = available_memory()
    if not Path("/proc/meminfo").exists():
        assert available is None
        return
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            expected = int(line.split()[1]) * 1024
    assert available is not None and abs(available - expected) < 256 << 20  # it moves a little between reads


ESTIMATED = [
    "bz2:9", "xz:9", "zstd:19,long=27", "brotli:11,w=22", "ppmd:8,mem=64m,v=I", "cm:16m", "order:3,mem=16m", "cmx",
]


def test_memory_estimates_cover_what_the_workers_really_use(shakespeare: Path) -> None:
    # Peak RSS of each worker above that of the `raw` worker (the interpreter, kbound, the chunks).
    specs = ESTIMATED + (["zpaq:5"] if importlib.util.find_spec("zpaq") else [])
    backends = [parse_spec(s) for s in ["raw", *specs]]
    for b in backends:
        measure(b)  # measured and cached here, so the workers only code
    data = shakespeare.read_bytes()
    outcomes = run_on(backends, shakespeare, jobs=1)
    assert all(o.verified and o.peak_rss_bytes for o in outcomes), [o.error for o in outcomes]
    base = outcomes[0].peak_rss_bytes
    assert base is not None
    over = {
        o.backend.spec: (o.peak_rss_bytes - base) >> 20
        for o in outcomes[1:]
        if o.peak_rss_bytes is not None and o.peak_rss_bytes - base > memory_bytes(o.backend, len(data))
    }
    assert not over, f"MiB used beyond the estimate: {over}"


def test_without_max_memory_a_backend_too_big_for_the_available_memory_runs_alone(
    alice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The automatic budget only orders the work: the estimates are upper envelopes, and nothing that
    # ran before there was a budget is refused because the machine reports little memory free.
    big, small = task(_Hungry(), alice), task(Raw(), alice)
    monkeypatch.setattr(executor, "available_memory", lambda: memory_need(small) + (1 << 20))
    most, _, outcomes = _peak_claims([big, small, task(Raw(), alice)], alice, jobs=3)
    assert all(o.verified for o in outcomes)
    assert most == 1  # the big one alone, then the two small ones one at a time


@pytest.mark.parametrize("spec", ["zstd:3", "ppmd:4,mem=16m", "xz:6,dict=1m"])
def test_a_workers_memory_does_not_grow_with_its_input(spec: str, tmp_path: Path, shakespeare: Path) -> None:
    # Peak RSS at 4 and 16 MB of text: the codec's state fills by 4 MB, so four times the input costs nothing.
    text = shakespeare.read_bytes()
    backend = parse_spec(spec)
    measure(backend)  # measured and cached here: the workers only code
    peaks = []
    for mb in (4, 16):
        path = tmp_path / f"{mb}.txt"
        with path.open("wb") as f:
            i = 0
            while f.tell() < mb * 10**6:
                f.write(text.replace(b"the", b"the" + str(i).encode()))
                i += 1
        (outcome,) = run_on([backend], path, jobs=1)
        assert outcome.verified and outcome.peak_rss_bytes, outcome.error
        peaks.append(outcome.peak_rss_bytes)
    assert peaks[1] - peaks[0] < 8 << 20, f"{spec}: {peaks[0] >> 20} MiB at 4 MB, {peaks[1] >> 20} MiB at 16 MB"


def _mixed_lines(path: Path, megabytes: int) -> None:
    """JSON lines of 0.5-3 MB documents: English with Latin, Cyrillic, CJK and emoji words, written line by line."""
    import json
    import random

    rng = random.Random(3)
    words = Path(__file__).parent.parent.joinpath("corpora", "alice29.txt").read_text(encoding="latin-1").split()
    extra = ["café", "naïve", "Жизнь", "привет", "中文字符", "日本語", "😀", "🚀🌍", "ñandú", "Ελληνικά"]
    blocks = [" ".join(rng.choice(extra) if rng.random() < 0.15 else rng.choice(words) for _ in range(20_000))
              for _ in range(8)]
    written = 0
    with path.open("w", encoding="utf-8") as f:
        while written < megabytes * 1_000_000:
            doc = " ".join(blocks[rng.randrange(8)] for _ in range(rng.randrange(4, 25)))
            line = json.dumps({"text": doc}, ensure_ascii=False) + "\n"
            f.write(line)
            written += len(line.encode())


def _growth_of(job: Task) -> dict[str, object]:
    """What a worker's peak RSS grew by while it ran the task (a forked worker starts at its parent's RSS)."""
    import resource

    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = run_task(job)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start
    return {"grown_mib": grown >> 10, "verified": out.get("verified"), "chars": out["stats"].chars}


@pytest.mark.slow
def test_a_worker_gives_back_what_it_freed_on_100_mb_of_mixed_text(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    _mixed_lines(path, 100)
    corpus = corpus_of(path, field="text")
    job = Task(parse_spec("zstd:3"), corpus.selection(), path.stat().st_size, measure_decoder=False)
    [result] = executor.LocalExecutor(jobs=1).run([executor.Call(_growth_of, (job,))])
    assert result["verified"] and result["chars"] == 89_156_349
    # It holds a document of up to 3 MB as its line, its JSON string (4 bytes a character with an
    # emoji) and its UTF-8, with zstd's buffers: it grew by 33 MiB. Before glibc's thresholds were
    # fixed in the worker and the Meter counted characters 64 KiB at a time, by 58 (either fix
    # alone: 37 and 41).
    assert result["grown_mib"] <= 45, result


def test_a_failed_row_whose_error_quotes_brackets_shows_them() -> None:
    import io

    from rich.console import Console

    from kbound.backends.registry import parse_spec
    from kbound.cli.progress import Progress
    from kbound.run.outcome import Outcome

    buf = io.StringIO()
    backend = parse_spec("zlib:9")
    with Progress(True, console=Console(file=buf, force_terminal=True, width=150)) as progress:
        progress.start(backend)
        # An error can quote a file's bytes: rich refused '[/x]' as a closing tag with nothing open.
        progress.done(Outcome(backend=backend, error="bad [/x] line [bold]"))
        progress._bars.refresh()  # type: ignore[union-attr]
    assert "bad [/x] line [bold]" in buf.getvalue()
