"""--plan and `kbound plan`: seeded stratified samples, the keep rule, the plan in the report, and composition."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from backend_checks import sigint_default
from cli_helpers import run
from conftest import CORPORA, ROOT
from kbound.backends.registry import parse_specs
from kbound.growth.forecast import Forecast, Overhead, SamplePoint, forecast, keep, refit, run_core_seconds
from kbound.growth.plan import plan_sizes, screen, staged
from kbound.run.engine import can_host_raw
from kbound.sources import open_corpus
from kbound.sources.sampling import strata_lengths, stratified_selections
from kbound.sources.stream import read_selection

SPECS = ("-b", "zlib:6", "-b", "bz2:9", "-b", "ppmd:4,mem=16m")


@pytest.fixture(scope="module")
def two_kinds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sources: prose (the bundled texts cut into 8 kB documents) and code (kbound's own modules)."""
    root = tmp_path_factory.mktemp("two-kinds")
    prose, code = root / "prose", root / "code"
    prose.mkdir()
    code.mkdir()
    for name in ("alice29.txt", "asyoulik.txt"):
        text = (CORPORA / name).read_bytes()
        for i in range(0, len(text), 8000):
            (prose / f"{name}.{i // 8000:03d}.txt").write_bytes(text[i:i + 8000])
    for path in sorted((ROOT / "src" / "kbound" / "sources").glob("*.py")):
        (code / path.name).write_bytes(path.read_bytes())
    return root


def _samples(root: Path, seed: int, sizes: list[int]) -> list[tuple[bytes, int]]:
    with open_corpus([str(root)]) as corpus:
        whole = corpus.selection()
        _, index = corpus.group_index()
        lengths = strata_lengths(whole, list(index))
        total = sum(map(sum, lengths)) + sum(map(len, lengths)) - 1
        out = []
        for sel in stratified_selections(whole, lengths, total, sizes, seed):
            data, stats = read_selection(sel, None)
            out.append((data, stats.documents))
        return out


def test_a_seeded_sample_is_the_same_every_time_and_another_seed_differs(two_kinds: Path) -> None:
    first = _samples(two_kinds, 7, [20_000, 80_000])
    assert first == _samples(two_kinds, 7, [20_000, 80_000])
    assert first != _samples(two_kinds, 8, [20_000, 80_000])
    small, large = first
    assert len(small[0]) < len(large[0])
    # Nested: every document of the smaller sample is in the larger one.
    for doc in small[0].split(b"\x1e"):
        assert doc in large[0]


def test_every_source_is_sampled_at_about_the_same_fraction(two_kinds: Path) -> None:
    code_bytes = sum(p.stat().st_size for p in (two_kinds / "code").iterdir())
    prose_bytes = sum(p.stat().st_size for p in (two_kinds / "prose").iterdir())
    fraction = 0.2
    data, _ = _samples(two_kinds, 0, [round(fraction * (code_bytes + prose_bytes))])[0]
    docs = data.split(b"\x1e")
    code = sum(len(d) for d in docs if b"from __future__" in d or b'"""' in d[:4])
    prose = len(data) - code
    assert code > 0 and prose > 0  # both sources are in the sample
    # Each source gives its share of its own bytes: within one document of it (code files are up to ~15 kB).
    assert abs(code - fraction * code_bytes) < 16_000
    assert abs(prose - fraction * prose_bytes) < 8_100


def test_plan_sizes_are_four_nested_sizes_below_the_corpus() -> None:
    assert plan_sizes(10_000_000, 1_600_000) == [25_000, 100_000, 400_000, 1_600_000]
    assert plan_sizes(300_000, 1_600_000) == [25_000, 100_000, 300_000]


def _f(spec: str, payloads: tuple[int, int, int], seconds: float = 1.0, error: str | None = None) -> object:
    sizes = (100_000, 400_000, 1_600_000)
    points = [SamplePoint(n, None if error else p, seconds * n / 1e6, error)
              for n, p in zip(sizes, payloads, strict=True)]
    return forecast(spec, points, 16_000_000, 30_000, 1 << 20)


