"""Reps from the floor count once the bar goes back down (HINGE_SPEC: floor -> lockout -> floor):
a lifter who sets the last rep down and stands up without the bar has not done another rep.
Both kernels; floor_lowered_within_s = 0 restores counting at lockout, for a platform where
lifters drop the bar from lockout."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from station.commands.analyze import format_table
from station.hinge import analyze
from station.recording import Recording
from station.settings.hinge import HingeSettings
from stick import H_PX, W_PX, floor_knots, rdl_knots, timeline

FPS = 30.0
AT_LOCKOUT = replace(HingeSettings(), floor_lowered_within_s=0.0)


def _count(kp: npt.NDArray[np.float32], t: npt.NDArray[np.float64], settings: HingeSettings | None = None) -> int:
    return len(analyze(Recording(kp, t, W_PX, H_PX), settings)["reps"])


def test_standing_up_after_setting_the_bar_down_is_no_rep(use_kernel: Any) -> None:
    for reps in (1, 3):
        kp, t = timeline(floor_knots(reps, lowered=True), FPS)
        assert _count(kp, t) == reps
        assert _count(kp, t, AT_LOCKOUT) == reps + 1  # counted at lockout, the stand-up is one more


def test_a_bar_dropped_from_lockout_needs_the_setting(use_kernel: Any) -> None:
    kp, t = timeline(floor_knots(3, lowered=False), FPS)
    assert _count(kp, t, AT_LOCKOUT) == 3
    assert _count(kp, t) == 2  # the last pull was never lowered: what the setting is for


def test_a_last_lockout_left_uncounted_is_reported(use_kernel: Any) -> None:
    # A clip that ends before the last pull's bar goes back down: the result says so.
    kp, t = timeline(floor_knots(3, lowered=False), FPS)
    result = analyze(Recording(kp, t, W_PX, H_PX))
    t_last = analyze(Recording(kp, t, W_PX, H_PX), AT_LOCKOUT)["reps"][-1]["t_lockout"]
    assert result["lockout_not_lowered"] == t_last
    assert f"the lockout at {t_last:.2f} s is not counted" in format_table(result)
    assert analyze(Recording(kp, t, W_PX, H_PX), AT_LOCKOUT)["lockout_not_lowered"] is None
    lowered, t_lowered = timeline(floor_knots(3, lowered=True, stand_s=12.0), FPS)
    assert analyze(Recording(lowered, t_lowered, W_PX, H_PX))["lockout_not_lowered"] is None  # forgotten after 10 s


def test_rdls_count_at_lockout(use_kernel: Any) -> None:
    kp, t = timeline(rdl_knots(3), FPS)  # racked after the last rep: their bottoms are far off the floor
    assert _count(kp, t) == 3


def test_a_lean_after_standing_up_does_not_count_it(use_kernel: Any) -> None:
    kp, t = timeline(floor_knots(2, lowered=True, stand_s=8.0), FPS)
    # Two seconds after the stand-up the trunk is misread at up to 45° for 0.7 s (the shoulders and
    # head drawn up to a torso length ahead), while the shoulders stay at standing height.
    t_up = t[-1] - 8.0
    ahead = np.clip(np.minimum(t - t_up - 2.0, t_up + 2.7 - t) / 0.2, 0.0, 1.0) * 0.62 * 300.0 / W_PX
    out = kp.copy()
    out[:, :7, 1] += ahead[:, None].astype(np.float32)
    assert _count(out, t) == 2
    assert _count(out, t, replace(HingeSettings(), lowered_drop_L=0.0)) == 3  # the trunk alone is fooled


def test_a_stand_up_is_forgotten_after_floor_lowered_within_s(use_kernel: Any) -> None:
    first = floor_knots(2, lowered=True, stand_s=15.0)
    second = [(t + first[-1][0], *rest) for t, *rest in floor_knots(2, lowered=True)]
    kp, t = timeline(first + second[1:], FPS)
    assert _count(kp, t) == 4
    # Waited on for longer, the next set's first bend to the bar would count the stand-up.
    assert _count(kp, t, replace(HingeSettings(), floor_lowered_within_s=60.0)) == 5
