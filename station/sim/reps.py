"""Choreography of a set: each rep's descent shaped by its faults, in HINGE_SPEC's measured quantities.

Channels: ``kappa`` knee flexion (deg), ``d`` hip travel behind the ankles (leg lengths), ``phi`` trunk
angle from vertical (deg). The body is solved from them (station.sim.lift), so each fault is exactly
the measurable pattern HINGE_SPEC grades.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from station.sim.body import Body
from station.sim.lift import floor_knee
from station.sim.track import Track

CHANNELS = ("kappa", "d", "phi")


@dataclass(frozen=True)
class RepTiming:
    """When one rep's phases happen (seconds on the set's clock) and what its descent does wrong."""

    t_start_s: float  # hinge onset
    t_wall_s: float  # hips stop travelling back
    t_bottom_s: float
    t_lockout_s: float
    faults: tuple[str, ...]


def standing(rng: np.random.Generator) -> dict[str, float]:
    """A lockout: knees nearly straight, trunk upright, hips over the ankles."""
    return {"kappa": float(rng.uniform(1.0, 5.0)), "d": float(rng.uniform(-0.02, 0.02)), "phi": float(rng.uniform(0.0, 6.0))}


def hold_all(track: Track, t_s: float) -> None:
    for ch in CHANNELS:
        track.hold(ch, t_s)


def couple(track: Track, channel: str, t0: float, t1: float, end_value: float, samples: int = 8) -> None:
    """Move `channel` to end_value in proportion to the knee bend between t0 and t1 (nothing moves on its own)."""
    times = np.linspace(t0, t1, samples + 1)[1:]
    kappa = track.evaluate("kappa", times)
    k0, k1 = float(track.evaluate("kappa", np.array([t0]))[0]), float(kappa[-1])
    v0 = track.last(channel)
    progress = np.clip((kappa - k0) / (k1 - k0), 0.0, 1.0) if abs(k1 - k0) > 1e-6 else np.linspace(0, 1, samples)
    for t, p in zip(times, progress, strict=True):
        track.add(channel, float(t), v0 + float(p) * (end_value - v0))


def _hinge(rng: np.random.Generator, track: Track, faults: set[str], floor: bool, t_on: float, hinge_s: float) -> None:
    """Onset to the wall point: hips back and chest down (or not, per the faults)."""
    d0, phi0, k_start = track.last("d"), track.last("phi"), track.last("kappa")
    t_wall = t_on + hinge_s
    if "rounded" in faults:
        d_max = min(d0 + float(rng.uniform(0.005, 0.02)), 0.04)
    elif "locked" in faults:
        d_max = float(rng.uniform(0.15, 0.2))  # straight legs tilt back at the ankles to take the hips back
    else:
        d_max = float(rng.uniform(0.18, 0.30))
    phi_wall = float(rng.uniform(40.0, 55.0) if floor else rng.uniform(45.0, 70.0))
    if "back_reach" in faults:
        phi_wall = float(rng.uniform(38.0, 50.0))
    if "arched" in faults:  # hips race back, the trunk stays up and catches up only at the end
        mid = t_on + float(rng.uniform(0.4, 0.5)) * hinge_s
        track.add("d", mid, d0 + float(rng.uniform(0.8, 0.9)) * (d_max - d0))
        track.add("phi", mid, phi0 + float(rng.uniform(0.03, 0.1)) * (phi_wall - phi0))
    else:  # together, within a short lag
        lag = float(rng.uniform(0.0, 0.08)) * hinge_s
        track.hold("d" if rng.random() < 0.5 else "phi", t_on + lag)
    track.add("d", t_wall, d_max)
    track.add("phi", t_wall, phi_wall)
    grow = rng.uniform(25.0, 45.0) if "early_knee_bend" in faults else rng.uniform(0.0, 3.0)
    track.add("kappa", t_wall, k_start + float(grow))


def _below_wall(rng: np.random.Generator, body: Body, track: Track, faults: set[str], floor: bool, t_s: float, t_bottom: float) -> None:
    """From the wall point to the bottom: trunk reaching (fault) and/or knees bending down to the bar."""
    if "back_reach" in faults:  # the trunk keeps tipping with the knees still
        t_reach = t_bottom if not floor else t_s + float(rng.uniform(0.45, 0.6)) * (t_bottom - t_s)
        track.add("phi", t_reach, min(track.last("phi") + float(rng.uniform(20.0, 32.0)), 88.0))
        track.add("kappa", t_reach, track.last("kappa") + float(rng.uniform(-1.0, 2.0)))
        track.add("d", t_reach, track.last("d") + float(rng.uniform(-0.01, 0.005)))
        t_s = t_reach
    if not floor:
        return
    d_wall = track.last("d")
    if "leaves_wall" in faults:  # the knees push the hips forward off the wall
        d_b, phi_b = max(d_wall - float(rng.uniform(0.12, 0.2)), -0.02), float(rng.uniform(55.0, 68.0))
    elif "back_reach" in faults:
        d_b, phi_b = d_wall, track.last("phi") + float(rng.uniform(0.0, 3.0))
    elif "rounded" in faults:
        d_b, phi_b = d_wall + float(rng.uniform(-0.005, 0.003)), float(rng.uniform(72.0, 85.0))
    else:  # slide the rear down the wall
        d_b, phi_b = d_wall + float(rng.uniform(-0.02, 0.01)), float(rng.uniform(65.0, 80.0))
    k_b = max(floor_knee(body, d_b, phi_b), track.last("kappa") + 15.0)
    track.add("kappa", t_bottom, k_b)
    couple(track, "d", t_s, t_bottom, d_b)
    couple(track, "phi", t_s, t_bottom, phi_b)


def add_rep(rng: np.random.Generator, body: Body, track: Track, lift: str, faults: tuple[str, ...], t_s: float, first: bool) -> RepTiming:
    """One rep from a standing lockout at t_s: top pause, graded descent, bottom pause, ascent, lockout."""
    f, floor = set(faults), lift == "deadlift"
    unlock_s, lead_s = float(rng.uniform(0.25, 0.6)), float(rng.uniform(0.0, 0.25))
    pause_s = max(float(rng.uniform(1.0, 3.0) if first else rng.uniform(0.3, 1.5)), unlock_s + lead_s + 0.2)
    t_on = t_s + pause_s
    hold_all(track, t_on - unlock_s - lead_s)
    k_start = float(rng.uniform(0.0, 4.0) if "locked" in f else rng.uniform(10.0, 25.0))
    track.add("kappa", t_on - lead_s, k_start)
    hold_all(track, t_on)
    descent_s = float(rng.uniform(1.0, 3.0))
    if floor:
        hinge_frac = rng.uniform(0.3, 0.4) if "back_reach" in f else rng.uniform(0.4, 0.6)
    else:
        hinge_frac = rng.uniform(0.55, 0.7) if "back_reach" in f else 1.0
    _hinge(rng, track, f, floor, t_on, descent_s * float(hinge_frac))
    t_wall, t_bottom = t_on + descent_s * float(hinge_frac), t_on + descent_s
    _below_wall(rng, body, track, f, floor, t_wall, t_bottom)
    bottom_s = (rng.uniform(0.8, 2.5) if first else rng.uniform(0.15, 1.2)) if floor else rng.uniform(0.0, 0.5)
    t_up = t_bottom + float(bottom_s)
    hold_all(track, t_up)
    ascent_s = float(rng.uniform(0.7, 2.0))
    top = standing(rng)
    track.add("kappa", t_up + 0.75 * ascent_s, top["kappa"])  # the knees lead the way up
    track.hold("phi", t_up + 0.1 * ascent_s)
    for ch in CHANNELS:
        track.add(ch, t_up + ascent_s, top[ch])
    return RepTiming(t_on, t_wall, t_bottom, t_up + ascent_s, faults)


def plan_set(
    rng: np.random.Generator,
    body: Body,
    lift: str,
    rep_faults: list[tuple[str, ...]],
    start: dict[str, float],
    bar_lowered: bool,
) -> tuple[Track, list[RepTiming], float]:
    """A set on its own clock from 0, from the standing pose `start`: reps, then standing. With
    bar_lowered the last rep's bar is set down on the floor and the lifter stands up without it
    (not a rep); otherwise it is dropped from lockout."""
    track = Track()
    for ch in CHANNELS:
        track.add(ch, 0.0, start[ch])
    reps: list[RepTiming] = []
    t = 0.0
    for i, faults in enumerate(rep_faults):
        reps.append(add_rep(rng, body, track, lift, faults, t, first=i == 0))
        t = reps[-1].t_lockout_s
    if bar_lowered and reps:
        t = add_rep(rng, body, track, "deadlift", ("good",), t, first=False).t_lockout_s
    t_end = t + float(rng.uniform(1.0, 2.5))
    hold_all(track, t_end)
    return track, reps, t_end
