"""Grading of the three keys on one rep's descent (HINGE_SPEC "The three keys"); runs once per rep.

Input is the per-frame trace of the core (TRACE_COLUMNS) over the descent, from hinge onset
`t_start` to the bottom. Output: one KeyGrade per key, `ok` None when the view or the
visibility does not allow a judgement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from station.hinge._layout import KNEE_COL, OK_COL, OK_KNEE, OK_SIDE, OK_TRAVEL, OK_TRUNK, T_COL, TRAVEL_COL, TRUNK_COL
from station.settings.hinge import HingeSettings
from station.types import KeyGrade

F64 = npt.NDArray[np.float64]

CUE_UNLOCK = "Unlock your knees before you hinge."
CUE_TOGETHER = "Hips to wall, face to table."
CUE_ROUNDED = "Karate chop at the waist: send your hips back."
CUE_ARCHED = "Close the gap between your abs and thigh: let your chest come down as your hips go back."
CUE_WALL = "Slide your rear down the wall."
CUE_EARLY = "Push your hips back first, then bend the knees: slide your rear down the wall."
CUE_REACH = "Bend the knees, not the lower back: slide your rear down the wall."
CUE_LEAVE = "Keep your hips back while the knees bend: slide your rear down the wall."
NOT_SIDE_ON = "not side-on: film from the side to grade this key"


@dataclass(frozen=True)
class Descent:
    """The trace of one descent as columns; `pre` holds the samples around onset."""

    t: F64
    trunk: F64
    knee: F64
    travel: F64
    ok: npt.NDArray[np.int64]

    @classmethod
    def cut(cls, trace: F64, t_from: float, t_to: float) -> Descent:
        rows = trace[(trace[:, T_COL] >= t_from) & (trace[:, T_COL] <= t_to)]
        return cls(rows[:, T_COL], rows[:, TRUNK_COL], rows[:, KNEE_COL], rows[:, TRAVEL_COL], rows[:, OK_COL].astype(np.int64))

    def has(self, bits: int) -> npt.NDArray[np.bool_]:
        return (self.ok & bits) == bits


def grade_rep(trace: F64, t_start: float, t_bottom: float, s: HingeSettings) -> dict[str, KeyGrade]:
    """Grade the descent from hinge onset to bottom; every key gets ok True/False/None."""
    half = s.onset_window_s / 2.0
    around = Descent.cut(trace, t_start - half, t_start + half)
    d = Descent.cut(trace, t_start, t_bottom)
    if len(d.t) == 0 or np.mean(d.has(OK_SIDE)) < 0.5:
        reason = NOT_SIDE_ON if len(d.t) else "no frames in the descent"
        return {
            "unlock_knees": KeyGrade(None, None, CUE_UNLOCK, reason=reason),
            "hips_back_chest_down": KeyGrade(None, None, CUE_TOGETHER, reason=reason),
            "knees_after_hips": KeyGrade(None, None, CUE_WALL, reason=reason),
        }
    knee0 = _onset_value(around.knee, around.has(OK_KNEE), d.knee, d.has(OK_KNEE))
    keys = {"unlock_knees": grade_unlock(knee0, s)}
    keys.update(_grade_path(d, knee0, s))
    return keys


def _onset_value(near: F64, near_ok: npt.NDArray[np.bool_], later: F64, later_ok: npt.NDArray[np.bool_]) -> float | None:
    """Median over the onset window; failing that, the first measured sample of the descent's first frames."""
    if near_ok.any():
        return float(np.median(near[near_ok]))
    first = later[:4][later_ok[:4]]
    return float(first[0]) if len(first) else None


def grade_unlock(knee0_deg: float | None, s: HingeSettings) -> KeyGrade:
    """Key 1: knees soft at hinge onset."""
    if knee0_deg is None:
        return KeyGrade(None, None, CUE_UNLOCK, reason="knees not visible at hinge onset")
    return KeyGrade(bool(knee0_deg >= s.unlock_min_deg), round(knee0_deg, 1), CUE_UNLOCK, None if knee0_deg >= s.unlock_min_deg else "locked")


def _grade_path(d: Descent, knee0: float | None, s: HingeSettings) -> dict[str, KeyGrade]:
    """Keys 2 and 3 share the wall point: where the hips stop travelling back."""
    both = d.has(OK_TRUNK | OK_TRAVEL)
    if np.mean(both) < s.min_coverage or both.sum() < 3:
        why = "hips or shoulders not visible enough in the descent"
        return {
            "hips_back_chest_down": KeyGrade(None, None, CUE_TOGETHER, reason=why),
            "knees_after_hips": KeyGrade(None, None, CUE_WALL, reason=why),
        }
    t, phi, dd = d.t[both], d.trunk[both], d.travel[both]
    d0 = float(np.median(dd[t <= t[0] + s.onset_window_s]))
    travel = float(np.max(dd)) - d0
    if travel >= s.min_hip_travel_L:
        i_wall = int(np.argmax(dd >= d0 + s.wall_frac * travel))
        t_wall = float(t[i_wall])
    else:  # the hips never left: no wall point; the knees start bending wherever they do
        i_wall = len(t) - 1
        t_wall = _knees_start(d, knee0, s) if knee0 is not None else float(t[-1])
    together = grade_together(phi[: i_wall + 1], dd[: i_wall + 1], travel, s)
    # An arched hinge brings the chest down after the hips stop: that is its own fault, not a reach.
    knees = grade_knees_after(d, t_wall, knee0, s, judge_reach=together.fault != "arched")
    return {"hips_back_chest_down": together, "knees_after_hips": knees}


