"""What MoveNet Lightning int8 does to a side-view lifter (HINGE_SPEC): scores, jitter, swaps, jumps, dropouts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from station.sim.body import F64

PAIRS = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
# Mean score of each point on the near side of a clean clip (HINGE_SPEC: hips/shoulders ~0.55-0.75,
# knees/ankles ~0.45-0.55 once the plates hide the shins).
BASE_SCORE = np.array([0.66, 0.6, 0.6, 0.64, 0.64, 0.7, 0.7, 0.6, 0.6, 0.56, 0.56, 0.7, 0.7, 0.6, 0.6, 0.58, 0.58])
SWAP_GROUPS = ((13, 14), (13, 14, 15, 16), (11, 12, 13, 14, 15, 16), (7, 8, 9, 10), tuple(range(1, 17)))
SWAP_WEIGHTS = (0.35, 0.25, 0.15, 0.1, 0.15)
JUMP_GROUPS = (tuple(range(17)), tuple(range(11, 17)), tuple(range(0, 11)), (13, 15), (14, 16), (9, 10))
SHINS = [13, 14, 15, 16]


@dataclass(frozen=True)
class Scene:
    """The noise-free scene of one recording, in pixels."""

    t_s: F64  # (T,)
    xy_px: F64  # (T, 17, 2) the lifter
    depth_h: F64  # (T, 17) toward the camera, in body heights
    present: npt.NDArray[np.bool_]  # (T,)
    person_px: F64  # (T,) the lifter's standing height in pixels
    width_px: int
    height_px: int
    other_xy_px: F64 | None = None  # (T, 17, 2) a second person, NaN where absent
    other_nearer: bool = True


def ar1(rng: np.random.Generator, t_s: F64, shape: tuple[int, ...], sigma: float, tau_s: float) -> F64:
    """Stationary AR(1) noise sampled at irregular times (correlation exp(-dt/tau))."""
    n = t_s.shape[0]
    out = np.empty((n, *shape))
    a = np.exp(-np.diff(t_s, prepend=t_s[0]) / tau_s)
    eps = rng.standard_normal((n, *shape)) * sigma
    out[0] = eps[0]
    b = np.sqrt(1.0 - a * a)
    for i in range(1, n):
        out[i] = a[i] * out[i - 1] + b[i] * eps[i]
    return out


def episodes(rng: np.random.Generator, t_s: F64, rate_hz: float, min_s: float, max_s: float) -> list[tuple[int, int]]:
    """Random [start, end) frame ranges: a Poisson process of events lasting min_s..max_s."""
    out: list[tuple[int, int]] = []
    t = float(t_s[0]) + float(rng.exponential(1.0 / rate_hz)) if rate_hz > 0 else np.inf
    while t < t_s[-1]:
        dur = float(rng.uniform(min_s, max_s))
        i0, i1 = int(np.searchsorted(t_s, t)), int(np.searchsorted(t_s, t + dur))
        out.append((i0, max(i1, i0 + 1)))
        t += dur + float(rng.exponential(1.0 / rate_hz))
    return out


def occlusion(scene: Scene) -> F64:
    """0 visible .. 1 hidden behind the near-side limb (side view); far limbs show again as the view turns."""
    occ = np.zeros(scene.depth_h.shape)
    for a, b in PAIRS:
        for me, other in ((a, b), (b, a)):
            behind = np.clip((scene.depth_h[:, other] - scene.depth_h[:, me]) / 0.08, 0.0, 1.0)
            apart = np.abs(scene.xy_px[:, me, 0] - scene.xy_px[:, other, 0]) / (0.12 * scene.person_px)
            occ[:, me] = behind * np.clip(1.0 - apart, 0.0, 1.0)
    return occ


def scores(rng: np.random.Generator, scene: Scene, occ: F64, q: float) -> F64:
    """Per-point confidence: base, occlusion, plates over the shins, clip quality, slow and fast noise, dropouts."""
    t = scene.t_s
    s = np.broadcast_to(BASE_SCORE, occ.shape) - 0.3 * occ - 0.2 * q * q - 0.04 * q + rng.normal(0.0, 0.03)
    wrist_below_knee = (scene.xy_px[:, [9, 10], 1].mean(axis=1) - scene.xy_px[:, [13, 14], 1].mean(axis=1)) / scene.person_px
    s[:, SHINS] -= 0.12 * np.clip(0.5 + wrist_below_knee / 0.1, 0.0, 1.0)[:, None]
    s += ar1(rng, t, (1,), 0.03 + 0.08 * q, 1.0)  # lighting, blur: the whole body at once
    s += ar1(rng, t, (17,), 0.05 + 0.03 * q, 0.25) + rng.normal(0.0, 0.03, occ.shape)
    for i0, i1 in episodes(rng, t, 0.02 + 0.25 * q, 0.1, 1.0):  # dropouts
        group = list(range(17)) if rng.random() < 0.5 else list(range(11, 17))
        s[i0:i1, group] -= rng.uniform(0.2, 0.45)
    return np.clip(s, rng.uniform(0.0, 0.03, s.shape), 0.99)  # MoveNet's sigmoid never quite reaches 0 or 1


def positions(rng: np.random.Generator, scene: Scene, occ: F64, score: F64, q: float) -> F64:
    """Pixel positions: slow drift, per-frame jitter (worse when unsure), guessed far-side limbs."""
    t, size = scene.t_s, scene.person_px[:, None, None]
    xy = scene.xy_px.copy()
    xy += ar1(rng, t, (17, 2), 0.003 + 0.004 * q, 0.5) * size
    unsure = 1.0 + 1.5 * occ + np.clip(1.0 - score / 0.6, 0.0, 1.0)
    # Jitter grows with the body (crop tracking) plus a floor of a fraction of a model pixel (192 px input).
    model_px = (0.2 + 0.3 * q) * max(scene.width_px, scene.height_px) / 192.0
    sigma = (0.002 + 0.004 * q) * size + model_px
    xy += rng.standard_normal(xy.shape) * sigma * unsure[..., None]
    xy += ar1(rng, t, (17, 2), 0.04, 1.0) * size * occ[..., None]  # far limbs are guessed
    for i0, i1 in episodes(rng, t, 0.1 + 0.3 * q, 0.2, 1.5):  # a badly guessed far knee, leg or arm
        points = ([13, 14], [13, 14, 15, 16], [7, 8, 9, 10])[int(rng.choice(3, p=[0.5, 0.3, 0.2]))]
        angle = rng.uniform(0, 2 * np.pi)
        offset = rng.uniform(0.1, 0.35) * np.array([np.cos(angle), 0.5 * np.sin(angle)])
        xy[i0:i1, points] += offset * size[i0:i1] * occ[i0:i1, points, None]
    return xy


def swaps_and_jumps(rng: np.random.Generator, kp: F64, scene: Scene, q: float) -> None:
    """Left/right labels swapped for a few frames; single frames jumping by a large part of the body (in place)."""
    n, i = kp.shape[0], 0
    p_swap, p_jump = 0.01 + 0.06 * q, 0.003 + 0.015 * q
    while i < n:
        if rng.random() < p_swap:
            group = SWAP_GROUPS[int(rng.choice(len(SWAP_GROUPS), p=SWAP_WEIGHTS))]
            run = int(rng.geometric(0.6))
            left, right = [g for g in group if g % 2 == 1], [g for g in group if g % 2 == 0 and g > 0]
            cols = slice(0, 3) if rng.random() < 0.5 else slice(0, 2)  # half the time the scores stay put
            kp[i : i + run, left + right, cols] = kp[i : i + run, right + left, cols]
            i += run
        i += 1
    for j in np.flatnonzero(rng.random(n) < p_jump):
        moved = list(JUMP_GROUPS[int(rng.integers(len(JUMP_GROUPS)))])
        angle = rng.uniform(0, 2 * np.pi)
        kp[j, moved, :2] += rng.uniform(0.2, 0.6) * scene.person_px[j] * np.array([np.cos(angle), np.sin(angle)])


def no_person(rng: np.random.Generator, kp: F64, frames: npt.NDArray[np.bool_], scene: Scene) -> None:
    """Frames without a person: junk points around a wandering spot, every score below 0.1 (in place)."""
    idx = np.flatnonzero(frames)
    if idx.size == 0:
        return
    centre = np.array([scene.width_px, scene.height_px]) * rng.uniform(0.3, 0.7, 2)
    spot = centre + ar1(rng, scene.t_s[idx], (2,), 0.1 * scene.height_px, 2.0)
    kp[idx, :, :2] = spot[:, None, :] + rng.normal(0.0, 0.05 * scene.height_px, (idx.size, 17, 2))
    kp[idx, :, 2] = rng.uniform(0.0, 0.1, (idx.size, 17))


def second_person(rng: np.random.Generator, kp: F64, scene: Scene, q: float) -> None:
    """While someone crosses, MoveNet sometimes locks onto them or mixes their points in (in place)."""
    other = scene.other_xy_px
    if other is None:
        return
    there = np.all(np.isfinite(other[:, :, 0]), axis=1)
    gap = np.abs(np.where(there[:, None], other[:, :, 0], 0.0).mean(axis=1) - scene.xy_px[:, :, 0].mean(axis=1))
    overlap = np.where(there, np.clip(1.0 - gap / (0.5 * scene.person_px), 0.0, 1.0), 0.0)
    captured = False
    for i in np.flatnonzero(there):
        if not scene.present[i]:
            captured = True
        elif captured:
            captured = rng.random() > 0.3
        else:
            captured = rng.random() < 0.02 + 0.4 * overlap[i] * (1.0 if scene.other_nearer else 0.5)
        if captured:
            kp[i, :, :2] = other[i] + rng.normal(0.0, 0.005 * scene.person_px[i], (17, 2))
            kp[i, :, 2] = np.clip(BASE_SCORE - 0.2 * q + rng.normal(0.0, 0.08, 17), 0.0, 1.0)
        elif overlap[i] > 0.3:
            mixed = rng.random(17) < 0.15
            kp[i, mixed, :2] = other[i, mixed]


def movenet_noise(rng: np.random.Generator, scene: Scene, q: float) -> npt.NDArray[np.float32]:
    """The noisy (N, 17, 3) [y, x, score] output, normalised to the frame; q: 0 clean clip .. 1 bad clip."""
    occ = occlusion(scene)
    score = scores(rng, scene, occ, q)
    xy = positions(rng, scene, occ, score, q)
    kp = np.concatenate([xy, score[..., None]], axis=-1)
    swaps_and_jumps(rng, kp, scene, q)
    w, h = scene.width_px, scene.height_px
    x, y = scene.xy_px[..., 0], scene.xy_px[..., 1]
    outside = (x < 0) | (x > w) | (y < 0) | (y > h)  # really out of the picture, wherever the noise put it
    kp[..., 2] = np.where(outside, kp[..., 2] * rng.uniform(0.1, 0.4, outside.shape), kp[..., 2])
    gone = ~scene.present | (outside.sum(axis=1) >= 15)
    flicker = np.zeros_like(gone)
    for i0, i1 in episodes(rng, scene.t_s, 0.01 + 0.08 * q, 0.0, 0.1):
        flicker[i0:i1] = True
    no_person(rng, kp, gone | flicker, scene)
    second_person(rng, kp, scene, q)
    out = np.stack([kp[..., 1] / h, kp[..., 0] / w, kp[..., 2]], axis=-1)
    out[..., :2] = np.clip(out[..., :2], 0.0, 1.0)
    return out.astype(np.float32)
