"""Key 3's measures: bend the knees once the hips stop moving back (the wall point).

Three ways to fail it, each measured on the trace with robust statistics: knees bending while
the hips still travel back (early knee bend), the trunk tipping on its own past the wall point
(back reach), the hips coming forward while the knees bend (leaving the wall).
"""

from __future__ import annotations

import numpy as np

from station.hinge._layout import OK_KNEE, OK_TRAVEL
from station.hinge.robust import off_trend, rolling_median, theil_sen
from station.hinge.rows import F64, HipPath, Rows
from station.settings.hinge import HingeSettings

REACH_REF_TRUNK_DEG = 45.0  # the trunk angle at which reach_trunk_per_knee holds
REACH_MAX_TRUNK_DEG = 80.0  # past this the allowed rate stops growing (4.1x that at 45°)


def early_knee_bend(w: Rows, hips: HipPath, knee0: float, s: HingeSettings) -> float | None:
    """Knee flexion gained from lockout to the wall point as the hips travel back, degrees.

    Two readings of it, averaged where both exist, for their errors are only partly shared: a
    Theil-Sen slope of knee flexion on hip travel (degrees per L) over the hinge up to
    `knee_check_frac` of the travel, times the travel to the wall (every frame of the hinge
    counts but a bump of a few frames off the knee's trend, and it is blind to when exactly the
    onset was dated); and the knees' change from the still top to that point of the travel,
    scaled to the wall. Readings further apart than either's error allows: the lower one, for a
    mislabelled knee reads more flexion, not less. The hinge's last stretch, where a noisy wall
    point would let in the knee bend that follows it, is left out of both. Too few frames for a
    slope: the change alone, from key 1's onset reading, which spans more of them than the
    top's. For hips that went back.
    """
    t_on, t_wall = float(hips.t[0]), float(hips.t[hips.i_wall])
    i_check = hips.at(s.knee_check_frac)
    t_check = t_wall if i_check is None else min(float(hips.t[i_check]), t_wall)
    to_wall = float(hips.travel[hips.i_wall]) - hips.d0
    # The change to t_check, scaled by the hips' travel from there to the wall.
    at_check = w.near(w.knee, w.has(OK_KNEE), t_check, s.smooth_s)
    d_check = w.near(w.travel, w.has(OK_TRAVEL), t_check, s.smooth_s)
    if at_check is None or d_check is None:
        scale = by_change = None
    else:
        scale = to_wall / max(d_check - hips.d0, s.min_hip_travel_L)
        by_change = (at_check - _knee_at_top(w, t_on, knee0, s)) * scale
    pick = w.has(OK_KNEE | OK_TRAVEL) & w.within(t_on, t_check) & (w.knee >= -s.knee_hyperextension_deg)
    seen = np.flatnonzero(w.has(OK_KNEE) & (w.knee >= -s.knee_hyperextension_deg))
    pick[seen[off_trend(w.t[seen], w.knee[seen], s.spike_window_s / 2.0, s.knee_spike_deg)]] = False
    if pick.sum() >= 4:
        slope, pairs = theil_sen(w.travel[pick], w.knee[pick], s.slope_min_travel_L)
        if pairs >= s.slope_min_pairs:
            by_slope = slope * to_wall
            if by_change is None:
                return by_slope
            if abs(by_slope - by_change) > s.knee_readings_apart_deg:  # a mislabelled knee hit one
                return min(by_slope, by_change)
            return 0.5 * (by_slope + by_change)
    return None if at_check is None or scale is None else (at_check - knee0) * scale


def _knee_at_top(w: Rows, t_on: float, knee0: float, s: HingeSettings) -> float:
    """The knees' flexion over the still knee_top_s before the hinge onset (key 1's reading, which
    runs on into the hinge while the knees hold, where fewer than two frames show them)."""
    top = w.has(OK_KNEE) & w.within(t_on - s.knee_top_s, t_on)
    return float(np.median(w.knee[top])) if top.sum() >= 2 else knee0


