"""The numbers the three keys are judged on, measured once per rep on the descent's trace.

Every measure is None when the frames do not show it (occlusion, too few samples). Robust
statistics throughout (`robust.py`): rolling medians over `smooth_s`, a 90th percentile for the
hips' maximum, medians of windows in seconds, Theil-Sen slopes. `onset.py` re-dates the hinge
onset and finds the wall point and the knees at onset (key 1); this module measures key 2;
`wall.py` measures key 3.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from station.hinge._layout import OK_KNEE, OK_SIDE, PH_ASCENT, PH_HINGE
from station.hinge.onset import hinge_onset, hip_path, knee_at_onset
from station.hinge.rows import F64, HipPath, Rows
from station.hinge.wall import back_reach, early_knee_bend, knees_start, wall_drop
from station.settings.hinge import HingeSettings


@dataclass(frozen=True)
class DescentMeasures:
    """What the keys are judged on; units in the names (deg, L = leg lengths)."""

    side_on: bool  # most of the descent was filmed side-on enough to grade
    t_onset_s: float  # the hinge onset, re-dated: the last still moment before the trunk's (or hips') rise
    knee_onset_deg: float | None  # key 1: knee flexion held from onset through the hinge's start
    hip_travel_L: float | None  # key 2: how far the hips went back (robust maximum - lockout)
    trunk_to_wall_deg: float | None  # key 2: trunk tipping from lockout to the wall point
    sync_gap: float | None  # key 2: mean(chest progress - hips progress) up to the wall; > 0 chest leads
    early_knee_deg: float | None  # key 3: knee flexion gained while the hips travel to the wall
    back_reach_deg: float | None  # key 3: trunk tipping past the wall point that neither hips nor knees explain
    wall_drop_L: float | None  # key 3: how far the hips came forward off the wall while the knees bent

    def to_json(self) -> dict[str, object]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def measure(trace: F64, t_start: float, t_bottom: float, s: HingeSettings) -> DescentMeasures:
    """Measure one descent (the detector's hinge onset to bottom) on the trace (TRACE_COLUMNS)."""
    w = Rows.cut(trace, t_start - s.onset_lookback_s, t_bottom + s.bottom_hold_s)
    # The detector dates the bottom at its last coarse deepening: the knees may still finish
    # bending after it, until the ascent begins.
    rising = np.flatnonzero((w.t > t_bottom) & ((w.phase < PH_HINGE) | (w.phase >= PH_ASCENT)))
    t_end = float(w.t[rising[0]]) if rising.size else t_bottom + s.bottom_hold_s
    t_chest, t_on = hinge_onset(w, t_start, t_bottom, s)
    descent = w.within(t_on, t_bottom)
    side_on = bool(descent.any() and np.mean(w.has(OK_SIDE)[descent]) >= 0.5)
    hips = hip_path(w, t_on, t_bottom, s) if side_on else None
    travelled = hips is not None and hips.travel_L >= s.min_hip_travel_L
    t_wall = float(hips.t[hips.i_wall]) if hips is not None and travelled else t_bottom
    knee0 = knee_at_onset(w, t_chest, t_wall, s)
    if hips is None:
        return DescentMeasures(side_on, t_on, knee0, None, None, None, None, None, None)
    if not travelled:  # the hips never left: no wall point; it is wherever the knees start bending
        i_knees = max(int(np.searchsorted(hips.t, knees_start(w, knee0, t_on, t_bottom, s))) - 1, 0)
        hips = HipPath(hips.t, hips.trunk, hips.travel, hips.d0, hips.phi0, hips.travel_L, i_knees)
    i = hips.i_wall
    trunk_rise = float(hips.trunk[i]) - hips.phi0
    gap = _sync_gap(hips.trunk[: i + 1], hips.travel[: i + 1], hips.phi0, hips.d0, s)
    kn = w.has(OK_KNEE) & descent
    early = reach = None
    # Hips that never went back have no wall point to bend the knees after (key 2 says so): the
    # knees' gain up to where they start bending would be knee_moving_deg by construction.
    if travelled and knee0 is not None and np.mean(kn[descent]) >= s.knee_min_coverage and kn.sum() >= 3:
        early = early_knee_bend(w, hips, knee0, s)
        reach = back_reach(w, hips, t_bottom, s)
    drop = wall_drop(w, hips, t_end, s)
    return DescentMeasures(side_on, t_on, knee0, hips.travel_L, trunk_rise, gap, early, reach, drop)


def _sync_gap(phi: F64, dd: F64, phi0: float, d0: float, s: HingeSettings) -> float:
    """Key 2: mean of chest progress minus hips progress from their lockout values, each over its
    own range (floored at a real movement)."""
    phi_range = max(float(phi[-1]) - phi0, s.min_wall_trunk_deg)
    d_range = max(float(dd[-1] - d0), s.min_hip_travel_L)
    p_phi = np.clip((phi - phi0) / phi_range, 0.0, 1.0)
    p_d = np.clip((dd - d0) / d_range, 0.0, 1.0)
    return float(np.mean(p_phi - p_d))
