"""The numbers the three keys are judged on, measured once per rep on the descent's trace.

Every measure is None when the frames do not show it (occlusion, too few samples). Robust
statistics throughout: medians over short windows, a 90th percentile for the hips' maximum,
a 0.2 s moving average before looking for the wall point.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from station.hinge._layout import KNEE_COL, OK_COL, OK_KNEE, OK_SIDE, OK_TRAVEL, OK_TRUNK, T_COL, TRAVEL_COL, TRUNK_COL
from station.settings.hinge import HingeSettings

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

    @classmethod
    def cut(cls, trace: F64, t_from: float, t_to: float) -> Rows:
        rows = trace[(trace[:, T_COL] >= t_from) & (trace[:, T_COL] <= t_to)]
        return cls(rows[:, T_COL], rows[:, TRUNK_COL], rows[:, KNEE_COL], rows[:, TRAVEL_COL], rows[:, OK_COL].astype(np.int64))

    def has(self, bits: int) -> BOOL:
        return (self.ok & bits) == bits

    def median(self, col: F64, ok: BOOL, t_from: float, t_to: float) -> float | None:
        pick = ok & (self.t >= t_from) & (self.t <= t_to)
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
class DescentMeasures:
    """What the keys are judged on; units in the names (deg, L = leg lengths)."""

    side_on: bool  # most of the descent was filmed side-on enough to grade
    knee_onset_deg: float | None  # key 1: knee flexion over the hinge's first moments
    hip_travel_L: float | None  # key 2: how far the hips went back (robust maximum - lockout)
    trunk_to_wall_deg: float | None  # key 2: trunk tipping from onset to the wall point
    sync_gap: float | None  # key 2: mean(chest progress - hips progress) up to the wall; > 0 chest leads
    early_knee_deg: float | None  # key 3: knee bend before the wall point
    back_reach_deg: float | None  # key 3: trunk tipping after the wall point before the knees bend
    wall_drop_L: float | None  # key 3: hip travel lost from the wall point to the bottom

    def to_json(self) -> dict[str, object]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def measure(trace: F64, t_start: float, t_bottom: float, s: HingeSettings) -> DescentMeasures:
    """Measure one descent (hinge onset to bottom) on the trace (TRACE_COLUMNS)."""
    w = s.onset_window_s
    d = Rows.cut(trace, t_start, t_bottom)
    side_on = bool(len(d.t) and np.mean(d.has(OK_SIDE)) >= 0.5)
    around = Rows.cut(trace, t_start - w, t_start + 2.0 * w)
    knee0 = around.near(around.knee, around.has(OK_KNEE), t_start + w / 2.0, w / 2.0)
    before = Rows.cut(trace, t_start - s.lockout_window_s, t_start - s.lockout_window_s / 2.0)
    d0 = before.median(before.travel, before.has(OK_TRAVEL), -np.inf, np.inf)
    both = d.has(OK_TRUNK | OK_TRAVEL)
    if not side_on or np.mean(both) < s.min_coverage or both.sum() < 3:
        return DescentMeasures(side_on, knee0, None, None, None, None, None, None)
    t, phi, dd = d.t[both], d.trunk[both], d.travel[both]
    if d0 is None:
        d0 = float(np.median(dd[t <= t[0] + w / 2.0]))
    smooth = _smooth(t, dd, w / 4.0)
    travel = float(np.percentile(smooth, 90.0)) - d0
    if travel >= s.min_hip_travel_L:
        i_wall = int(np.argmax(smooth >= d0 + s.wall_frac * travel))
        t_check = float(t[int(np.argmax(smooth >= d0 + s.knee_check_frac * travel))])
        frac = s.knee_check_frac
    else:  # the hips never left: no wall point; it is wherever the knees start bending
        t_knees = _knees_start(d, knee0, s)
        i_wall = max(int(np.searchsorted(t, t_knees)) - 1, 0)
        t_check, frac = float(t[i_wall]), 1.0
    t_wall = float(t[i_wall])
    trunk_rise = float(phi[i_wall] - phi[0])
    gap = _sync_gap(phi[: i_wall + 1], dd[: i_wall + 1], d0, s)
    kn = d.has(OK_KNEE)
    early = reach = None
    if knee0 is not None and np.mean(kn) >= s.min_coverage and kn.sum() >= 3:
        at_check = d.near(d.knee, kn, t_check, w / 2.0)
        early = None if at_check is None else (at_check - knee0) / frac
        reach = _back_reach(d, kn, t_check, s)
    tv = d.has(OK_TRAVEL)
    at_wall, at_bottom = d.near(d.travel, tv, t_wall, w / 2.0), d.near(d.travel, tv, float(d.t[-1]), w / 2.0)
    drop = None if at_wall is None or at_bottom is None else at_wall - at_bottom
    return DescentMeasures(side_on, knee0, travel, trunk_rise, gap, early, reach, drop)


def _smooth(t: F64, x: F64, half_s: float) -> F64:
    """Moving average over +-half_s (uneven frame times)."""
    lo = np.searchsorted(t, t - half_s, side="left")
    hi = np.searchsorted(t, t + half_s, side="right")
    csum = np.concatenate(([0.0], np.cumsum(x)))
    return np.asarray((csum[hi] - csum[lo]) / (hi - lo), dtype=np.float64)


def _knees_start(d: Rows, knee0: float | None, s: HingeSettings) -> float:
    """When the knee flexion first exceeds its onset value by knee_moving_deg (the descent's end if never)."""
    if knee0 is None:
        return float(d.t[-1])
    moving = d.has(OK_KNEE) & (d.knee - knee0 > s.knee_moving_deg)
    return float(d.t[np.argmax(moving)]) if moving.any() else float(d.t[-1])


def _sync_gap(phi: F64, dd: F64, d0: float, s: HingeSettings) -> float:
    """Mean of chest progress minus hips progress, each over its own range (floored at a real movement)."""
    phi_range = max(float(phi[-1] - phi[0]), s.min_wall_trunk_deg)
    d_range = max(float(dd[-1] - d0), s.min_hip_travel_L)
    p_phi = np.clip((phi - phi[0]) / phi_range, 0.0, 1.0)
    p_d = np.clip((dd - d0) / d_range, 0.0, 1.0)
    return float(np.mean(p_phi - p_d))


def _back_reach(d: Rows, kn: BOOL, t_check: float, s: HingeSettings) -> float | None:
    """Trunk tipping after the hips have done most of their travel and before the knees bend,
    beyond what the hips' remaining travel explains at the hinge's own trunk-per-travel ratio.

    Two points on each curve, not a maximum: at `t_check` (knee_check_frac of the travel) and at
    the last moment the knees are known still (the bottom for an RDL). Both are 0.2 s medians.
    """
    both = d.has(OK_TRUNK | OK_TRAVEL)
    half = s.onset_window_s / 2.0
    knee_check = d.near(d.knee, kn, t_check, half)
    if knee_check is None or both.sum() < 3:
        return None
    # The knees are known to be still until a sample shows them bending or they go unseen.
    t_still = t_check
    for i in np.flatnonzero(kn & (d.t > t_check)):
        if d.t[i] - t_still > s.hold_s or d.knee[i] - knee_check > s.knee_moving_deg:
            break
        t_still = float(d.t[i])
    t0 = float(d.t[0])
    phi0, phi_c, phi_s = (d.near(d.trunk, both, x, half) for x in (t0, t_check, t_still))
    d0, d_c, d_s = (d.near(d.travel, both, x, half) for x in (t0, t_check, t_still))
    if None in (phi0, phi_c, phi_s, d0, d_c, d_s):
        return None
    per_L = max(phi_c - phi0, 0.0) / max(d_c - d0, s.min_hip_travel_L)  # type: ignore[operator]
    return (phi_s - phi_c) - per_L * (d_s - d_c)  # type: ignore[operator]
