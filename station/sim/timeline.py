"""The timeline of a simulated recording: pieces laid end to end, each a pose over local time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from station.sim import gait
from station.sim.body import F64, Body, Pose
from station.sim.lift import track_pose
from station.sim.reps import RepTiming, plan_set, standing
from station.sim.scenario import Scenario


@dataclass
class Piece:
    """A stretch of the timeline: its length, the pose it shows at local times, and the reps in it."""

    duration_s: float
    pose: Callable[[F64], Pose]
    cut: int = 0  # which framing (edited clips reframe after a cut)
    set_n: int = 0
    reps: list[RepTiming] = field(default_factory=list)
    lift: str = "rdl"


def frame_times(rng: np.random.Generator, fps: float, jitter: float, duration_s: float) -> F64:
    """Capture times from 0: intervals jittered around 1/fps, now and then a dropped frame."""
    n = int(duration_s * fps * 1.1) + 2
    dt = np.exp(rng.normal(0.0, jitter, n)) / fps
    dt *= np.where(rng.random(n) < 0.01, rng.integers(2, 4, n), 1)
    dt = np.clip(dt, 0.3 / fps, 3.5 / fps)
    t = np.concatenate([[0.0], np.cumsum(dt)])
    return t[t < duration_s]


def choose_framing(
    rng: np.random.Generator, body: Body, facing: int, width: int, height: int, person_frac: float = 0.0
) -> tuple[float, float, float]:
    """Pixels per metre, the ankles' column and the floor's row: the whole lift fits in the frame."""
    h_m = body.height_m
    scale = (person_frac or float(rng.uniform(0.5, 0.8))) * height / h_m
    scale = min(scale, 0.92 * width / (0.85 * h_m))  # portrait: the bent-over lifter must fit across
    back, front = 0.32 * h_m * scale, 0.53 * h_m * scale  # hips behind / head ahead of the ankles
    lo, hi = (back, width - front) if facing > 0 else (front, width - back)
    ankle_x = float(rng.uniform(lo, max(lo, hi)))
    floor_lo = h_m * scale + 0.03 * height
    floor_y = float(rng.uniform(max(floor_lo, 0.85 * height), max(floor_lo, 0.97 * height)))
    return scale, ankle_x, min(floor_y, height - 1.0)


def _fault_draws(rng: np.random.Generator, scenario: Scenario, n: int) -> list[tuple[str, ...]]:
    picks = [str(scenario.faults[int(rng.integers(len(scenario.faults)))]) for _ in range(n)]
    return [() if p == "good" else tuple(p.split("+")) for p in picks]


class Builder:
    """Lays pieces end to end, keeping the lifter's standing pose continuous from piece to piece."""

    def __init__(self, rng: np.random.Generator, body: Body, scenario: Scenario, facing: int, frames: list[tuple[float, float, float]]):
        self.rng, self.body, self.sc, self.facing = rng, body, scenario, facing
        self.frames = frames  # framing per cut
        self.pieces: list[Piece] = []
        self.cut = 0
        self.yaw = gait.lifting_yaw(facing, scenario.yaw_deg)

    def offscreen_x(self, side: int) -> float:
        scale, ankle_x, _ = self.frames[self.cut]
        edge = (0.0 if side < 0 else float(self.sc.width_px)) - ankle_x
        return edge / scale + side * 0.6 * self.body.height_m

    def add(self, duration_s: float, pose: Callable[[F64], Pose], **kw: object) -> None:
        self.pieces.append(Piece(duration_s, pose, cut=self.cut, **kw))  # type: ignore[arg-type]

    def absent(self, duration_s: float) -> None:
        self.add(duration_s, lambda t: Pose.empty(t.shape[0]))

    def walk(self, x_from: float, x_to: float) -> None:
        dur = abs(x_to - x_from) / float(self.rng.uniform(0.9, 1.4)) + 0.6
        rng, body = np.random.default_rng(self.rng.integers(1 << 31)), self.body
        self.add(dur, lambda t: gait.walk(body, rng, t, dur, x_from, x_to))

    def stand(self, duration_s: float, yaw_from: float | None = None, dip: bool = False, yaw: float | None = None) -> None:
        rng, body, start = np.random.default_rng(self.rng.integers(1 << 31)), self.body, standing(self.rng)
        y1 = self.yaw if yaw is None else yaw
        y0 = y1 if yaw_from is None else yaw_from
        self.add(duration_s, lambda t: gait.stand_still(body, rng, t, duration_s, start, 0.0, y0, y1, dip))

    def walk_in(self) -> None:
        side = -self.facing if self.rng.random() < 0.8 else self.facing
        self.absent(float(self.rng.uniform(0.5, 2.0)))
        self.walk(self.offscreen_x(side), 0.0)
        self.stand(float(self.rng.uniform(1.0, 3.0)), yaw_from=0.0 if side < 0 else 180.0)

    def walk_out(self) -> None:
        side = self.facing if self.rng.random() < 0.5 else -self.facing
        self.stand(float(self.rng.uniform(0.8, 2.0)), yaw=0.0 if side > 0 else 180.0, yaw_from=self.yaw)
        self.walk(0.0, self.offscreen_x(side))
        self.absent(float(self.rng.uniform(0.5, 2.0)))

    def lift_set(self, set_n: int, n_reps: int) -> None:
        faults = _fault_draws(self.rng, self.sc, n_reps)
        track, reps, dur = plan_set(self.rng, self.body, self.sc.lift, faults, standing(self.rng), self.sc.bar_lowered)
        rng, body, yaw = np.random.default_rng(self.rng.integers(1 << 31)), self.body, self.yaw
        self.add(dur, lambda t: track_pose(body, track, t, rng, 0.0, yaw), set_n=set_n, reps=reps, lift=self.sc.lift)

    def plate_pickup(self) -> None:
        dur, rng, body = float(self.rng.uniform(3.0, 4.5)), np.random.default_rng(self.rng.integers(1 << 31)), self.body
        yaw = gait.lifting_yaw(self.facing, float(self.rng.uniform(0.0, 40.0)))
        self.add(dur, lambda t: gait.plate_pickup(body, rng, t, dur, 0.0, yaw))
