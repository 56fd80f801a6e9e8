"""MoveNet's published crop-region algorithm, plus the platform zone.

The next frame's crop is a square (in pixels) around the hips, sized from the torso and from
*every* confident keypoint; when the torso is lost, or the crop would exceed the frame, it falls
back to the whole frame (or the platform zone). Unlike the Raspberry Pi example in
tensorflow/examples, the body range really loops over all keypoints instead of re-using the
last torso joint left over from the previous loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from station.types import Keypoints

MIN_CROP_SCORE = 0.2  # MoveNet's MIN_CROP_KEYPOINT_SCORE: a joint this sure may steer the crop
TORSO_EXPANSION = 1.9  # the crop's half side is at least 1.9x the hip-to-torso-joint distance...
BODY_EXPANSION = 1.2  # ...and 1.2x the hip-to-farthest-confident-joint distance
TORSO = (5, 6, 11, 12)  # shoulders and hips
HIPS = (11, 12)
SHOULDERS = (5, 6)


@dataclass(frozen=True)
class CropRegion:
    """A box normalised to the frame; it may extend past the edges (the model sees black there)."""

    y_min: float
    x_min: float
    y_max: float
    x_max: float

    @property
    def height(self) -> float:
        return self.y_max - self.y_min

    @property
    def width(self) -> float:
        return self.x_max - self.x_min

    def to_frame(self, keypoints: Keypoints) -> Keypoints:
        """Map keypoints normalised to this crop back to the frame (undoes crop and padding)."""
        out = np.array(keypoints, dtype=np.float32, copy=True)
        out[:, 0] = self.y_min + self.height * out[:, 0]
        out[:, 1] = self.x_min + self.width * out[:, 1]
        return out


@dataclass(frozen=True)
class Zone:
    """The platform zone as fractions of the frame: where the lifter stands."""

    x_min: float = 0.0
    y_min: float = 0.0
    x_max: float = 1.0
    y_max: float = 1.0

    @property
    def is_whole_frame(self) -> bool:
        return (self.x_min, self.y_min, self.x_max, self.y_max) == (0.0, 0.0, 1.0, 1.0)

    def holds(self, keypoints: Keypoints, min_score: float = MIN_CROP_SCORE) -> bool:
        """Whether the person's hips (else shoulders) are inside the zone; no torso = not held."""
        if keypoints.dtype != np.float32:
            return self._holds_numpy(keypoints, min_score)
        rows: list[list[float]] = keypoints.tolist()  # plain floats: a few times faster on 17 rows
        threshold = float(np.float32(min_score))  # numpy compares float32 scores at float32 precision
        for joints in (HIPS, SHOULDERS):
            sure = [rows[j] for j in joints if rows[j][2] >= threshold]
            if sure:
                y, x = (_mean_f32([row[axis] for row in sure]) for axis in (0, 1))
                return self.x_min <= x <= self.x_max and self.y_min <= y <= self.y_max
        return False

    def _holds_numpy(self, keypoints: Keypoints, min_score: float) -> bool:
        """`holds` for keypoints that are not float32 (compared at their own precision)."""
        for joints in (HIPS, SHOULDERS):
            sure = [j for j in joints if keypoints[j, 2] >= min_score]
            if sure:
                y = float(np.mean(keypoints[sure, 0]))
                x = float(np.mean(keypoints[sure, 1]))
                return self.x_min <= x <= self.x_max and self.y_min <= y <= self.y_max
        return False


def _mean_f32(values: list[float]) -> float:
    """np.mean of one or two float32 values, rounded as numpy rounds it (float32 sum, then halved)."""
    if len(values) == 1:
        return values[0]
    return float((np.float32(values[0]) + np.float32(values[1])) / np.float32(2))


def full_region(height_px: int, width_px: int, zone: Zone = Zone(), aspect: float = 1.0) -> CropRegion:
    """The smallest box of the model's aspect (width/height, in pixels) centred on and covering the zone."""
    zone_h_px = (zone.y_max - zone.y_min) * height_px
    zone_w_px = (zone.x_max - zone.x_min) * width_px
    box_h_px = max(zone_h_px, zone_w_px / aspect)
    box_w_px = box_h_px * aspect
    cy_px = (zone.y_min + zone.y_max) / 2 * height_px
    cx_px = (zone.x_min + zone.x_max) / 2 * width_px
    return CropRegion(
        y_min=(cy_px - box_h_px / 2) / height_px,
        x_min=(cx_px - box_w_px / 2) / width_px,
        y_max=(cy_px + box_h_px / 2) / height_px,
        x_max=(cx_px + box_w_px / 2) / width_px,
    )


def torso_visible(keypoints: Keypoints) -> bool:
    """A hip and a shoulder clear MIN_CROP_SCORE: enough to centre and size a crop."""
    scores = keypoints[:, 2]
    return bool(max(scores[j] for j in HIPS) > MIN_CROP_SCORE and max(scores[j] for j in SHOULDERS) > MIN_CROP_SCORE)


# MIN_CROP_SCORE as float32 keypoint scores are compared with it (numpy casts the Python float to
# the array's float32): a plain-float comparison with this value gives exactly the same verdicts.
_MIN_SCORE_F32 = float(np.float32(MIN_CROP_SCORE))


