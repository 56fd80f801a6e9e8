"""A descent's trace rows as columns, and the hips' path through it: what grading reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from station.hinge._layout import KNEE_COL, OK_COL, PHASE_COL, T_COL, TRAVEL_COL, TRUNK_COL

F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Rows:
    """Trace rows between two moments, as columns."""

    t: F64
    trunk: F64
    knee: F64
    travel: F64
    ok: npt.NDArray[np.int64]
    phase: npt.NDArray[np.int64]

    @classmethod
    def cut(cls, trace: F64, t_from: float, t_to: float) -> Rows:
        rows = trace[(trace[:, T_COL] >= t_from) & (trace[:, T_COL] <= t_to)]
        return cls(
            rows[:, T_COL], rows[:, TRUNK_COL], rows[:, KNEE_COL], rows[:, TRAVEL_COL],
            rows[:, OK_COL].astype(np.int64), rows[:, PHASE_COL].astype(np.int64),
        )  # fmt: skip

    def has(self, bits: int) -> BOOL:
        return (self.ok & bits) == bits

    def within(self, t_from: float, t_to: float) -> BOOL:
        return (self.t >= t_from) & (self.t <= t_to)

    def median(self, col: F64, ok: BOOL, t_from: float, t_to: float) -> float | None:
        pick = ok & self.within(t_from, t_to)
        return float(np.median(col[pick])) if pick.any() else None

    def near(self, col: F64, ok: BOOL, t_at: float, half_s: float) -> float | None:
        """Median within +-half_s of a moment, else the nearest measured sample within 3 half-windows."""
        value = self.median(col, ok, t_at - half_s, t_at + half_s)
        if value is not None or not ok.any():
            return value
        idx = np.flatnonzero(ok)
        i = idx[np.argmin(np.abs(self.t[idx] - t_at))]
        return float(col[i]) if abs(self.t[i] - t_at) <= 3.0 * half_s else None


@dataclass(frozen=True)
class HipPath:
    """The descent's samples with trunk and hips measured (rolling medians) and its wall point."""

    t: F64
    trunk: F64  # deg
    travel: F64  # L
    d0: float  # the hips' lockout position, L
    phi0: float  # the trunk's lockout angle, deg
    travel_L: float  # how far the hips went back: robust maximum - d0
    i_wall: int  # index of the wall point in t

    def at(self, frac: float) -> int | None:
        """Index of the first sample where the hips have done this share of their travel."""
        hits = np.flatnonzero(self.travel >= self.d0 + frac * self.travel_L)
        return int(hits[0]) if hits.size else None
