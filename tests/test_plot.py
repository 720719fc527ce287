"""Plots: files that open, with the expected pixel size and axes; a clear error without matplotlib."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from cli_helpers import run
from corpus_helpers import corpus_of
from kbound.growth.curve import CurveReport, growth_curve
from kbound.report.plot import MISSING, curve_figure, plot_curve

CORPORA = Path(__file__).resolve().parent.parent / "corpora"



@pytest.fixture(scope="module")
def curve() -> CurveReport:
    corpus = corpus_of(CORPORA / "asyoulik.txt")
    return growth_curve(corpus, ["zlib:9", "bz2:9"], points=4, min_bytes=16000, target_bytes=10**9, jobs=2)


def test_curve_figure_axes(curve: CurveReport) -> None:
    ax = curve_figure(curve).axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("sample size (bytes)", "compressed payload (bytes)")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("zlib:9: β = ") and labels[1].startswith("bz2:9: β = ")
    assert any(label.startswith("95% band") for label in labels)
    assert ax.get_xlim()[1] >= 10**9  # the axis reaches the extrapolated size


def test_curve_png_opens_with_the_expected_size(curve: CurveReport) -> None:
    import matplotlib.image

    png = plot_curve(curve)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert pixels.shape == (600, 1000, 4)
    assert pixels[:, :, :3].min() < 0.2 and pixels[:, :, :3].max() == 1.0  # drawn on, on white


def test_cli_writes_only_the_named_plot(tmp_path: Path) -> None:
    target = tmp_path / "curve.png"
    code, _, _ = run("curve", str(CORPORA / "asyoulik.txt"), "-b", "zlib:9", "--points", "3", "--plot", str(target))
    assert code == 0 and [p.name for p in tmp_path.iterdir()] == ["curve.png"]
    assert target.read_bytes()[:4] == b"\x89PNG"
    code, _, err = run("curve", str(CORPORA / "asyoulik.txt"), "-b", "zlib:9", "--points", "3", "--plot",
                       str(tmp_path / "new" / "dir" / "c.png"))
    assert code == 0, err  # the directory is made, as -o makes one
    assert (tmp_path / "new" / "dir" / "c.png").read_bytes()[:4] == b"\x89PNG"
    code, _, err = run("curve", str(CORPORA / "asyoulik.txt"), "--plot", str(tmp_path / "c.gif"))
    assert code == 1 and err == f"kbound: error: {tmp_path / 'c.gif'}: --plot writes .png, .svg or .pdf files\n"


def test_missing_matplotlib_is_one_line_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    code, out, err = run("curve", str(CORPORA / "asyoulik.txt"), "-b", "zlib:9", "--plot", str(tmp_path / "c.png"))
    assert (code, out, err) == (1, "", f"kbound: error: {MISSING}\n")
    assert "pip install 'kbound[plot]'" in MISSING
    assert list(tmp_path.iterdir()) == []
