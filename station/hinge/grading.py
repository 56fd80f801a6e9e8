"""Grading of the three keys on one rep's descent (HINGE_SPEC "The three keys"); runs once per rep.

`measures.measure` turns the descent's trace into numbers; `judge` compares them with the
thresholds of HingeSettings. Each key gets ok True / False / None (None: the view or the
visibility did not allow a judgement), a value, a fault name when it fails, and the seed's cue.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from station.hinge.measures import DescentMeasures, measure
from station.settings.hinge import HingeSettings
from station.types import KeyGrade

CUE_UNLOCK = "Unlock your knees before you hinge."
CUE_TOGETHER = "Hips to wall, face to table."
CUE_ROUNDED = "Karate chop at the waist: send your hips back."
CUE_ARCHED = "Close the gap between your abs and thigh: let your chest come down as your hips go back."
CUE_WALL = "Slide your rear down the wall."
CUE_EARLY = "Push your hips back first, then bend the knees: slide your rear down the wall."
CUE_REACH = "Bend the knees, not the lower back: slide your rear down the wall."
CUE_LEAVE = "Keep your hips back while the knees bend: slide your rear down the wall."
NOT_SIDE_ON = "not side-on: film from the side to grade this key"


def grade_rep(trace: npt.NDArray[np.float64], t_start: float, t_bottom: float, s: HingeSettings) -> dict[str, KeyGrade]:
    """Grade the descent from hinge onset to bottom."""
    return judge(measure(trace, t_start, t_bottom, s), s)


def judge(m: DescentMeasures, s: HingeSettings) -> dict[str, KeyGrade]:
    """The three KeyGrades from the measures."""
    if not m.side_on:
        return {
            "unlock_knees": KeyGrade(None, None, CUE_UNLOCK, reason=NOT_SIDE_ON),
            "hips_back_chest_down": KeyGrade(None, None, CUE_TOGETHER, reason=NOT_SIDE_ON),
            "knees_after_hips": KeyGrade(None, None, CUE_WALL, reason=NOT_SIDE_ON),
        }
    together = judge_together(m, s)
    return {
        "unlock_knees": judge_unlock(m, s),
        "hips_back_chest_down": together,
        # An arched hinge brings the chest down after the hips stop, a rounded one never reaches
        # the wall: both tip the trunk on their own, key 2's fault, not a reach after the wall.
        "knees_after_hips": judge_knees_after(m, s, judge_reach=together.fault not in ("arched", "rounded")),
    }


def judge_unlock(m: DescentMeasures, s: HingeSettings) -> KeyGrade:
    """Key 1: knees soft at hinge onset."""
    if m.knee_onset_deg is None:
        return KeyGrade(None, None, CUE_UNLOCK, reason="knees not visible at hinge onset")
    soft = m.knee_onset_deg >= s.unlock_min_deg
    return KeyGrade(soft, round(m.knee_onset_deg, 1), CUE_UNLOCK, None if soft else "locked")


def judge_together(m: DescentMeasures, s: HingeSettings) -> KeyGrade:
    """Key 2: hips back and chest down together; value = sync gap (> 0 chest leads)."""
    if m.sync_gap is None or m.hip_travel_L is None or m.trunk_to_wall_deg is None:
        return KeyGrade(None, None, CUE_TOGETHER, reason="hips or shoulders not visible enough in the descent")
    gap = round(m.sync_gap, 3)
    if m.hip_travel_L < s.min_hip_travel_L or m.sync_gap > s.sync_max_gap:
        return KeyGrade(False, gap, CUE_ROUNDED, "rounded")
    if m.trunk_to_wall_deg < s.min_wall_trunk_deg or m.sync_gap < -s.sync_max_gap:
        return KeyGrade(False, gap, CUE_ARCHED, "arched")
    return KeyGrade(True, gap, CUE_TOGETHER)


def judge_knees_after(m: DescentMeasures, s: HingeSettings, judge_reach: bool = True) -> KeyGrade:
    """Key 3: the worst of early knee bend, back reach and leaving the wall, each against its
    threshold. A part that was measured and over its threshold fails the key even where another
    could not be measured; passing needs the early knee bend measured."""
    faults = []
    if m.early_knee_deg is not None:
        faults.append(("early_knee_bend", m.early_knee_deg, s.early_knee_deg, CUE_EARLY))
    if judge_reach and m.back_reach_deg is not None:
        faults.append(("back_reach", m.back_reach_deg, s.back_reach_deg, CUE_REACH))
    if m.wall_drop_L is not None:
        faults.append(("leaves_wall", m.wall_drop_L, s.leave_wall_L, CUE_LEAVE))
    if faults:
        fault, value, limit, cue = max(faults, key=lambda f: f[1] / f[2])
        if value > limit:
            return KeyGrade(False, round(value, 3), cue, fault)
    if m.early_knee_deg is None:
        if m.hip_travel_L is not None and m.hip_travel_L < s.min_hip_travel_L:
            return KeyGrade(None, None, CUE_WALL, reason="the hips never went back: no wall point to bend the knees after")
        return KeyGrade(None, None, CUE_WALL, reason="knees not visible enough in the descent")
    return KeyGrade(True, round(m.early_knee_deg, 1), CUE_WALL)
