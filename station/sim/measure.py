"""HINGE_SPEC's per-frame quantities measured on rendered keypoints, to check the truth against the motion."""

from __future__ import annotations

import numpy as np

from station.sim.body import F64

HIP, KNEE, ANKLE, SHOULDER = 11, 13, 15, 5  # left side; +1 for the right


def quantities(xy_px: F64, side: int, facing: int, leg_px: float) -> tuple[F64, F64, F64]:
    """Knee flexion (deg), trunk angle from vertical (deg), hip travel (leg lengths) of one side, per frame."""
    hip, knee, ankle, shoulder = (xy_px[:, j + side] for j in (HIP, KNEE, ANKLE, SHOULDER))
    a, b = hip - knee, ankle - knee
    cos = np.sum(a * b, axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-9)
    kappa = 180.0 - np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    up = shoulder - hip
    phi = np.degrees(np.arctan2(np.abs(up[:, 0]), -up[:, 1]))
    d = facing * (ankle[:, 0] - hip[:, 0]) / leg_px
    return kappa, phi, d


def leg_length_px(xy_px: F64, side: int, frame: int) -> float:
    """HINGE_SPEC's L in pixels: hip-knee plus knee-ankle at a standing frame."""
    p = xy_px[frame]
    return float(np.linalg.norm(p[HIP + side] - p[KNEE + side]) + np.linalg.norm(p[KNEE + side] - p[ANKLE + side]))


def rep_measures(t_s: F64, xy_px: F64, side: int, facing: int, t_start: float, t_wall: float, t_bottom: float) -> dict[str, float]:
    """The numbers each key is graded on, for one descent (noise-free, near side)."""
    i_top = int(np.searchsorted(t_s, t_start - 0.15))
    i0, iw, ib = (min(int(np.searchsorted(t_s, x)), len(t_s) - 1) for x in (t_start, t_wall, t_bottom))
    leg_px = leg_length_px(xy_px, side, max(i_top, 0))
    kappa, phi, d = quantities(xy_px[i0 : ib + 1], side, facing, leg_px)
    w = iw - i0
    d_hinge = d[: w + 1]
    d_prog = (d_hinge - d_hinge[0]) / max(d_hinge.max() - d_hinge[0], 1e-6)
    phi_prog = (phi[: w + 1] - phi[0]) / max(phi[: w + 1].max() - phi[0], 1e-6)
    after = slice(w, None)
    return {
        "kappa_start_deg": float(kappa[0]),
        "hip_travel_max_leg": float(d.max()),
        "hip_travel_start_leg": float(d[0]),
        "trunk_at_wall_deg": float(phi[w]),
        "trunk_bottom_deg": float(phi[-1]),
        "kappa_bottom_deg": float(kappa[-1]),
        "kappa_growth_before_wall_deg": float(kappa[: w + 1].max() - kappa[0]),
        "progress_gap_max": float(np.max(d_prog - phi_prog)) if w > 0 else 0.0,
        "trunk_after_wall_deg": float(phi[-1] - phi[w]),
        "kappa_after_wall_deg": float(kappa[-1] - kappa[w]),
        "hip_drop_after_wall_leg": float(d[after].max() - d[-1]),
    }
