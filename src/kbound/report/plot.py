"""Plots of growth curves and space–time trade-offs as image bytes (matplotlib, the optional `plot` extra).

Figures are built with matplotlib's object API on the Agg canvas (no pyplot, no global state,
no display needed); `--plot FILE` writes the returned bytes to FILE and nowhere else.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from kbound.errors import KboundError
from kbound.growth.curve import CurveReport
from kbound.growth.tradeoff import TradeoffReport

#: Figure size in inches and resolution: 1000 x 600 pixels.
FIGSIZE_INCHES = (10.0, 6.0)
DPI = 100
MISSING = "plotting needs matplotlib, which is not installed: pip install 'kbound[plot]'"


class PlotError(KboundError):
    """A plot cannot be drawn or written (matplotlib missing, unwritable file)."""


def require_matplotlib() -> None:
    """Fail early, with the install hint, when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotError(MISSING) from None


def _figure(columns: int = 1) -> tuple[Any, Any]:
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(1, columns)


def _image(fig: Any, fmt: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=DPI)
    return buf.getvalue()


def plot_curve(report: CurveReport, fmt: str = "png") -> bytes:
    """The growth-curve figure as image bytes in `fmt` (png, svg, pdf)."""
    return _image(curve_figure(report), fmt)


def curve_figure(report: CurveReport) -> Any:
    """Payload against sample size on log–log axes: points, fitted power laws, the extrapolation and its band."""
    fig, ax = _figure()
    measured = max(report.sample_bytes, default=1)
    target = report.extrapolation.target_bytes if report.extrapolation else measured
    xs = np.geomspace(min(report.sample_bytes, default=1), max(measured, target), 200)
    for i, cv in enumerate(report.curves):
        colour = f"C{i % 10}"
        # Failed points have no payload to draw; the tables list them.
        good = [p for p in cv.points if p.payload_bytes is not None]
        label = f"{cv.spec}: no fit" if cv.fit is None else f"{cv.spec}: β = {cv.fit.beta:.3f}"
        ax.plot([p.sample_bytes for p in good], [p.payload_bytes for p in good], "o", color=colour, label=label)
        if cv.fit is not None:
            fit = cv.fit
            ax.plot(xs, fit.a * xs**fit.beta, "-", color=colour, linewidth=1, alpha=0.8)
    p = report.extrapolation
    if p is not None:
        best_fit = next(cv.fit for cv in report.curves if cv.spec == p.spec)
        if best_fit is not None:
            band = np.array([best_fit.band_bytes(float(x)) for x in xs])
            ax.fill_between(xs, band[:, 0], band[:, 1], alpha=0.15, color="grey", label=f"95% band ({p.spec})")
            ax.plot([target], [p.payload_bytes], "*", markersize=14, color="black",
                    label=f"extrapolated payload at {target:,} B")
        ax.axvline(measured, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sample size (bytes)")
    ax.set_ylabel("compressed payload (bytes)")
    how = "prefixes" if report.sampling == "prefix" else "document subsets"
    ax.set_title(f"Growth of the bound: {', '.join(report.corpus.sources)[:80]} ({how})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return fig


def plot_tradeoff(report: TradeoffReport, fmt: str = "png") -> bytes:
    """The trade-off figure as image bytes in `fmt` (png, svg, pdf)."""
    return _image(tradeoff_figure(report), fmt)


def tradeoff_figure(report: TradeoffReport) -> Any:
    """Total bytes against decompression time (left) and compression time (right); frontiers as steps."""
    fig, axes = _figure(columns=2)
    good = [p for p in report.points if p.total_bytes is not None]
    names = list(dict.fromkeys(p.backend for p in good))
    for ax, key, flag, what in (
        (axes[0], "decompress_seconds", "on_decompress_frontier", "decompression"),
        (axes[1], "compress_seconds", "on_compress_frontier", "compression"),
    ):
        for i, name in enumerate(names):
            mine = [p for p in good if p.backend == name]
            ax.plot([max(getattr(p, key) or 0, 1e-6) for p in mine], [p.total_bytes for p in mine], "o",
                    color=f"C{i % 10}", label=name)
        front = sorted((p for p in good if getattr(p, flag)), key=lambda p: getattr(p, key) or 0)
        if front:
            ax.step([max(getattr(p, key) or 0, 1e-6) for p in front], [p.total_bytes for p in front], "-",
                    where="post", color="black", linewidth=1, label="Pareto frontier")
            for p in front:
                ax.annotate(p.spec, (max(getattr(p, key) or 0, 1e-6), p.total_bytes), fontsize=7,
                            textcoords="offset points", xytext=(4, 4))
        ax.set_xscale("log")
        ax.set_xlabel(f"{what} time (seconds)")
        ax.set_ylabel("bound: payload + decoder (bytes)")
        ax.set_title(f"size against {what} time")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(loc="upper right", fontsize="small")
    fig.suptitle(f"Space–time trade-off: {', '.join(report.corpus.sources)[:80]} ({report.corpus.bytes:,} bytes)")
    return fig


def image_format(path: str) -> str:
    """The image format a file name asks for (png, svg, pdf); PlotError for anything else."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in ("png", "svg", "pdf"):
        raise PlotError(f"{path}: --plot writes .png, .svg or .pdf files")
    return suffix


def check_plot_path(path: str) -> str:
    """Before any work: matplotlib is importable and the suffix is known; the format. (A missing directory is
    made when the plot is written, as `-o` makes one.)"""
    require_matplotlib()
    return image_format(path)


def write_plot(path: str, image: bytes) -> None:
    """Write image bytes to `path` as `-o` writes a report (a regular file replaced atomically, a symlink's
    target replaced, a device written to, missing directories made)."""
    from kbound.report.files import OutputError, write_output

    try:
        write_output(path, image)
    except OutputError as e:
        raise PlotError(str(e)) from None
