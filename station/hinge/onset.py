"""Where a graded descent starts: the hinge onset re-dated on the trace, the hips' path and wall
point, and the knee flexion held at onset (key 1).

The detector dates an onset frame by frame, as the last moment the trunk was within a few
degrees of a slowly followed lockout level: a trunk that sways above that level dates it
seconds early (before the knees unlock), a noisy one late. Grading sees the whole descent, so
it looks for the start of the final rise to the bottom instead.
"""

from __future__ import annotations

import numpy as np

from station.hinge._layout import OK_KNEE, OK_TRAVEL, OK_TRUNK
from station.hinge.robust import rolling_median
from station.hinge.rows import F64, HipPath, Rows
from station.settings.hinge import HingeSettings

HIPS_LOW_PCT = 10.0  # the hips' lowest is a low percentile: unlike the trunk, their keypoint can jump forward for a moment


def hinge_onset(w: Rows, t_start: float, t_bottom: float, s: HingeSettings) -> tuple[float, float]:
    """(chest onset, hinge onset): the last still moment before the trunk's final rise to the
    bottom; and before the hips' rise if they were already going back while the trunk was still
    (an arched hinge), else the chest's. The detector's onset where the trunk shows no rise."""
    before = w.t <= t_bottom
    trunk, tv = w.has(OK_TRUNK) & before, w.has(OK_TRAVEL) & before
    chest = _last_still(w.t[trunk], w.trunk[trunk], s.onset_rise_deg, s.onset_margin_deg, 0.0, s)
    t_chest = t_start if chest is None else chest[0]
    tv &= w.t >= t_chest - s.onset_lookback_s
    hips = _last_still(w.t[tv], w.travel[tv], s.onset_rise_L, s.onset_margin_L, HIPS_LOW_PCT, s)
    if hips is not None and hips[1] < t_chest:
        return t_chest, hips[0]
    return t_chest, t_chest


def _last_still(t: F64, x: F64, rise: float, margin: float, low_pct: float, s: HingeSettings) -> tuple[float, float] | None:
    """(last still moment, start of the rise) of x's final rise, None without one.

    The rise starts where the smoothed x last sat within `rise` of its lowest (its low_pct
    percentile); still = within `margin` of x's median level over the `onset_still_s` before
    that, or within twice that level's own jitter on a noisier clip.
    """
    if len(t) < 3:
        return None
    sm = rolling_median(t, x, s.smooth_s / 2.0)
    i_rise = int(np.flatnonzero(sm <= np.percentile(sm, low_pct) + rise)[-1])
    if i_rise == len(t) - 1:
        return None
    before = np.flatnonzero(t >= t[i_rise] - s.onset_still_s)
    before = before[before <= i_rise]
    level = float(np.median(sm[before]))
    jitter = 1.48 * float(np.median(np.abs(sm[before] - level)))  # a robust standard deviation
    still = before[sm[before] <= level + max(margin, 2.0 * jitter)]
    return float(t[still[-1]] if still.size else t[before[0]]), float(t[i_rise])


def hip_path(w: Rows, t_on: float, t_bottom: float, s: HingeSettings) -> HipPath | None:
    """Hips and trunk over the descent, smoothed, with the wall point; None if too few frames showed them."""
    span = w.within(t_on, t_bottom)
    both = w.has(OK_TRUNK | OK_TRAVEL) & span
    if not span.any() or np.mean(both[span]) < s.min_coverage or both.sum() < 3:
        return None
    t = w.t[both]
    half = s.smooth_s / 2.0
    trunk, travel = rolling_median(t, w.trunk[both], half), rolling_median(t, w.travel[both], half)
    # Lockout values: the low fifth before onset, as the hips may start back before the trunk
    # tips (an arched hinge) and an onset dated late must not shift either baseline.
    lockout = w.has(OK_TRUNK | OK_TRAVEL) & w.within(t_on - s.lockout_window_s, t_on)
    d0 = float(np.percentile(w.travel[lockout], 20.0)) if lockout.any() else float(travel[0])
    phi0 = float(np.percentile(w.trunk[lockout], 20.0)) if lockout.any() else float(trunk[0])
    path = HipPath(t, trunk, travel, d0, phi0, float(np.percentile(travel, 90.0)) - d0, len(t) - 1)
    i_wall = path.at(s.wall_frac)
    return path if i_wall is None else HipPath(t, trunk, travel, d0, phi0, path.travel_L, i_wall)


def knee_at_onset(w: Rows, t_on: float, t_wall: float, s: HingeSettings) -> float | None:
    """Key 1: knee flexion over the still moment before onset and the hinge's start, while the knees hold.

    The knees hold their angle from onset until the wall point, so the window runs to the wall
    (at most onset_max_s; at least onset_window_s unless the wall comes sooner) and stops early
    where they visibly start bending (knee_bend_deg beyond their first value): a longer window
    averages out more of MoveNet's knee jitter, and none reaches the knee bend of a floor pull.
    """
    # Knees do not bend backwards, and a lifter at onset stands (the detector's top_knee_deg):
    # flexion beyond either is a mislabelled knee.
    kn = w.has(OK_KNEE) & (w.knee >= -s.knee_hyperextension_deg) & (w.knee <= s.top_knee_deg)
    t_from, t_end = t_on - s.onset_pre_s, min(t_wall, t_on + s.onset_max_s)
    t_min = t_on + min(s.onset_window_s, max(t_end - t_on, s.smooth_s))
    first = w.median(w.knee, kn, t_from, t_min)
    if first is None:
        return w.median(w.knee, kn, t_from, t_end)
    later = kn & (w.t > t_min) & (w.t <= t_end)
    if later.sum() >= 3:
        bent = np.flatnonzero(rolling_median(w.t[later], w.knee[later], s.smooth_s / 2.0) >= first + s.knee_bend_deg)
        if bent.size:
            t_end = float(w.t[later][bent[0]])
    return w.median(w.knee, kn, t_from, max(t_end, t_min))
