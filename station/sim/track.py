"""Channels of knots over time, joined by monotone cubic (PCHIP) curves: smooth, no overshoot."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


class Track:
    """Named channels, each a list of (time, value) knots added in time order."""

    def __init__(self) -> None:
        self.knots: dict[str, list[tuple[float, float]]] = {}

    def add(self, channel: str, t_s: float, value: float) -> None:
        """Append a knot; a knot at the same time as the last one replaces it."""
        knots = self.knots.setdefault(channel, [])
        if knots and t_s <= knots[-1][0] + 1e-6:
            knots[-1] = (knots[-1][0], value)
        else:
            knots.append((t_s, value))

    def hold(self, channel: str, t_s: float) -> None:
        """Keep the channel at its last value until t_s."""
        self.add(channel, t_s, self.last(channel))

    def last(self, channel: str) -> float:
        return self.knots[channel][-1][1]

    def evaluate(self, channel: str, t_s: F64) -> F64:
        """The channel at the given times; held constant before the first and after the last knot."""
        knots = np.asarray(self.knots[channel], dtype=np.float64)
        return pchip(knots[:, 0], knots[:, 1], t_s)


def pchip(x: F64, y: F64, t: F64) -> F64:
    """Fritsch-Carlson monotone cubic through (x, y), zero slope at the ends, constant outside."""
    if len(x) == 1:
        return np.full_like(t, y[0], dtype=np.float64)
    h = np.diff(x)
    delta = np.diff(y) / h
    m = np.zeros_like(y)
    w1 = 2.0 * h[1:] + h[:-1]
    w2 = h[1:] + 2.0 * h[:-1]
    same_sign = delta[:-1] * delta[1:] > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = (w1 + w2) / (w1 / delta[:-1] + w2 / delta[1:])
    m[1:-1] = np.where(same_sign, harmonic, 0.0)
    i = np.clip(np.searchsorted(x, t, side="right") - 1, 0, len(x) - 2)
    u = np.clip((t - x[i]) / h[i], 0.0, 1.0)
    h00 = (1 + 2 * u) * (1 - u) ** 2
    h10 = u * (1 - u) ** 2
    h01 = u * u * (3 - 2 * u)
    h11 = u * u * (u - 1)
    return h00 * y[i] + h10 * h[i] * m[i] + h01 * y[i + 1] + h11 * h[i] * m[i + 1]
