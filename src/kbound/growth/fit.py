"""The power-law fit C(n) = a·n^β: ordinary least squares on (ln n, ln C), with a t-based prediction band.

The band is the classical 95% prediction interval of a straight-line fit in log–log space. It
assumes independent, normal residuals; points from nested prefixes are correlated, so it shows
how well a power law fits these points, not how far the real data may stray from it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom.
_T975 = (
    12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139,
    2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963,
    2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
)
_Z975 = 1.959964

#: The fewest points a fit with a residual needs (two parameters, one degree of freedom left).
MIN_POINTS = 3


def t975(dof: int) -> float:
    """The 97.5% quantile of Student's t with `dof` degrees of freedom (table to 30, Cornish–Fisher beyond)."""
    if dof < 1:
        raise ValueError("a t quantile needs at least one degree of freedom")
    if dof <= len(_T975):
        return _T975[dof - 1]
    z = _Z975
    return z + (z**3 + z) / (4 * dof) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * dof**2)


@dataclass(frozen=True)
class PowerLawFit:
    """C(n) ≈ a·n^β fitted to `points` (sizes in bytes, compressed sizes in bytes) in log–log space."""

    a: float
    beta: float
    points: int
    #: Root of the residual sum of squares over points − 2 degrees of freedom (natural-log units).
    residual_log: float
    r_squared: float
    #: Mean and sum of squared deviations of ln n: what the band at another n needs.
    mean_log_n: float
    sxx_log_n: float

    def predict_bytes(self, n_bytes: float) -> float:
        """The fitted C(n), in bytes."""
        return float(self.a * n_bytes**self.beta)

    def band_bytes(self, n_bytes: float) -> tuple[float, float]:
        """The 95% prediction band of C(n): (low, high) in bytes."""
        x = math.log(n_bytes)
        half = t975(self.points - 2) * self.residual_log * math.sqrt(
            1 + 1 / self.points + (x - self.mean_log_n) ** 2 / self.sxx_log_n
        )
        centre = math.log(self.predict_bytes(n_bytes))
        return math.exp(centre - half), math.exp(centre + half)


def fit_power_law(sizes_bytes: Sequence[float], values_bytes: Sequence[float]) -> PowerLawFit:
    """Least squares of ln C = ln a + β ln n; ValueError with fewer than 3 points, one size, or a size ≤ 0."""
    if len(sizes_bytes) != len(values_bytes):
        raise ValueError("sizes and values differ in length")
    if len(sizes_bytes) < MIN_POINTS:
        raise ValueError(f"a fit needs at least {MIN_POINTS} points, got {len(sizes_bytes)}")
    if min(sizes_bytes) <= 0 or min(values_bytes) <= 0:
        raise ValueError("sizes and values must be > 0 to take logarithms")
    import numpy as np  # here, not at the top: `kbound estimate` starts without loading numpy

    x = np.log(np.asarray(sizes_bytes, dtype=np.float64))
    y = np.log(np.asarray(values_bytes, dtype=np.float64))
    mean_x, mean_y = float(x.mean()), float(y.mean())
    sxx = float(((x - mean_x) ** 2).sum())
    if sxx == 0:
        raise ValueError("a fit needs at least two different sizes")
    beta = float(((x - mean_x) * (y - mean_y)).sum()) / sxx
    intercept = mean_y - beta * mean_x
    ssr = float(((y - (intercept + beta * x)) ** 2).sum())
    syy = float(((y - mean_y) ** 2).sum())
    return PowerLawFit(
        a=math.exp(intercept),
        beta=beta,
        points=len(x),
        residual_log=math.sqrt(ssr / (len(x) - 2)),
        r_squared=1 - ssr / syy if syy > 0 else 1.0,
        mean_log_n=mean_x,
        sxx_log_n=sxx,
    )
