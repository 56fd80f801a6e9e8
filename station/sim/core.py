"""simulate(scenario, seed): script the timeline, render MoveNet-style keypoints, keep the truth."""

from __future__ import annotations

import numpy as np

from station.recording import Recording
from station.sim.body import F64, Body, Framing, Pose, project, skeleton
from station.sim.gait import walk
from station.sim.measure import rep_measures
from station.sim.noise import Scene, movenet_noise
from station.sim.scenario import Scenario
from station.sim.timeline import Builder, choose_framing, frame_times
from station.sim.truth import SimTruth, TruthRep, TruthSet, faults_dict


def _script(b: Builder, sc: Scenario) -> tuple[float, float] | None:
    """Lay out the scenario's pieces; return the window (start, end) in which a second person crosses."""
    rng = b.rng
    crossing: tuple[float, float] | None = None
    if sc.walk_in:
        b.walk_in()
    else:
        b.stand(float(rng.uniform(1.0, 3.0)))
    if sc.distractor in ("standing", "crossing"):
        t0 = sum(p.duration_s for p in b.pieces)
        b.stand(float(rng.uniform(20.0, 40.0)), dip=sc.distractor == "standing")
        crossing = (t0, t0 + b.pieces[-1].duration_s) if sc.distractor == "crossing" else None
    elif sc.distractor == "walk_in_out":
        b.stand(float(rng.uniform(3.0, 10.0)))
    elif sc.distractor == "plate_pickup":
        b.plate_pickup()
    for k, n_reps in enumerate(sc.reps_per_set):
        if k > 0:
            _rest(b, sc)
        t0 = sum(p.duration_s for p in b.pieces)
        b.lift_set(k + 1, n_reps)
        if k == 0 and sc.crossing:
            crossing = (t0, t0 + b.pieces[-1].duration_s)
    if sc.walk_out:
        b.walk_out()
    else:
        b.stand(float(rng.uniform(2.0, 5.0)))
    return crossing


def _rest(b: Builder, sc: Scenario) -> None:
    """Rest between sets: stand about, or walk off and come back; edited clips cut in the middle."""
    rng = b.rng
    if sc.cuts:
        b.stand(sc.rest_s / 2)
        b.absent(float(rng.uniform(1.0, 3.0)))  # title card
        b.cut += 1
        b.stand(sc.rest_s / 2)
    elif rng.random() < 0.5:
        b.stand(sc.rest_s, dip=True)
    else:
        b.walk_out()
        gone = sum(p.duration_s for p in b.pieces[-2:])
        b.absent(max(sc.rest_s - 2.0 * gone, 3.0))
        b.walk_in()


def _framing(b: Builder, cut_of_frame: np.ndarray) -> Framing:
    table = np.array(b.frames)[cut_of_frame]
    return Framing(table[:, 0], table[:, 1], table[:, 2])


def _crosser(rng: np.random.Generator, sc: Scenario, t: F64, window: tuple[float, float], framing: Framing) -> tuple[F64, bool]:
    """A second person walking across the whole frame during the window; NaN outside their crossing."""
    other = Body.random(rng)
    nearer = bool(rng.random() < 0.6)
    depth = float(rng.uniform(1.1, 1.35) if nearer else rng.uniform(0.7, 0.9))
    scale = framing.scale_px_per_m[0] * depth
    floor = framing.floor_y_px[0] + (depth - 1.0) * 0.3 * sc.height_px
    span_m = (sc.width_px + 1.2 * other.height_m * scale) / scale
    start = window[0] + float(rng.uniform(0.0, max(window[1] - window[0] - 3.0, 0.1)))
    dur = span_m / float(rng.uniform(1.0, 1.5))
    mask = (t >= start) & (t < start + dur)
    out = np.full((t.shape[0], 17, 2), np.nan)
    if mask.any():
        x_from, x_to = (-0.6 * other.height_m, span_m - 0.6 * other.height_m)
        if rng.random() < 0.5:
            x_from, x_to = x_to, x_from
        pose = walk(other, rng, t[mask] - start, dur, x_from, x_to)
        f = Framing(np.full(mask.sum(), scale), np.zeros(mask.sum()), np.full(mask.sum(), floor))
        out[mask], _ = project(skeleton(other, pose), pose, f)
    return out, nearer


def _normalise(xy: F64, score: F64, width: int, height: int) -> np.ndarray:
    return np.stack([np.clip(xy[..., 1] / height, 0, 1), np.clip(xy[..., 0] / width, 0, 1), score], axis=-1).astype(np.float32)


def simulate(scenario: Scenario, seed: int) -> tuple[Recording, SimTruth]:
    """A MoveNet-style keypoint recording of the scenario, and what a perfect detector would report."""
    rng = np.random.default_rng(seed)
    body = Body.random(rng)
    facing = scenario.facing or (1 if rng.random() < 0.5 else -1)
    n_cuts = max(len(scenario.reps_per_set), 1)
    frames = [choose_framing(rng, body, facing, scenario.width_px, scenario.height_px, scenario.person_frac) for _ in range(n_cuts)]
    b = Builder(rng, body, scenario, facing, frames)
    window = _script(b, scenario)
    starts = np.cumsum([0.0] + [p.duration_s for p in b.pieces])
    t = frame_times(rng, scenario.fps, scenario.fps_jitter, float(starts[-1]))
    piece_of = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(b.pieces) - 1)
    pose = Pose.concat([b.pieces[i].pose(t[piece_of == i] - starts[i]) for i in range(len(b.pieces))])
    framing = _framing(b, np.array([b.pieces[i].cut for i in piece_of]))
    xy, depth = project(skeleton(body, pose), pose, framing)
    person_px = body.height_m * framing.scale_px_per_m
    other, nearer = (None, True) if window is None else _crosser(rng, scenario, t, window, framing)
    scene = Scene(t, xy, depth / body.height_m, pose.present, person_px, scenario.width_px, scenario.height_px, other, nearer)
    keypoints = movenet_noise(rng, scene, scenario.noise)
    w, h = scenario.width_px, scenario.height_px
    inside = (xy[..., 0] >= 0) & (xy[..., 0] <= w) & (xy[..., 1] >= 0) & (xy[..., 1] <= h) & pose.present[:, None]
    clean = Recording(_normalise(xy, inside.astype(np.float64), w, h), t, w, h)
    near = 1 if float(np.mean(depth[pose.present, 12] - depth[pose.present, 11])) > 0 else 0
    reps: list[TruthRep] = []
    sets: list[TruthSet] = []
    for piece, t0 in zip(b.pieces, starts, strict=False):
        for r in piece.reps:
            at = {k: float(t0 + getattr(r, k)) for k in ("t_start_s", "t_wall_s", "t_bottom_s", "t_lockout_s")}
            m = rep_measures(t, xy, near, facing, at["t_start_s"], at["t_wall_s"], at["t_bottom_s"])
            reps.append(TruthRep(set_n=piece.set_n, faults=faults_dict(r.faults), lift=piece.lift, measures=m, **at))
        if piece.reps:
            sets.append(TruthSet(piece.set_n, len(piece.reps), float(t0 + piece.reps[0].t_start_s), float(t0 + piece.reps[-1].t_lockout_s)))
    truth = SimTruth(reps, sets, scenario.gradable, clean, facing)
    return Recording(keypoints, t, w, h), truth