def next_region(
    keypoints: Keypoints, height_px: int, width_px: int, fallback: CropRegion, aspect: float = 1.0
) -> CropRegion:
    """The crop for the next frame from this frame's keypoints (normalised to the frame)."""
    # Plain Python floats: on 17 joints a dozen numpy calls cost 5x the arithmetic (per frame, on
    # the inference thread). Float64 throughout, as numpy did, so the crop is bit for bit the same.
    if keypoints.dtype != np.float32:  # other dtypes compare scores at their own precision
        return _next_region_numpy(keypoints, height_px, width_px, fallback, aspect)
    rows: list[list[float]] = keypoints.tolist()
    y_px = [row[0] * height_px for row in rows]
    x_px = [row[1] * width_px for row in rows]
    if not math.isfinite(sum(y_px) + sum(x_px)):
        return _next_region_numpy(keypoints, height_px, width_px, fallback, aspect)  # NaN/inf: numpy's rules
    scores = [row[2] for row in rows]
    if not (max(scores[j] for j in HIPS) > _MIN_SCORE_F32 and max(scores[j] for j in SHOULDERS) > _MIN_SCORE_F32):
        return fallback
    left, right = HIPS
    cy_px = (y_px[left] + y_px[right]) / 2
    cx_px = (x_px[left] + x_px[right]) / 2
    torso_dy = max([abs(y_px[j] - cy_px) for j in TORSO])
    torso_dx = max([abs(x_px[j] - cx_px) for j in TORSO])
    sure = [j for j, score in enumerate(scores) if score >= _MIN_SCORE_F32]
    body_dy = max([abs(y_px[j] - cy_px) for j in sure])
    body_dx = max([abs(x_px[j] - cx_px) for j in sure])
    return _region_around(cy_px, cx_px, (torso_dy, torso_dx, body_dy, body_dx), height_px, width_px, fallback, aspect)


def _next_region_numpy(
    keypoints: Keypoints, height_px: int, width_px: int, fallback: CropRegion, aspect: float
) -> CropRegion:
    """`next_region` in numpy, for keypoints holding NaN or inf (numpy's max propagates NaN) or not float32."""
    if not torso_visible(keypoints):
        return fallback
    y_px = keypoints[:, 0].astype(np.float64) * height_px
    x_px = keypoints[:, 1].astype(np.float64) * width_px
    cy_px = float(np.mean(y_px[list(HIPS)]))
    cx_px = float(np.mean(x_px[list(HIPS)]))
    torso = list(TORSO)
    sure = keypoints[:, 2] >= MIN_CROP_SCORE
    ranges = (
        float(np.max(np.abs(y_px[torso] - cy_px))),
        float(np.max(np.abs(x_px[torso] - cx_px))),
        float(np.max(np.abs(y_px[sure] - cy_px))),
        float(np.max(np.abs(x_px[sure] - cx_px))),
    )
    return _region_around(cy_px, cx_px, ranges, height_px, width_px, fallback, aspect)


def _region_around(
    cy_px: float,
    cx_px: float,
    ranges_px: tuple[float, float, float, float],
    height_px: int,
    width_px: int,
    fallback: CropRegion,
    aspect: float,
) -> CropRegion:
    """The crop centred on the hips, sized from the (torso dy, torso dx, body dy, body dx) ranges."""
    torso_dy, torso_dx, body_dy, body_dx = ranges_px
    half_px = max(torso_dy * TORSO_EXPANSION, torso_dx * TORSO_EXPANSION, body_dy * BODY_EXPANSION, body_dx * BODY_EXPANSION)
    # Never larger than needed to reach the farthest frame edge from the centre.
    half_px = min(half_px, max(cx_px, width_px - cx_px, cy_px, height_px - cy_px))
    if half_px > max(width_px, height_px) / 2 or half_px <= 0:
        return fallback
    half_w_px = half_px * aspect
    return CropRegion(
        y_min=(cy_px - half_px) / height_px,
        x_min=(cx_px - half_w_px) / width_px,
        y_max=(cy_px + half_px) / height_px,
        x_max=(cx_px + half_w_px) / width_px,
    )


class CropTracker:
    """Carries the crop region from one frame to the next; falls back when the person is lost."""

    def __init__(self, enabled: bool = True, zone: Zone = Zone(), aspect: float = 1.0) -> None:
        self.enabled = enabled
        self.zone = zone
        self.aspect = aspect
        self._region: CropRegion | None = None
        self._size: tuple[int, int] | None = None
        self._fallback: tuple[tuple[int, int], CropRegion] | None = None  # (frame size, its full region)

    def _full(self, size: tuple[int, int]) -> CropRegion:
        """The fallback region for this frame size, made once per size (not once per frame)."""
        if self._fallback is None or self._fallback[0] != size:
            self._fallback = (size, full_region(size[0], size[1], self.zone, self.aspect))
        return self._fallback[1]

    def region(self, height_px: int, width_px: int) -> CropRegion:
        """The crop to use on a frame of this size (a new size restarts from the fallback)."""
        if self._region is None or self._size != (height_px, width_px):
            self._size = (height_px, width_px)
            self._region = self._full(self._size)
        return self._region

    def update(self, keypoints: Keypoints, height_px: int, width_px: int) -> CropRegion:
        """Derive the next frame's crop from this frame's keypoints."""
        self._size = (height_px, width_px)
        fallback = self._full(self._size)
        self._region = next_region(keypoints, height_px, width_px, fallback, self.aspect) if self.enabled else fallback
        return self._region

    def reset(self) -> None:
        """Forget the person: the next frame is searched whole (or the whole zone)."""
        self._region = None
