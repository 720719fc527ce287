"""The space–time trade-off: ladders, the Pareto rule, exact sizes on real text, the CLI and its plot."""

from __future__ import annotations

import io
import json
import zlib
from pathlib import Path

import pytest

from cli_helpers import run
from corpus_helpers import corpus_of
from kbound.backends.catalog import CATALOG
from kbound.growth.tradeoff import TradeoffReport, expand_choices, pareto, tradeoff
from kbound.report.plot import plot_tradeoff, tradeoff_figure

CORPORA = Path(__file__).resolve().parent.parent / "corpora"



def test_pareto_rule() -> None:
    # (size, seconds): (10, 5) and (20, 1) trade off; (20, 6) is beaten by both; (30, 1) by (20, 1).
    assert pareto([(10, 5.0), (20, 1.0), (20, 6.0), (30, 1.0)]) == [True, True, False, False]
    assert pareto([(10, 1.0), (10, 1.0)]) == [True, True]  # equal points do not dominate each other
    assert pareto([]) == []


def test_names_expand_to_ladders_and_specs_stay() -> None:
    assert expand_choices(["zlib", "zstd:19"]) == ["zlib:1", "zlib:3", "zlib:6", "zlib:9", "zstd:19"]
    fast = [card for card in CATALOG.values() if not card.slow]
    everything = expand_choices(None)
    assert everything[:2] == ["raw", "zlib:1"] and len(everything) == sum(len(c.ladder) for c in fast)
    assert expand_choices(["zpaq"]) == ["zpaq:1", "zpaq:2", "zpaq:3", "zpaq:4", "zpaq:5"]  # the slow ones when named


def test_the_help_names_every_backend_left_out_by_default() -> None:
    code, out, _ = run("tradeoff", "--help", width=400)
    slow = [name for name, card in CATALOG.items() if card.slow]
    assert code == 0 and set(slow) >= {"order", "cm", "cmx", "lm", "zpaq"}
    assert f"but the model-based {', '.join(slow)}, which run only when named" in " ".join(out.split())


@pytest.fixture(scope="module")
def alice_tradeoff() -> TradeoffReport:
    return tradeoff(corpus_of(CORPORA / "alice29.txt"), ["raw", "zlib", "bz2:9"], repeat=2)


def test_sizes_are_exact_and_frontiers_follow_the_rule(alice_tradeoff: TradeoffReport) -> None:
    data = (CORPORA / "alice29.txt").read_bytes()
    points = {p.spec: p for p in alice_tradeoff.points}
    assert list(points) == ["raw", "zlib:1", "zlib:3", "zlib:6", "zlib:9", "bz2:9"]
    for level in (1, 3, 6, 9):
        assert points[f"zlib:{level}"].payload_bytes == len(zlib.compress(data, level))
    assert points["zlib:9"].payload_bytes == 54170
    assert all(p.status == "verified" and p.total_bytes == (p.payload_bytes or 0) + (p.decoder_bytes or 0)
               for p in points.values())
    ps = list(alice_tradeoff.points)
    for key, flag in (("decompress_seconds", "on_decompress_frontier"), ("compress_seconds", "on_compress_frontier")):
        assert [getattr(p, flag) for p in ps] == pareto([(p.total_bytes or 0, getattr(p, key)) for p in ps])
        smallest = min(ps, key=lambda p: (p.total_bytes or 0, getattr(p, key)))
        assert getattr(smallest, flag)  # the smallest bound is always on the frontier
    assert alice_tradeoff.settings["repeat"] == 2


def test_tradeoff_cli_formats() -> None:
    args = ("tradeoff", str(CORPORA / "alice29.txt"), "-b", "zlib:9", "-b", "zlib:1", "--no-timings")
    code, out, _ = run(*args, "-f", "json")
    doc = json.loads(out)
    assert code == 0 and doc["schema"] == "kbound-tradeoff/1" and "_seconds" not in out
    assert [p["spec"] for p in doc["points"]] == ["zlib:9", "zlib:1"]  # smallest first
    assert doc["points"][0]["payload_bytes"] == 54170
    code, out, _ = run(*args, "-f", "lines")
    assert out.splitlines()[0].startswith(f"zlib:9\t{doc['points'][0]['total_bytes']}\t-\t-\t")
    code, out, _ = run(*args, "-f", "csv")
    assert out.splitlines()[0] == ("spec,backend,status,payload_bytes,decoder_bytes,total_bytes,"
                                   "on_decompress_frontier,on_compress_frontier,error")
    code, out, _ = run(*args, "-f", "md")
    assert code == 0 and "| zlib:9 | 54,170 |" in out
    code, out, _ = run(*args, "-f", "table")
    assert code == 0 and "frontier" in out and "Pareto" in out


def test_tradeoff_plot(alice_tradeoff: TradeoffReport, tmp_path: Path) -> None:
    import matplotlib.image

    fig = tradeoff_figure(alice_tradeoff)
    left, right = fig.axes
    assert (left.get_xlabel(), right.get_xlabel()) == ("decompression time (seconds)", "compression time (seconds)")
    assert left.get_ylabel() == "bound: payload + decoder (bytes)" and left.get_xscale() == "log"
    assert "Pareto frontier" in [t.get_text() for t in left.get_legend().get_texts()]
    pixels = matplotlib.image.imread(io.BytesIO(plot_tradeoff(alice_tradeoff)), format="png")
    assert pixels.shape == (600, 1000, 4)
    target = tmp_path / "t.svg"
    code, _, _ = run("tradeoff", str(CORPORA / "alice29.txt"), "-b", "zlib:1", "--plot", str(target))
    assert code == 0 and target.read_text().lstrip().startswith("<?xml") and list(tmp_path.iterdir()) == [target]
