"""Lifting kinematics: (knee flexion, hip travel, trunk angle) over time -> a Pose with the ankles on the floor."""

from __future__ import annotations

import numpy as np

from station.sim.body import F64, Body, Pose, leg_chain
from station.sim.track import Track

BAR_RADIUS_M = 0.225  # a 45 cm bumper plate: the bar's height on the floor


def solve_thigh(body: Body, kappa_deg: F64, d_leg: F64) -> F64:
    """Thigh angle (knee ahead of hip) giving knee flexion kappa and hips d leg lengths behind the ankle."""
    k = np.radians(kappa_deg)
    target = d_leg * body.leg_m
    theta = k / 2.0 + np.arcsin(np.clip(target / body.leg_m, -0.9, 0.9))
    for _ in range(12):  # Newton: f is monotone in theta over the reachable range
        f = body.thigh_m * np.sin(theta) - body.shank_m * np.sin(k - theta) - target
        df = body.thigh_m * np.cos(theta) + body.shank_m * np.cos(k - theta)
        theta = np.clip(theta - f / np.maximum(df, 0.2 * body.leg_m), np.radians(-40.0), np.radians(100.0))
    return np.degrees(theta)


def arm_angle(body: Body, shoulder_x: F64, knee_x: F64) -> F64:
    """Arms hang from the shoulders to a bar kept over mid-foot and never inside the knees."""
    bar_x = np.maximum(0.045 * body.height_m, knee_x + 0.045 * body.height_m)
    sin_a = np.clip((bar_x - shoulder_x) / body.arm_m, -0.42, 0.42)  # within ±25° of vertical
    return np.degrees(np.arcsin(sin_a))


def lift_pose(body: Body, kappa_deg: F64, d_leg: F64, trunk_deg: F64, head_deg: F64, root_x_m: float, yaw_deg: float) -> Pose:
    """Both legs alike (symmetric stance), ankles fixed at root_x_m, arms holding the bar."""
    n = kappa_deg.shape[0]
    thigh = solve_thigh(body, kappa_deg, d_leg)
    shank = thigh - kappa_deg
    hip_x, hip_y = leg_chain(body, thigh, shank)
    knee_x = hip_x + body.thigh_m * np.sin(np.radians(thigh))
    shoulder_x = hip_x + body.trunk_m * np.sin(np.radians(trunk_deg))
    arm = arm_angle(body, shoulder_x, knee_x)
    return Pose(
        root_x_m=np.full(n, root_x_m),
        yaw_deg=np.full(n, yaw_deg),
        hip_x_m=hip_x,
        hip_y_m=hip_y,
        thigh_deg=np.stack([thigh, thigh], axis=1),
        shank_deg=np.stack([shank, shank], axis=1),
        trunk_deg=trunk_deg,
        head_deg=head_deg,
        arm_deg=np.stack([arm, arm], axis=1),
        elbow_deg=np.zeros((n, 2)),
        present=np.ones(n, dtype=bool),
    )


def wrist_height(body: Body, kappa_deg: F64, d_leg: F64, trunk_deg: F64) -> F64:
    """Wrist height above the floor for lifting poses (to put the bar on the floor at the bottom)."""
    z = np.zeros_like(kappa_deg)
    pose = lift_pose(body, kappa_deg, d_leg, trunk_deg, z, 0.0, 0.0)
    shoulder_y = pose.hip_y_m + body.trunk_m * np.cos(np.radians(trunk_deg))
    return shoulder_y - body.arm_m * np.cos(np.radians(pose.arm_deg[:, 0]))


def floor_knee(body: Body, d_leg: float, trunk_deg: float) -> float:
    """Knee flexion that brings the bar to the floor for this hip travel and trunk angle."""
    kappa = np.arange(20.0, 125.0, 0.5)
    wrist = wrist_height(body, kappa, np.full_like(kappa, d_leg), np.full_like(kappa, trunk_deg))
    target = BAR_RADIUS_M + 0.04 * body.height_m  # the wrist sits above the bar by half a hand
    return float(kappa[int(np.argmin(np.abs(wrist - target)))])


def sway(rng: np.random.Generator, t_s: F64, amplitude: float) -> F64:
    """Slow postural sway: a few random sinusoids between 0.1 and 0.8 Hz."""
    out = np.zeros_like(t_s)
    for _ in range(3):
        out += np.sin(2 * np.pi * rng.uniform(0.1, 0.8) * t_s + rng.uniform(0, 2 * np.pi))
    return amplitude * out / np.sqrt(3.0)


def track_pose(body: Body, track: Track, t_s: F64, rng: np.random.Generator, root_x_m: float, yaw_deg: float) -> Pose:
    """Evaluate a lifting track (channels kappa, d, phi) with a little sway, at the frame times."""
    kappa = track.evaluate("kappa", t_s)
    d = track.evaluate("d", t_s) + sway(rng, t_s, 0.004)
    phi = track.evaluate("phi", t_s) + sway(rng, t_s, 0.6)
    head = float(rng.uniform(0.15, 0.45)) * phi + float(rng.uniform(0.0, 6.0))
    return lift_pose(body, kappa, d, phi, head, root_x_m, yaw_deg)