def _knees_start(d: Descent, knee0: float, s: HingeSettings) -> float:
    """When the knee flexion first exceeds its onset value by knee_moving_deg (the descent's end if never)."""
    moving = d.has(OK_KNEE) & (d.knee - knee0 > s.knee_moving_deg)
    return float(d.t[np.argmax(moving)]) if moving.any() else float(d.t[-1])


def grade_together(phi: F64, dd: F64, travel_L: float, s: HingeSettings) -> KeyGrade:
    """Key 2: hips back and chest down progress together up to the wall point.

    value = mean(chest progress - hips progress), each normalised by its own range (floored
    at the minimum real movement): > 0 the chest leads (rounded), < 0 the hips lead (arched).
    """
    phi_range = max(float(phi[-1] - phi[0]), s.min_wall_trunk_deg)
    d_range = max(float(dd[-1] - dd[0]), s.min_hip_travel_L)
    p_phi = np.clip((phi - phi[0]) / phi_range, 0.0, 1.0)
    p_d = np.clip((dd - dd[0]) / d_range, 0.0, 1.0)
    gap = float(np.mean(p_phi - p_d))
    if travel_L < s.min_hip_travel_L or gap > s.sync_max_gap:
        return KeyGrade(False, round(gap, 3), CUE_ROUNDED, "rounded")
    if float(phi[-1] - phi[0]) < s.min_wall_trunk_deg or gap < -s.sync_max_gap:
        return KeyGrade(False, round(gap, 3), CUE_ARCHED, "arched")
    return KeyGrade(True, round(gap, 3), CUE_TOGETHER)


def grade_knees_after(d: Descent, t_wall: float, knee0: float | None, s: HingeSettings, judge_reach: bool = True) -> KeyGrade:
    """Key 3: no knee bend before the wall point; after it, only the knees, with the hips on the wall.

    early knee bend: flexion at the wall point minus at onset (deg); back reach: trunk tipping
    between the wall point and the knees starting to bend (deg); leaving the wall: hip travel
    lost from the wall point to the bottom (L).
    """
    kn = d.has(OK_KNEE)
    if knee0 is None or np.mean(kn) < s.min_coverage or kn.sum() < 3:
        return KeyGrade(None, None, CUE_WALL, reason="knees not visible enough in the descent")
    knee_wall = _near(d, d.knee, kn, t_wall, s)
    early = knee_wall - knee0
    trunk_ok, travel_ok = d.has(OK_TRUNK), d.has(OK_TRAVEL)
    reach = leave = 0.0
    if judge_reach and trunk_ok.any():
        moving = kn & (d.t > t_wall) & (d.knee - knee_wall > s.knee_moving_deg)
        t_knees = float(d.t[np.argmax(moving)]) if moving.any() else float(d.t[-1])
        still = trunk_ok & (d.t >= t_wall) & (d.t <= t_knees)
        if still.any():
            reach = float(np.max(d.trunk[still])) - _near(d, d.trunk, trunk_ok, t_wall, s)
    if travel_ok.any():
        leave = _near(d, d.travel, travel_ok, t_wall, s) - _near(d, d.travel, travel_ok, float(d.t[-1]), s)
    # The worst fault relative to its own threshold names the grade.
    scores = {
        "early_knee_bend": (early / s.early_knee_deg, early, CUE_EARLY),
        "back_reach": (reach / s.back_reach_deg, reach, CUE_REACH),
        "leaves_wall": (leave / s.leave_wall_L, leave, CUE_LEAVE),
    }
    fault, (ratio, value, cue) = max(scores.items(), key=lambda kv: kv[1][0])
    if ratio > 1.0:
        return KeyGrade(False, round(value, 3), cue, fault)
    return KeyGrade(True, round(early, 1), CUE_WALL)


def _near(d: Descent, col: F64, ok: npt.NDArray[np.bool_], t_at: float, s: HingeSettings) -> float:
    """Median of a measured column within the onset window of a moment (its nearest sample if none)."""
    near = ok & (np.abs(d.t - t_at) <= s.onset_window_s / 2.0)
    if near.any():
        return float(np.median(col[near]))
    idx = np.flatnonzero(ok)
    return float(col[idx[np.argmin(np.abs(d.t[idx] - t_at))]])