def test_the_rule_keeps_what_could_win_and_says_why_the_rest_went() -> None:
    best = _f("best", (30_000, 110_000, 400_000))
    close = _f("close", (30_500, 112_000, 404_000))
    far = _f("far", (40_000, 150_000, 560_000))
    bent = _f("bent", (30_000, 100_000, 420_000))  # curved in log-log: a wide band
    broken = _f("broken", (1, 1, 1), error="MemoryError")
    out = {f.spec: f for f in keep([best, close, far, bent, broken])}  # type: ignore[list-item]
    assert out["best"].kept and out["best"].reason == "the smallest predicted bound"
    assert out["close"].kept
    assert out["close"].reason == "predicted +0.6 % against best, the pair's spread ±1.6 %: could win"
    assert not out["far"].kept and out["far"].reason == "predicted +45.3 % against best, the pair's spread ±1.0 %"
    assert out["bent"].kept and out["bent"].reason.endswith("the pair's spread ±48.8 %: could win")
    assert out["bent"].spread_log is not None and out["best"].spread_log is not None
    assert out["bent"].spread_log > out["best"].spread_log
    assert not out["broken"].kept and out["broken"].reason == "failed on the sample: MemoryError"
    # The edges the rule compares, in bytes at 16 MB.
    b, f = out["best"], out["far"]
    assert b.bound_low_bytes is not None and b.bound_high_bytes is not None and f.bound_low_bytes is not None
    assert b.bound_low_bytes < b.bound_bytes < b.bound_high_bytes  # type: ignore[operator]
    assert f.bound_low_bytes > b.bound_high_bytes


def test_a_bias_the_samples_share_does_not_keep_a_backend_the_pair_shows_is_behind() -> None:
    # Both bend the same way at the largest sample (its documents compress well for every coder): each band is
    # wide, and they overlap, but one is 4 % behind the other at every size, and the rule keeps only the best.
    best = _f("best", (30_000, 110_000, 360_000))
    behind = _f("behind", (31_200, 114_400, 374_400))
    out = {f.spec: f for f in keep([best, behind])}  # type: ignore[list-item]
    assert behind.bound_low_bytes < best.bound_high_bytes  # type: ignore[attr-defined,operator]
    assert not out["behind"].kept and out["behind"].reason == "predicted +4.0 % against best, the pair's spread ±1.0 %"
    # With two sample sizes there is no pair spread: the bands decide, and overlapping, both stay.
    two = [forecast(f.spec, f.points[:2], 16_000_000, 30_000, 1 << 20) for f in (best, behind)]  # type: ignore[attr-defined]
    assert all(f.kept for f in keep(two))


def _f4(spec: str, payloads: tuple[int, int, int, int], seconds: float = 1.0) -> Forecast:
    points = [SamplePoint(n, p, seconds * n / 1e6) for n, p in zip((25_000, 100_000, 400_000, 1_600_000), payloads,
                                                                   strict=True)]
    return forecast(spec, points, 16_000_000, 30_000, 1 << 20)


def test_the_largest_sample_is_run_only_by_the_candidates_the_rule_keeps_on_the_smaller_ones() -> None:
    best = _f4("best", (8_600, 30_000, 110_000, 400_000), seconds=10.0)
    close = _f4("close", (8_643, 30_150, 110_550, 402_000), seconds=8.0)
    far = _f4("far", (11_500, 40_000, 150_000, 560_000), seconds=2.0)
    out = {f.spec: f for f in staged([best, close, far])}
    # `far`, about 35 % behind on the three smaller samples, is dropped before the largest, and for good.
    assert not out["far"].kept and out["far"].screened_bytes == 400_000
    assert [p.sample_bytes for p in out["far"].points] == [25_000, 100_000, 400_000]
    assert out["far"].reason == ("dropped on the samples up to 400,000 bytes (no larger one run): predicted +39.0 % "
                                 "against best, the pair's spread ±7.0 %")
    # The two close ones run the largest sample, and the rule on all four sizes keeps both.
    assert len(out["best"].points) == len(out["close"].points) == 4
    assert out["best"].kept and out["close"].kept and out["close"].reason.endswith("could win")
    # `keep` leaves a screened verdict as it is, and never takes a screened candidate as the best.
    assert keep(list(out.values()))[2] == out["far"]
    # One candidate left after the screen: the largest sample is not run at all.
    alone = {f.spec: f for f in staged([best, far])}
    assert len(alone["best"].points) == 3 and alone["best"].kept
    assert alone["best"].reason == "the smallest predicted bound" and alone["far"].screened_bytes == 400_000
    # Below three sizes nothing is screened (the pair needs three).
    go, off = screen([refit(f, f.points[:2]) for f in (best, far)], 100_000)
    assert len(go) == 2 and not off


