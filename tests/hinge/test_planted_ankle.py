"""At the bar the knee angle and the hips' travel use the planted ankle (the mean of its track),
not the frame's jittery point; a step starts that mean again. Both kernels."""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from station.hinge._kernel import Kernel
from station.hinge._layout import KNEE_COL, PH_TOP, PHASE_COL, T_COL
from station.settings.hinge import HingeSettings
from stick import H_PX, W_PX, pose, trace_of

LEG_PX = 300.0
KNEE_DEG = 15.0
FPS = 30.0
ANKLES = [15, 16]


def standing(seconds: float, step_at_s: float | None = None, step_L: float = 0.0, seed: int = 3) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]:
    """A lifter standing with soft knees, the ankle keypoints jittering by ~1.5% of L (MoveNet's
    ankle behind the plates); from step_at_s on the whole body stands step_L further right."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, seconds, 1.0 / FPS)
    frames = []
    for ti in t:
        shift = step_L * LEG_PX if step_at_s is not None and ti >= step_at_s else 0.0
        kp = pose(3.0, KNEE_DEG, 0.02, leg_px=LEG_PX, ankle_x_px=640.0 + shift)
        kp[ANKLES, 0] += rng.normal(0.0, 0.015 * LEG_PX / H_PX)
        kp[ANKLES, 1] += rng.normal(0.0, 0.015 * LEG_PX / W_PX)
        frames.append(kp)
    return np.stack(frames), t


def test_the_planted_ankle_steadies_the_knee_angle(kernel: Kernel) -> None:
    kp, t = standing(8.0)
    planted = trace_of(kernel, kp, t, HingeSettings())
    per_frame = trace_of(kernel, kp, t, dataclasses.replace(HingeSettings(), ankle_rest_s=1e-9))
    at_top = (planted[:, PHASE_COL] == PH_TOP) & (planted[:, T_COL] > 3.0)
    assert at_top.sum() > 100
    spread, spread_per_frame = np.std(planted[at_top, KNEE_COL]), np.std(per_frame[at_top, KNEE_COL])
    assert spread < 0.5 * spread_per_frame, (spread, spread_per_frame)
    assert abs(np.median(planted[at_top, KNEE_COL]) - KNEE_DEG) < 1.5


def test_a_stance_change_starts_the_mean_again(kernel: Kernel) -> None:
    kp, t = standing(9.0, step_at_s=5.0, step_L=0.15)
    after = (t > 6.0) & (t < 7.0)  # a second after the step (well within ankle_rest_s's reach)
    restarted = trace_of(kernel, kp, t, HingeSettings())
    dragged = trace_of(kernel, kp, t, dataclasses.replace(HingeSettings(), stance_change_L=10.0))
    assert np.all(restarted[after, PHASE_COL] == PH_TOP)
    assert np.max(np.abs(restarted[after, KNEE_COL] - KNEE_DEG)) < 4.0
    # Without the restart the mean would still lag behind the old spot: the knee reads wrong.
    assert np.max(np.abs(dragged[after, KNEE_COL] - KNEE_DEG)) > 8.0