def back_reach(w: Rows, hips: HipPath, t_bottom: float, s: HingeSettings) -> float | None:
    """The most the trunk tipped, from `knee_check_frac` of the hips' travel on, beyond what the
    hips and knees explain, degrees.

    Through the hinge the trunk tips with the hips' travel: a Theil-Sen line of trunk angle on
    hip travel over the hinge up to that point predicts it from the travel. Sliding down the
    wall it tips with the knee bend, at most `reach_per_knee` degrees per degree. The rest
    is trunk tipping by the lower back. Judged from before the wall point, because that point is
    blurred where the hips slow, and a reach that follows it at once would hide in the blur.
    """
    i_ref = hips.at(s.knee_check_frac)
    if i_ref is None:
        return None
    t_ref = float(hips.t[i_ref])
    if t_bottom - t_ref < s.smooth_s:
        return 0.0  # the descent ended with the hips' travel (an RDL)
    hinge = np.arange(i_ref + 1)
    slope, pairs = theil_sen(hips.travel[hinge], hips.trunk[hinge], s.slope_min_travel_L)
    if pairs < s.slope_min_pairs:
        slope = (float(hips.trunk[i_ref]) - hips.phi0) / max(float(hips.travel[i_ref]) - hips.d0, s.min_hip_travel_L)
    slope = max(slope, 0.0)
    base = float(np.median(hips.trunk[hinge] - slope * hips.travel[hinge]))
    kn = w.has(OK_KNEE) & w.within(t_ref - s.smooth_s, t_bottom)
    if kn.sum() < 3:
        return None
    tk = w.t[kn]
    knee = rolling_median(tk, w.knee[kn], s.smooth_s / 2.0)
    after = np.flatnonzero(hips.t >= t_ref)
    t = hips.t[after]
    # The knees at each trunk sample; only where a knee sample lies within hold_s is it known.
    j = np.clip(np.searchsorted(tk, t), 1, len(tk) - 1)
    known = np.minimum(np.abs(tk[j] - t), np.abs(tk[j - 1] - t)) <= s.hold_s
    if not known.any():
        return None
    bend = np.maximum(np.interp(t, tk, knee) - float(np.interp(t_ref, tk, knee)), 0.0)
    trunk = hips.trunk[after]
    # Each degree of knee bend lets the trunk tip at the rate its angle then allows (see reach_per_knee).
    allowed = np.cumsum(reach_per_knee(trunk, s) * np.diff(bend, prepend=0.0))
    excess = trunk - (base + slope * hips.travel[after]) - allowed
    return float(excess[known].max())


def reach_per_knee(trunk_deg: F64, s: HingeSettings) -> F64:
    """How far the trunk may tip per degree of knee bend while sliding down the wall, degrees.

    The shins tip forward with the knee bend and carry the bar, and the shoulders over it, forward
    by a distance; the trunk turns through that distance at a rate that grows as 1/cos(trunk):
    near horizontal its shoulders move mostly down as it tips. reach_trunk_per_knee is the rate at
    a 45° trunk (a wall point's); it grows no further past 80°, where 1/cos would have no bound.
    """
    trunk_rad = np.radians(np.minimum(trunk_deg, REACH_MAX_TRUNK_DEG))
    return s.reach_trunk_per_knee * np.cos(np.radians(REACH_REF_TRUNK_DEG)) / np.cos(trunk_rad)


def wall_drop(w: Rows, hips: HipPath, t_end: float, s: HingeSettings) -> float | None:
    """How far the hips came forward off the wall while the knees bent, L.

    Their robust furthest back (d0 + travel) minus their least travel (rolling medians over
    hip_smooth_s) from when the knees start bending past the wall point until they stop (the
    bottom; t_end at the latest); 0 where they never bend there (an RDL). The knees at the wall
    are their last sample up to it, and the bend starts after their last unbent sample: the
    plates may hide them all the way down, which is when the hips come forward.
    """
    if hips.travel_L < s.min_hip_travel_L:
        return None  # the hips never went back: no wall to leave (key 2 says so)
    t_wall = float(hips.t[hips.i_wall])
    kn = w.has(OK_KNEE) & w.within(t_wall - s.hold_s, t_end)
    if kn.sum() < 3:
        return None
    tk = w.t[kn]
    knee = rolling_median(tk, w.knee[kn], s.smooth_s / 2.0)
    i0 = max(int(np.searchsorted(tk, t_wall, side="right")) - 1, 0)
    bent = np.flatnonzero((knee >= float(knee[i0]) + s.knee_moving_deg) & (np.arange(len(tk)) > i0))
    if not bent.size:
        return 0.0
    after = w.has(OK_TRAVEL) & w.within(max(float(tk[bent[0] - 1]), t_wall), float(tk[int(np.argmax(knee))]))
    if after.sum() < 3:
        return 0.0
    least = float(rolling_median(w.t[after], w.travel[after], s.hip_smooth_s / 2.0).min())
    return hips.d0 + hips.travel_L - least


def knees_start(w: Rows, knee0: float | None, t_on: float, t_bottom: float, s: HingeSettings) -> float:
    """When the knee flexion first exceeds its onset value by knee_moving_deg (the bottom if never):
    the wall point of a descent whose hips never went back."""
    if knee0 is None:
        return t_bottom
    moving = w.has(OK_KNEE) & w.within(t_on, t_bottom) & (w.knee - knee0 > s.knee_moving_deg)
    return float(w.t[np.argmax(moving)]) if moving.any() else t_bottom
