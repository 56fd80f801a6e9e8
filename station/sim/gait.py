"""Movements that are not reps: walking, turning, standing about, bending once for a plate."""

from __future__ import annotations

import numpy as np

from station.sim.body import F64, Body, Pose, leg_chain
from station.sim.lift import floor_knee, track_pose
from station.sim.reps import CHANNELS, hold_all, standing
from station.sim.track import Track, pchip


def lifting_yaw(facing: int, yaw_deg: float) -> float:
    """Body yaw for a lifter facing image-right (+1) or -left (-1), turned yaw_deg toward the camera."""
    return -yaw_deg if facing > 0 else 180.0 + yaw_deg


def walk(body: Body, rng: np.random.Generator, t_s: F64, duration_s: float, x_from: float, x_to: float) -> Pose:
    """Walk forward from x_from to x_to (world metres), starting and ending at a standstill."""
    n = t_s.shape[0]
    u = np.clip(t_s / duration_s, 0.0, 1.0)
    root = x_from + (x_to - x_from) * pchip(np.array([0.0, 0.15, 0.85, 1.0]), np.array([0.0, 0.1, 0.9, 1.0]), u)
    amp = np.clip(np.minimum(t_s, duration_s - t_s) / 0.6, 0.0, 1.0)  # gait fades in and out
    stride_s = float(rng.uniform(1.0, 1.2))
    phase = 2 * np.pi * t_s / stride_s + float(rng.uniform(0, 2 * np.pi))
    thigh = np.stack([2.0 + amp * 22.0 * np.sin(phase + k * np.pi) for k in (0, 1)], axis=1)
    kappa = np.stack([5.0 + amp * 50.0 * np.maximum(0.0, np.sin(phase + k * np.pi + 1.2)) ** 2 for k in (0, 1)], axis=1)
    shank = thigh - kappa
    hip_y = np.max(np.stack([leg_chain(body, thigh[:, k], shank[:, k])[1] for k in (0, 1)], axis=1), axis=1)
    arm = np.stack([-amp * 15.0 * np.sin(phase + k * np.pi) for k in (0, 1)], axis=1)
    return Pose(
        root_x_m=root,
        yaw_deg=np.full(n, 0.0 if x_to >= x_from else 180.0),
        hip_x_m=np.zeros(n),
        hip_y_m=hip_y,
        thigh_deg=thigh,
        shank_deg=shank,
        trunk_deg=4.0 + 1.5 * np.sin(2 * phase),
        head_deg=np.full(n, 5.0),
        arm_deg=arm,
        elbow_deg=np.full((n, 2), 12.0),
        present=np.ones(n, dtype=bool),
    )


def stand_still(body: Body, rng: np.random.Generator, t_s: F64, duration_s: float, start: dict[str, float],
                root_x_m: float, yaw_from: float, yaw_to: float, dip: bool = False) -> Pose:
    """Stand (turning from yaw_from to yaw_to in the first second), shifting weight; maybe one partial dip."""
    track = Track()
    for ch in CHANNELS:
        track.add(ch, 0.0, start[ch])
    t = 0.0
    while t < duration_s:
        t = min(t + float(rng.uniform(2.0, 8.0)), duration_s)
        if dip and t < duration_s - 3.0 and rng.random() < 0.3:  # a partial dip well short of a rep's bottom
            dip = False
            hold_all(track, t)
            track.add("phi", t + 1.0, float(rng.uniform(15.0, 28.0)))
            track.add("kappa", t + 1.0, float(rng.uniform(8.0, 20.0)))
            track.add("d", t + 1.0, float(rng.uniform(0.03, 0.1)))
            t += 2.0
        values = standing(rng)
        for ch in CHANNELS:
            track.add(ch, t, values[ch])
    pose = track_pose(body, track, t_s, rng, root_x_m, yaw_to)
    pose.yaw_deg = yaw_from + (yaw_to - yaw_from) * pchip(np.array([0.0, 1.0]), np.array([0.0, 1.0]), t_s)
    pose.arm_deg = pose.arm_deg * 0.3  # no bar: the arms hang loosely
    return pose


def plate_pickup(body: Body, rng: np.random.Generator, t_s: F64, duration_s: float, root_x_m: float, yaw_deg: float) -> Pose:
    """Bend once to the floor for a plate and stand up again (no pause at the top: walks off next)."""
    track = Track()
    top = standing(rng)
    for ch in CHANNELS:
        track.add(ch, 0.0, top[ch])
    t_down = float(rng.uniform(0.3, 0.8))
    t_bottom = t_down + float(rng.uniform(0.8, 1.5))
    d_b, phi_b = float(rng.uniform(0.05, 0.22)), float(rng.uniform(60.0, 85.0))
    hold_all(track, t_down)
    track.add("d", t_bottom, d_b)
    track.add("phi", t_bottom, phi_b)
    track.add("kappa", t_bottom, floor_knee(body, d_b, phi_b) + 10.0)
    hold_all(track, t_bottom + float(rng.uniform(0.3, 1.0)))
    end = standing(rng)
    for ch in CHANNELS:
        track.add(ch, duration_s - 0.2, end[ch])
    return track_pose(body, track, t_s, rng, root_x_m, yaw_deg)
