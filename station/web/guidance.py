"""Camera-placement guidance for staff, derived from keypoint scores and geometry.

Single frames are noisy (HINGE_SPEC: scores of 0.45-0.55 on shins behind plates, swapped
left/right labels), so each check is judged per frame and advised only when it holds in
most frames of the last few seconds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from station.types import Keypoints

WINDOW_S = 3.0  # long enough to ride out a bad second, short enough to confirm a fix quickly
MAJORITY = 0.6  # advise when a problem shows in 60% of recent frames: a dip or a hidden shin is not a problem
MIN_POINTS_FOR_PERSON = 5  # fewer confident points than this is nobody (or a hand passing by)
DARK_LUMA = 35.0  # mean luma 0-255; below ~35 MoveNet's scores collapse on a typical gym camera
EDGE_FRACTION = 0.02  # a confident point within 2% of the top or bottom edge is probably cut off
# |left-right| spread of shoulders and hips over the torso length: ~0.1 side-on, ~0.7 face-on,
# ~0.35 at 30 degrees off (still gradable, HINGE_SPEC); above 0.45 the view is no longer side-on.
SIDE_ON_MAX_SPREAD = 0.45
# Shoulder-hip-knee-ankle chain length over the frame's short side. The chain is ~0.8 of a
# standing lifter's height and keeps its length through a hinge (a bounding box does not);
# below 0.25 the lifter is under ~30% of the frame and each joint gets too few pixels.
SMALL_CHAIN_FRACTION = 0.25

HEAD = (0, 1, 2, 3, 4)
ANKLES = (15, 16)
SHOULDERS = (5, 6)
HIPS = (11, 12)
KNEES = (13, 14)

MESSAGES: dict[str, str] = {
    "nobody": "No one in view, or too dark to see them. If someone is lifting, add light or check the lens.",
    "too_dark": "Too dark: light the platform or aim the camera away from bright windows.",
    "not_in_frame": "Lifter not fully in frame: move the camera back until head and feet both fit.",
    "not_side_on": "Camera not side-on: put it beside the platform, hip height, looking across the lifter.",
    "too_small": "Lifter small in the picture: move the camera closer to the platform.",
}


@dataclass(frozen=True)
class _Judged:
    t_s: float
    problems: frozenset[str]


def frame_problems(
    keypoints: Keypoints, width_px: int, height_px: int, min_score: float, brightness: float | None = None
) -> frozenset[str]:
    """The placement problems visible in one frame (empty when the view is fine)."""
    problems: set[str] = set()
    if brightness is not None and brightness < DARK_LUMA:
        problems.add("too_dark")
    scores = np.nan_to_num(keypoints[:, 2], nan=0.0)
    seen = scores >= min_score
    if int(seen.sum()) < MIN_POINTS_FOR_PERSON:
        problems.add("nobody")
        return frozenset(problems)
    y_px = keypoints[:, 0] * height_px
    x_px = keypoints[:, 1] * width_px
    near_edge = (keypoints[seen, 0] < EDGE_FRACTION) | (keypoints[seen, 0] > 1 - EDGE_FRACTION)
    if not seen[list(HEAD)].any() or not seen[list(ANKLES)].any() or near_edge.any():
        problems.add("not_in_frame")
    chain_px = _chain_length_px(y_px, x_px, scores, min_score)
    if chain_px is not None and chain_px < SMALL_CHAIN_FRACTION * min(width_px, height_px):
        problems.add("too_small")
    if seen[list(SHOULDERS + HIPS)].all():
        torso_px = float(np.hypot(
            y_px[list(SHOULDERS)].mean() - y_px[list(HIPS)].mean(),
            x_px[list(SHOULDERS)].mean() - x_px[list(HIPS)].mean(),
        ))  # fmt: skip
        spread_px = (abs(x_px[5] - x_px[6]) + abs(x_px[11] - x_px[12])) / 2
        if torso_px > 0 and spread_px / torso_px > SIDE_ON_MAX_SPREAD:
            problems.add("not_side_on")
    return frozenset(problems)


def _chain_length_px(
    y_px: np.ndarray, x_px: np.ndarray, scores: np.ndarray, min_score: float
) -> float | None:
    """Shoulder-hip-knee-ankle length along the better-seen side of each joint; None if a joint is missing."""
    chain = []
    for left, right in (SHOULDERS, HIPS, KNEES, ANKLES):
        best = left if scores[left] >= scores[right] else right
        if scores[best] < min_score:
            return None
        chain.append((y_px[best], x_px[best]))
    return float(sum(np.hypot(a[0] - b[0], a[1] - b[1]) for a, b in zip(chain, chain[1:])))


class PlacementAdvisor:
    """Keeps the last few seconds of per-frame judgements and advises on the lasting ones."""

    def __init__(self, min_score: float = 0.3) -> None:
        self._min_score = min_score
        self._recent: deque[_Judged] = deque()

    def update(
        self, keypoints: Keypoints, width_px: int, height_px: int, t_s: float, brightness: float | None = None
    ) -> None:
        self._recent.append(_Judged(t_s, frame_problems(keypoints, width_px, height_px, self._min_score, brightness)))
        while self._recent and t_s - self._recent[0].t_s > WINDOW_S:
            self._recent.popleft()

    def advice(self) -> list[dict[str, str]]:
        """Lasting problems, most fundamental first: dark, nobody, then framing and angle."""
        if not self._recent:
            return []
        total = len(self._recent)
        lasting = [
            code for code in MESSAGES
            if sum(code in j.problems for j in self._recent) >= MAJORITY * total
        ]  # fmt: skip
        if "too_dark" in lasting:
            lasting = ["too_dark"]
        elif "nobody" in lasting:
            lasting = ["nobody"]
        level = {"nobody": "info"}
        return [{"code": c, "level": level.get(c, "warning"), "message": MESSAGES[c]} for c in lasting]