def test_a_window_stops_the_gain_with_size() -> None:
    points = [SamplePoint(n, p, 0.1) for n, p in ((100_000, 40_000), (400_000, 140_000), (1_600_000, 480_000))]
    unbounded = forecast("x", points, 64_000_000, 0, 0)
    windowed = forecast("x", points, 64_000_000, 0, 0, window_bytes=1_600_000)
    assert windowed.bound_bytes == pytest.approx(480_000 * 40, rel=1e-9)  # the largest sample's rate
    assert unbounded.bound_bytes is not None and unbounded.bound_bytes < windowed.bound_bytes  # type: ignore[operator]


def test_the_plan_is_a_section_of_the_json_and_only_kept_backends_run(two_kinds: Path) -> None:
    code, out, err = run(str(two_kinds), *SPECS, "--plan", "100kB", "--dedup", "off", "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    plan = doc["plan"]
    assert [c["spec"] for c in plan["candidates"]] == ["zlib:6", "bz2:9", "ppmd:4,mem=16m,v=H"]
    assert plan["sample"]["sampling"] == "documents"
    assert plan["sample"]["strata"] == [f"{two_kinds}/code", f"{two_kinds}/prose"]
    assert plan["sample"]["sample_bytes"][-1] >= 100_000 > plan["sample"]["sample_bytes"][0]
    assert set(plan["kept"]) | set(plan["dropped"]) == {"zlib:6", "bz2:9", "ppmd:4,mem=16m,v=H"}
    assert "zlib:6" in plan["dropped"]  # 2.9 bpb against ppmd's 2.3 on this text
    assert [r["spec"] for r in doc["results"]] == ["raw", *plan["kept"]]
    for c in plan["candidates"]:
        assert c["kept"] == (c["spec"] in plan["kept"]) and c["reason"]
        assert c["predicted_bound_low_bytes"] <= c["predicted_bound_bytes"] <= c["predicted_bound_high_bytes"]
    assert plan["predicted_core_hours"] > 0 and plan["measured_core_hours"] > 0
    assert plan["measured_wall_seconds"] > 0 and plan["rule"].startswith("keep a backend when")
    assert doc["settings"]["plan_bytes"] == 100_000 and doc["settings"]["plan_seed"] == 0
    # The best predicted backend is the best measured one on this corpus.
    best = min(plan["candidates"], key=lambda c: c["predicted_bound_bytes"])
    assert doc["best"]["backend"] == best["spec"]


def test_a_planned_run_screens_on_the_smaller_samples_and_stops_sampling_when_one_is_left(tmp_path: Path) -> None:
    for name in ("alice29.txt", "asyoulik.txt"):  # documents of 2 kB: four distinct sample sizes under 100 kB
        text = (CORPORA / name).read_bytes()
        (tmp_path / "prose").mkdir(exist_ok=True)
        for i in range(0, len(text), 2000):
            (tmp_path / "prose" / f"{name}.{i // 2000:03d}.txt").write_bytes(text[i:i + 2000])
    (tmp_path / "code").mkdir()
    for path in sorted((ROOT / "src" / "kbound" / "sources").glob("*.py")):
        (tmp_path / "code" / path.name).write_bytes(path.read_bytes())
    code, out, err = run(str(tmp_path), *SPECS, "--plan", "100kB", "--dedup", "off", "-f", "json")
    assert code == 0, err
    plan = json.loads(out)["plan"]
    by = {c["spec"]: c for c in plan["candidates"]}
    # zlib and bz2 fall behind ppmd on the three smaller samples: dropped there, ppmd is left alone, and the
    # largest sample (100 kB) is not run.
    assert plan["kept"] == ["ppmd:4,mem=16m,v=H"] and len(plan["sample"]["sample_bytes"]) == 3
    assert plan["sample"]["sample_bytes"][-1] < 100_000
    for spec in ("zlib:6", "bz2:9"):
        assert by[spec]["screened_after_sample_bytes"] == plan["sample"]["sample_bytes"][-1]
        assert by[spec]["reason"].startswith(f"dropped on the samples up to {plan['sample']['sample_bytes'][-1]:,}")
    assert by["ppmd:4,mem=16m,v=H"]["screened_after_sample_bytes"] is None
    assert all(len(c["points"]) == 3 for c in plan["candidates"])


def test_the_plan_shows_in_the_table_and_csv(two_kinds: Path) -> None:
    code, out, _ = run(str(two_kinds), *SPECS, "--plan", "100kB", "--dedup", "off", "-f", "table")
    assert code == 0
    assert "Plan (100.00 kB): nested samples of" in out and "stratified by source over 2 sources" in out
    assert "dropped: predicted +" in out and "the pair's" in out and "Rule: keep a backend" in out
    code, out, _ = run(str(two_kinds), *SPECS, "--plan", "100kB", "--dedup", "off", "-f", "csv")
    assert code == 0
    assert "\nplan,spec,kept,reason," in out


def test_plan_composes_with_the_duplicate_stage_and_two_workers(two_kinds: Path) -> None:
    code, out, err = run(str(two_kinds), *SPECS, "--plan", "100kB", "--dedup", "on", "-j", "2",
                         "--by-source", "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["settings"]["dedup"] == "on" and doc["settings"]["jobs"] == 2
    assert doc["sharding"]["shards"] > 1
    plain = [r["spec"] for r in doc["results"] if not r["spec"].endswith("+dedup")]
    assert plain == ["raw", *doc["plan"]["kept"]]
    assert doc["duplicates"] is not None
    assert all(r["status"] == "verified" for r in doc["results"])


def test_a_planned_run_again_recalls_its_sample_and_rows(two_kinds: Path, tmp_path: Path) -> None:
    args = (str(two_kinds), *SPECS, "--plan", "100kB", "--dedup", "off", "-f", "json", "--cache-dir", str(tmp_path))
    first = json.loads(run(*args)[1])
    again = json.loads(run(*args)[1])
    assert again["plan"]["kept"] == first["plan"]["kept"]
    assert again["plan"]["sample"]["core_seconds"] == 0  # every sample task recalled
    assert again["plan"]["recalled"] is True and again["best"] == first["best"]


def test_the_plan_command_prices_each_effort_without_running_it(two_kinds: Path) -> None:
    code, out, err = run("plan", str(two_kinds), "-e", "fast", "--sample", "100kB", "--workers", "4", "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "kbound-plan/1" and doc["settings"]["workers"] == 4
    (fast,) = doc["efforts"]
    assert fast["effort"] == "fast" and fast["workers"] == 4
    assert 0 < fast["core_hours_low"] <= fast["core_hours"] <= fast["core_hours_high"]
    assert fast["memory_per_worker_bytes"] > 0 and fast["wall_seconds"] > 0
    assert fast["dominant"] and abs(sum(d["share"] for d in fast["dominant"])) <= 1.0001
    assert fast["best"] in fast["planned_kept"]
    assert [c["spec"] for c in fast["candidates"]] == ["zlib:6", "bz2:9", "zstd:3", "brotli:5,w=22",
                                                       "ppmd:4,mem=16m,v=H"]
    code, out, _ = run("plan", str(two_kinds), "-e", "fast", "--sample", "100kB", "-f", "table")
    assert code == 0
    assert "dominated by" in out and "--plan keeps" in out and "Nothing was run over the whole corpus" in out


def test_the_plan_command_on_one_document_samples_prefixes(tmp_path: Path) -> None:
    code, out, err = run("plan", str(CORPORA / "alice29.txt"), "-e", "fast", "--sample", "40kB", "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["sample"]["sampling"] == "prefix" and doc["sample"]["sample_bytes"] == [625, 2_500, 10_000, 40_000]


def test_the_plan_command_takes_every_corpus_option(tmp_path: Path) -> None:
    text = tmp_path / "par.txt"  # a text that begins like a Parquet file: --plain reads it as text
    text.write_bytes(b"PAR1" + (CORPORA / "alice29.txt").read_bytes()[:30_000])
    code, out, err = run("plan", str(text), "--plain", "-e", "fast", "--sample", "10kB", "-f", "json")
    assert code == 0, err
    assert json.loads(out)["sample"]["corpus_bytes"] == 30_004
    code, _, err = run("plan", str(text), "--plain", "--field", "text")
    assert code == 2 and "--plain" in err


def test_progress_carries_the_plans_time_left() -> None:
    from kbound.cli.progress import Progress

    progress = Progress(enabled=False)
    progress.expect({"cmx": 1_000.0, "zstd:3": None})
    assert progress.plan_left("cmx", 250, 1_000) == "plan 12.5 min left"
    assert progress.plan_left("cmx", 990, 1_000) == "plan 10 s left"
    assert progress.plan_left("zstd:3", 1, 2) == ""  # no prediction for it


def test_a_corpus_at_most_twice_the_sample_is_not_sampled_and_runs_every_candidate() -> None:
    code, out, err = run(str(CORPORA / "alice29.txt"), "-b", "zlib:6", "-b", "bz2:9", "--plan", "100kB", "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["plan"]["sample"]["sampling"] == "none" and doc["plan"]["sample"]["sample_bytes"] == []
    assert doc["plan"]["kept"] == ["zlib:6", "bz2:9"]
    assert [r["spec"] for r in doc["results"]] == ["raw", "zlib:6", "bz2:9"]


def test_plan_runs_on_a_dask_cluster_and_keeps_what_the_local_plan_keeps(two_kinds: Path) -> None:
    distributed = pytest.importorskip("distributed")
    from kbound.growth.plan import planned_estimate

    specs = ["zlib:6", "bz2:9", "ppmd:4,mem=16m"]
    local = planned_estimate([str(two_kinds)], specs, effort="fast", size=100_000, seed=0, use_cache=False,
                             dedup="off")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        remote = planned_estimate([str(two_kinds)], specs, effort="fast", size=100_000, seed=0, use_cache=False,
                                  dedup="off", scheduler=c.scheduler_address)
    assert remote.plan.kept == local.plan.kept
    assert [f.bound_bytes for f in remote.plan.forecasts] == [f.bound_bytes for f in local.plan.forecasts]
    assert remote.plan.measured_by == "rows" and local.plan.measured_by == "process tree"
    assert [r.total_bytes for r in remote.results] == [r.total_bytes for r in local.results]


def _stored(cache: Path) -> int:
    return len(list((cache / "results").glob("*/*.json")))


def test_a_planned_run_stopped_by_sigterm_and_run_again_reuses_the_plan_and_the_finished_shards(
    tmp_path: Path,
) -> None:
    # 4 MB of prose in 8 kB documents, in shards of 1 MiB: xz:9e wins the sample and its shards take seconds.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = b"".join((CORPORA / n).read_bytes() for n in ("tinyshakespeare.txt", "alice29.txt", "asyoulik.txt"))
    for copy in range(3):
        for i in range(0, len(text), 8000):
            (corpus / f"{copy}.{i // 8000:04d}.txt").write_bytes(text[i:i + 8000])
    cache = tmp_path / "cache"
    args = [str(corpus), "-b", "zlib:9", "-b", "xz:9e", "--plan", "256kB", "--shard-size", "1MiB", "--dedup", "off",
            "-j", "2", "--cache-dir", str(cache), "-f", "json"]
    sampled = 2 * 3  # two candidates on three nested samples, each stored once verified
    proc = subprocess.Popen([sys.executable, "-c", "from kbound.cli import main; main()", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=sigint_default)
    deadline = time.monotonic() + 120
    while _stored(cache) < sampled + 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # until the sample and one shard of the run over the corpus are stored
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    first = json.loads(out)
    assert first["interrupted"] is True and first["plan"]["kept"] == ["xz:9e"]
    finished = _stored(cache) - sampled
    code, out, err = run(*args)
    assert code == 0, err
    again = json.loads(out)
    assert again["plan"]["kept"] == first["plan"]["kept"]
    assert again["plan"]["sample"]["core_seconds"] == 0  # the plan again, from the sample's stored results
    def forecasts(doc: dict[str, Any]) -> list[dict[str, Any]]:  # a recalled task has no peak memory to tell
        return [{k: v for k, v in c.items() if k != "sample_peak_rss_bytes"} for c in doc["plan"]["candidates"]]

    assert forecasts(again) == forecasts(first)
    sharding = again["sharding"]
    assert 1 <= finished == sharding["cached_tasks"] < sharding["tasks"]  # only the missing shards ran
    assert not again["interrupted"] and all(r["status"] == "verified" for r in again["results"])


# `kbound plan C --effort fast --sample 5MB --workers 2 --no-cache` on bench_plan.py's mixed corpus C (50,083,139
# bytes: 12.0 MB of prose and Python modules, `--mb 50`), load about 4: each backend's sample points (bytes read,
# payload bytes, its workers' CPU seconds), its decoder bytes, and the run's own part measured by that sample.
MIXED_FAST = {
    "zlib:6": ([(341_884, 102_032, 0.19), (1_266_302, 346_793, 0.2), (5_036_661, 1_352_155, 0.35)], 70_940),
    "bz2:9": ([(341_884, 92_411, 0.19), (1_266_302, 298_788, 0.34), (5_036_661, 1_131_319, 0.95)], 43_552),
    "zstd:3": ([(341_884, 108_155, 0.57), (1_266_302, 362_305, 0.54), (5_036_661, 1_392_883, 0.65)], 329_496),
    "brotli:5,w=22": ([(341_884, 98_900, 0.47), (1_266_302, 326_419, 0.47), (5_036_661, 1_235_968, 0.75)], 331_308),
    "ppmd:4,mem=16m,v=H": ([(341_884, 87_793, 0.24), (1_266_302, 300_189, 0.44), (5_036_661, 1_157_644, 1.52)],
                           36_792),
}
MIXED_BYTES = 50_083_139
MIXED_OWN = Overhead(start_core_seconds=0.6573, per_task_core_seconds=0.0677, scan_core_seconds=0.2631,
                     sample_tasks=15)
#: `kbound C --effort fast --dedup off --no-cache` on the same corpus: its whole process tree's CPU seconds, of
#: which its rows' workers spent 23.37 (the 1.44 left: start, forks, pipes; `raw` rode on zstd:3's task).
MIXED_FAST_MEASURED = 24.81


def test_the_predicted_cost_adds_the_runs_own_part_measured_on_the_sample() -> None:
    backends = {b.spec: b for b in parse_specs(list(MIXED_FAST))}
    forecasts = [replace(forecast(spec, [SamplePoint(*p) for p in points], MIXED_BYTES, decoder, 0),
                         hosts_raw=can_host_raw(backends[spec]))
                 for spec, (points, decoder) in MIXED_FAST.items()]
    tasks = sum(f.core_seconds or 0.0 for f in forecasts)
    # Once a run, then once for each of the five tasks; `raw` rides on zstd:3 (or brotli): no task or read of its own.
    own = 0.6573 + 5 * 0.0677
    centre, low, high = run_core_seconds(forecasts, MIXED_OWN)
    assert centre == pytest.approx(tasks + own) and low <= centre <= high
    assert centre == pytest.approx(31.86, abs=0.01)  # as `kbound plan` printed it (0.00885 core-hours)
    assert 0.7 <= MIXED_FAST_MEASURED / centre <= 1.3  # the target: within ±30 %
    # After the sample (same process, no start again), ppmd alone: `raw` is a task of its own, reading the corpus.
    alone = run_core_seconds([f for f in forecasts if f.spec.startswith("ppmd")], MIXED_OWN, start=False)
    ppmd = next(f for f in forecasts if f.spec.startswith("ppmd"))
    assert alone[0] == pytest.approx((ppmd.core_seconds or 0.0) + 2 * 0.0677 + 0.2631)
