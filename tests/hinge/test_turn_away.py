"""A set's first rep is dropped when the lifter, side-on at its lockout, turns to face the camera
within turn_away_s after it (someone who bent for a plate turns to walk off); a lifter who holds
the lockout and turns later keeps the rep, and one front-on frame (a label's jump) is no turn.
Both kernels."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from station.hinge import analyze
from station.recording import Recording
from station.settings.hinge import HingeSettings
from stick import H_PX, W_PX, rdl_knots, timeline

LEG_PX = 300.0
FPS = 30.0
FRONT_SPREAD_PX = 0.7 * 0.62 * LEG_PX  # shoulders and hips 0.7 torso lengths apart: seen from the front
TURN_S = 0.6  # from side-on to front-on


def one_bend() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64], float]:
    """One RDL-like bend, then 6 s standing on the spot; frames, times, the detected lockout."""
    knots = rdl_knots(1)
    knots.append((knots[-1][0] + 4.0, *knots[-1][1:]))
    kp, t = timeline(knots, FPS, leg_px=LEG_PX)
    reps = _reps(kp, t)
    assert len(reps) == 1  # standing still after it: a rep
    return kp, t, reps[0]["t_lockout"]


def _reps(kp: npt.NDArray[np.float32], t: npt.NDArray[np.float64]) -> list[dict[str, Any]]:
    return list(analyze(Recording(kp, t, W_PX, H_PX))["reps"])


def turned(kp: npt.NDArray[np.float32], t: npt.NDArray[np.float64], from_s: float) -> npt.NDArray[np.float32]:
    """The same frames, the lifter turning from side-on at from_s to front-on TURN_S later, and staying so."""
    out = kp.copy()
    half = (0.5 * np.clip((t - from_s) / TURN_S, 0.0, 1.0) * FRONT_SPREAD_PX / W_PX)[:, None].astype(np.float32)
    out[:, [5, 11], 1] -= half  # about the body's middle, which stays put
    out[:, [6, 12], 1] += half
    return out


def test_turning_round_right_after_standing_up_drops_the_rep(use_kernel: Any) -> None:
    kp, t, t_lockout = one_bend()
    # Front-on about 0.9 s after the lockout, feet still on the spot: a plate picked up.
    assert _reps(turned(kp, t, t_lockout + 0.5), t) == []


def test_turning_round_after_holding_the_lockout_keeps_the_rep(use_kernel: Any) -> None:
    kp, t, t_lockout = one_bend()
    # Front-on only after turn_away_s: the bar was lowered or dropped first.
    from_s = t_lockout + HingeSettings().turn_away_s - TURN_S + 0.4
    assert len(_reps(turned(kp, t, from_s), t)) == 1


def test_one_front_on_frame_is_no_turn(use_kernel: Any) -> None:
    kp, t, t_lockout = one_bend()
    glitch = kp.copy()
    i = int(np.searchsorted(t, t_lockout + 0.5))
    glitch[i, [6, 12], 1] += FRONT_SPREAD_PX / W_PX  # the far labels jump across for a frame
    assert len(_reps(glitch, t)) == 1
