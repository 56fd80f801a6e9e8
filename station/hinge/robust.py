"""Robust statistics on unevenly timed samples, for grading: rolling medians and Theil-Sen slopes.

MoveNet's keypoints jump for a frame or two and the frame rate varies (8-60 fps), so every
window is in seconds and every summary is a median, never a mean or a single sample.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]


def rolling_median(t: F64, x: F64, half_s: float, min_n: int = 3) -> F64:
    """Median of x within +-half_s of each sample (t sorted), widened to the min_n nearest samples
    within +-2 half_s where frames are sparse (8 fps): a spike of one frame vanishes either way."""
    n = len(t)
    lo = np.searchsorted(t, t - half_s, side="left")
    hi = np.searchsorted(t, t + half_s, side="right")
    if n >= min_n:
        k = np.arange(n)
        short = hi - lo < min_n
        # Centre a min_n-sample window on the sample, clipped at the ends of the series.
        start = np.clip(k - min_n // 2, 0, n - min_n)
        lo = np.where(short, np.minimum(lo, start), lo)
        hi = np.where(short, np.maximum(hi, start + min_n), hi)
        # ... but never across a gap (a dropout): a sample beyond twice the half-window shows
        # another moment of the movement (the 3 nearest at 8 fps lie within +-0.125 s)
        lo = np.maximum(lo, np.searchsorted(t, t - 2.0 * half_s, side="left"))
        hi = np.minimum(hi, np.searchsorted(t, t + 2.0 * half_s, side="right"))
    return np.array([np.median(x[a:b]) for a, b in zip(lo, hi)], dtype=np.float64)


def off_trend(t: F64, x: F64, half_s: float, max_dev: float, min_n: int = 5) -> BOOL:
    """Samples further than max_dev from the median of their +-half_s (at least min_n samples): a
    bump of a few frames. The median of a monotone run is its centre value, so a real movement,
    however fast, is never off its trend (except within half_s of the series' ends, where the
    window is one-sided)."""
    return np.abs(x - rolling_median(t, x, half_s, min_n)) > max_dev


def theil_sen(x: F64, y: F64, min_dx: float) -> tuple[float, int]:
    """Median slope dy/dx over the pairs at least min_dx apart in x, and how many pairs there were.

    Pairs closer than min_dx are left out: their slope is mostly measurement noise.
    """
    i, j = np.triu_indices(len(x), k=1)
    dx = x[j] - x[i]
    far = np.abs(dx) >= min_dx
    if not far.any():
        return 0.0, 0
    return float(np.median((y[j] - y[i])[far] / dx[far])), int(far.sum())
