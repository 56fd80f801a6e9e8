"""A side-on stick figure posed by the HINGE_SPEC quantities, for hand-made detector inputs."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from station.hinge._kernel import Kernel
from station.hinge._layout import pack_params
from station.settings.hinge import HingeSettings

F32 = npt.NDArray[np.float32]
W_PX, H_PX = 1280, 720


def pose(
    trunk_deg: float, knee_deg: float, travel_L: float, facing: int = 1,
    leg_px: float = 300.0, ankle_x_px: float = 640.0, floor_y_px: float = 680.0,
    width_px: int = W_PX, height_px: int = H_PX, score: float = 0.9,
) -> F32:  # fmt: skip
    """(17, 3) [y, x, score] normalised: ankles at ankle_x, hips travel_L legs behind them."""
    thigh, shank, torso = 0.5 * leg_px, 0.5 * leg_px, 0.62 * leg_px
    k = math.radians(knee_deg)
    lo, hi = math.radians(-40.0), math.radians(89.0)
    for _ in range(60):  # shank tilt beta: thigh*sin(k-beta) - shank*sin(beta) = travel (decreasing in beta)
        mid = 0.5 * (lo + hi)
        if thigh * math.sin(k - mid) - shank * math.sin(mid) > travel_L * leg_px:
            lo = mid
        else:
            hi = mid
    beta = 0.5 * (lo + hi)
    gamma = k - beta
    ax, ay = ankle_x_px, floor_y_px
    kx, ky = ax + facing * shank * math.sin(beta), ay - shank * math.cos(beta)
    hx, hy = kx - facing * thigh * math.sin(gamma), ky - thigh * math.cos(gamma)
    p = math.radians(trunk_deg)
    sx, sy = hx + facing * torso * math.sin(p), hy - torso * math.cos(p)
    ux, uy = facing * math.sin(p), -math.cos(p)  # up the trunk
    ex, ey = sx + 0.2 * leg_px * ux, sy + 0.2 * leg_px * uy
    fx, fy = facing * math.cos(p), math.sin(p)  # where the face points
    nx, ny = ex + 0.12 * leg_px * fx, ey + 0.12 * leg_px * fy
    wx, wy = sx, sy + 0.6 * leg_px
    pts = {0: (nx, ny), 1: (nx - 0.03 * leg_px * fx, ny - 0.03 * leg_px), 3: (ex, ey), 5: (sx, sy), 7: (sx, sy + 0.3 * leg_px),
           9: (wx, wy), 11: (hx, hy), 13: (kx, ky), 15: (ax, ay)}  # fmt: skip
    out = np.zeros((17, 3), dtype=np.float32)
    for i, (x, y) in pts.items():
        for j in (i, i + 1) if i else (0,):
            out[j] = (y / height_px, x / width_px, score)
    return out


def timeline(knots: list[tuple[float, float, float, float]], fps: float, **kw: object) -> tuple[F32, npt.NDArray[np.float64]]:
    """Frames at `fps` through knots (t_s, trunk_deg, knee_deg, travel_L), linearly interpolated."""
    arr = np.asarray(knots, dtype=np.float64)
    t = np.arange(arr[0, 0], arr[-1, 0], 1.0 / fps)
    cols = [np.interp(t, arr[:, 0], arr[:, c]) for c in (1, 2, 3)]
    frames = np.stack([pose(a, b, c, **kw) for a, b, c in zip(*cols)])  # type: ignore[arg-type]
    return frames, t


def rdl_knots(reps: int, soft_knee_deg: float = 15.0, t0: float = 1.0, fault: str = "good") -> list[tuple[float, float, float, float]]:
    """Stand, then `reps` RDLs (2 s down to the wall point, 0.3 s turn, 1.5 s up), then stand."""
    knee0 = 2.0 if fault == "locked" else soft_knee_deg
    knots = [(0.0, 3.0, 3.0, 0.0), (t0, 3.0, knee0, 0.02)]
    t = t0
    for _ in range(reps):
        if fault == "rounded":
            knots += [(t + 2.0, 70.0, knee0 + 3.0, 0.03)]
        elif fault == "arched":
            knots += [(t + 1.0, 12.0, knee0 + 2.0, 0.3), (t + 2.0, 70.0, knee0 + 4.0, 0.32)]
        elif fault == "early_knee_bend":
            knots += [(t + 2.0, 60.0, knee0 + 45.0, 0.3)]
        else:
            knots += [(t + 2.0, 70.0, knee0 + 4.0, 0.3)]
        knots += [(t + 2.3, 70.0, knee0 + 4.0, 0.3), (t + 3.8, 3.0, knee0, 0.02), (t + 4.5, 3.0, knee0, 0.02)]
        t += 4.5
    knots.append((t + 2.0, 3.0, knee0, 0.02))
    return knots


def trace_of(kernel: Kernel, kp: F32, t: npt.NDArray[np.float64], settings: HingeSettings | None = None) -> npt.NDArray[np.float64]:
    """The kernel's per-frame trace (TRACE_COLUMNS) over stick-figure frames of a W_PX x H_PX view."""
    core = kernel.Core(pack_params(settings or HingeSettings()), W_PX, H_PX)
    return kernel.run_batch(core, kp, t)[1]


FLOOR_BOTTOM = (70.0, 75.0, 0.25)  # trunk_deg, knee_deg, travel_L with the bar on the floor
LOCKOUT = (3.0, 12.0, 0.02)


def floor_knots(reps: int, lowered: bool, t0: float = 1.0, stand_s: float = 6.0) -> list[tuple[float, float, float, float]]:
    """Stand, bend to the bar on the floor, then `reps` pulls (1.2 s up), each lowered again (1.5 s down,
    0.5 s on the floor) except the last: set down and stood up from without the bar if `lowered`,
    else dropped from lockout. Then stand for stand_s."""
    knots = [(0.0, *LOCKOUT), (t0, *LOCKOUT), (t0 + 1.5, *FLOOR_BOTTOM), (t0 + 2.5, *FLOOR_BOTTOM)]
    t = t0 + 2.5
    for rep in range(reps):
        knots += [(t + 1.2, *LOCKOUT), (t + 2.2, *LOCKOUT)]
        t += 2.2
        if rep < reps - 1 or lowered:
            knots += [(t + 1.5, *FLOOR_BOTTOM), (t + 2.0, *FLOOR_BOTTOM)]
            t += 2.0
    if lowered:
        knots.append((t + 1.0, *LOCKOUT))
        t += 1.0
    knots.append((t + stand_s, *LOCKOUT))
    return knots
