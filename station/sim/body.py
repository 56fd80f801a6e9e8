"""Body model: anthropometric segment lengths, joint angles -> MoveNet's 17 points, camera projection."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

# Winter, "Biomechanics and Motor Control of Human Movement" (4th ed.), segment lengths / body height.
WINTER = {"ankle_h": 0.039, "shank": 0.246, "thigh": 0.245, "trunk": 0.288, "upper_arm": 0.186, "forearm": 0.146}


@dataclass(frozen=True)
class Body:
    """One person's segment lengths in metres (Winter's ratios, each varied by a few percent)."""

    height_m: float
    ankle_h_m: float
    shank_m: float
    thigh_m: float
    trunk_m: float
    upper_arm_m: float
    forearm_m: float
    leg_half_m: float  # lateral offset of hips, knees and ankles (hip-width stance)
    shoulder_half_m: float

    @classmethod
    def random(cls, rng: np.random.Generator, height_m: float | None = None) -> Body:
        """A body 1.5-2.0 m tall whose segments deviate from Winter's ratios by ~3 %."""
        h = float(rng.uniform(1.5, 2.0)) if height_m is None else height_m
        seg = {k: h * v * float(np.clip(rng.normal(1.0, 0.03), 0.92, 1.08)) for k, v in WINTER.items()}
        return cls(
            height_m=h,
            ankle_h_m=seg["ankle_h"],
            shank_m=seg["shank"],
            thigh_m=seg["thigh"],
            trunk_m=seg["trunk"],
            upper_arm_m=seg["upper_arm"],
            forearm_m=seg["forearm"],
            leg_half_m=h * float(rng.uniform(0.075, 0.09)),
            shoulder_half_m=h * float(rng.uniform(0.12, 0.135)),
        )

    @property
    def leg_m(self) -> float:
        """HINGE_SPEC's L: hip-knee plus knee-ankle."""
        return self.thigh_m + self.shank_m

    @property
    def arm_m(self) -> float:
        return self.upper_arm_m + self.forearm_m


@dataclass
class Pose:
    """Joint angles and placement per frame; angles in degrees, forward-positive, from vertical."""

    root_x_m: F64  # world x of the body origin (ankles while lifting, under the pelvis while walking)
    yaw_deg: F64  # 0: faces image-right, right side to the camera; 180: faces left; -90: faces the camera
    hip_x_m: F64  # hip centre relative to the origin, along the facing direction
    hip_y_m: F64  # hip centre above the floor
    thigh_deg: F64  # (T, 2) left, right: knee ahead of the hip
    shank_deg: F64  # (T, 2) ankle ahead of the knee; knee flexion = thigh - shank
    trunk_deg: F64  # hip->shoulder from vertical: 0 upright, 90 horizontal
    head_deg: F64  # neck extension relative to the trunk (looking ahead)
    arm_deg: F64  # (T, 2) shoulder->elbow, forward of vertical
    elbow_deg: F64  # (T, 2) elbow flexion
    present: npt.NDArray[np.bool_]  # False: nobody in the scene

    @property
    def n(self) -> int:
        return int(self.root_x_m.shape[0])

    @staticmethod
    def concat(parts: list[Pose]) -> Pose:
        """Join consecutive pieces of a timeline."""
        return Pose(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Pose)})

    @staticmethod
    def empty(n: int) -> Pose:
        """Nobody there: a standing pose far outside the frame."""
        z, z2 = np.zeros(n), np.zeros((n, 2))
        return Pose(z - 1e3, z, z, z + 1.0, z2, z2, z, z, z2, z2, np.zeros(n, dtype=bool))


def leg_chain(body: Body, thigh_deg: F64, shank_deg: F64) -> tuple[F64, F64]:
    """Hip position above the ankle (x forward, y up) for one leg's angles."""
    a, b = np.radians(thigh_deg), np.radians(shank_deg)
    x = -(body.thigh_m * np.sin(a) + body.shank_m * np.sin(b))
    y = body.ankle_h_m + body.thigh_m * np.cos(a) + body.shank_m * np.cos(b)
    return x, y


def skeleton(body: Body, pose: Pose) -> F64:
    """(T, 17, 3) body-frame points: x forward, y up, z to the lifter's right."""
    n, h = pose.n, body.height_m
    out = np.zeros((n, 17, 3))
    hip = np.stack([pose.hip_x_m, pose.hip_y_m], axis=1)

    def along(deg: F64) -> F64:
        r = np.radians(deg)
        return np.stack([np.sin(r), -np.cos(r)], axis=-1)  # downward unit vector tilted forward by deg

    for side, z in ((0, -1.0), (1, 1.0)):
        knee = hip + body.thigh_m * along(pose.thigh_deg[:, side])
        ankle = knee + body.shank_m * along(pose.shank_deg[:, side])
        for idx, pt in ((11, hip), (13, knee), (15, ankle)):
            out[:, idx + side, :2] = pt
            out[:, idx + side, 2] = z * body.leg_half_m
    trunk = np.radians(pose.trunk_deg)
    shoulder = hip + body.trunk_m * np.stack([np.sin(trunk), np.cos(trunk)], axis=1)
    for side, z in ((0, -1.0), (1, 1.0)):
        elbow = shoulder + body.upper_arm_m * along(pose.arm_deg[:, side])
        wrist = elbow + body.forearm_m * along(pose.arm_deg[:, side] + pose.elbow_deg[:, side])
        for idx, pt in ((5, shoulder), (7, elbow), (9, wrist)):
            out[:, idx + side, :2] = pt
            out[:, idx + side, 2] = z * body.shoulder_half_m * (1.0 if idx == 5 else 0.9)
    neck = np.radians(pose.trunk_deg - pose.head_deg)
    u = np.stack([np.sin(neck), np.cos(neck)], axis=1)  # up the neck
    fwd = np.stack([np.cos(neck), -np.sin(neck)], axis=1)  # where the face points
    ear = shoulder + 0.095 * h * u
    for side, z in ((0, -1.0), (1, 1.0)):
        out[:, 3 + side, :2] = ear
        out[:, 3 + side, 2] = z * 0.045 * h
        out[:, 1 + side, :2] = ear + 0.02 * h * u + 0.075 * h * fwd
        out[:, 1 + side, 2] = z * 0.03 * h
    out[:, 0, :2] = ear + 0.1 * h * fwd - 0.01 * h * u
    return out


@dataclass(frozen=True)
class Framing:
    """Where the world lands in the image: pixels per metre, the origin's column and the floor's row."""

    scale_px_per_m: F64  # (T,)
    origin_x_px: F64  # (T,)
    floor_y_px: F64  # (T,)


def project(points: F64, pose: Pose, framing: Framing) -> tuple[F64, F64]:
    """Rotate by the body's yaw, place it, and return pixels (T, 17, 2) [x, y] and depth (T, 17) toward the camera."""
    yaw = np.radians(pose.yaw_deg)[:, None]
    c, s = np.cos(yaw), np.sin(yaw)
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    world_x = pose.root_x_m[:, None] + c * x + s * z
    depth = -s * x + c * z
    px = framing.origin_x_px[:, None] + framing.scale_px_per_m[:, None] * world_x
    py = framing.floor_y_px[:, None] - framing.scale_px_per_m[:, None] * y
    return np.stack([px, py], axis=-1), depth
