"""MoveNet's crop-region algorithm on synthetic sequences: moving, shrinking, lost and found."""

from __future__ import annotations

import numpy as np
import pytest

from station.hw.crop import (
    BODY_EXPANSION, TORSO_EXPANSION, CropRegion, CropTracker, Zone, full_region, next_region,
)  # fmt: skip

WIDTH_PX, HEIGHT_PX = 1280, 720

# A standing person, offsets from the hip midpoint in units of body height (y down, x right).
STANDING = {
    0: (-0.45, 0.02), 1: (-0.47, 0.03), 2: (-0.47, 0.0), 3: (-0.46, 0.05), 4: (-0.46, -0.02),
    5: (-0.30, 0.08), 6: (-0.30, -0.08), 7: (-0.15, 0.10), 8: (-0.15, -0.10), 9: (0.0, 0.11),
    10: (0.0, -0.11), 11: (0.0, 0.05), 12: (0.0, -0.05), 13: (0.25, 0.05), 14: (0.25, -0.05),
    15: (0.50, 0.05), 16: (0.50, -0.05),
}  # fmt: skip


def person(hip_x_px: float, hip_y_px: float, height_px: float, score: float = 0.9) -> np.ndarray:
    """Keypoints (17, 3) normalised to the frame for a person of the given size and position."""
    kp = np.zeros((17, 3), dtype=np.float32)
    for j, (dy, dx) in STANDING.items():
        kp[j] = ((hip_y_px + dy * height_px) / HEIGHT_PX, (hip_x_px + dx * height_px) / WIDTH_PX, score)
    return kp


def side_px(region: CropRegion) -> tuple[float, float]:
    return region.height * HEIGHT_PX, region.width * WIDTH_PX


def contains(region: CropRegion, kp: np.ndarray) -> bool:
    y, x = kp[:, 0], kp[:, 1]
    return bool(np.all((y >= region.y_min) & (y <= region.y_max) & (x >= region.x_min) & (x <= region.x_max)))


def test_full_region_is_a_centred_square_covering_the_frame() -> None:
    for height_px, width_px in [(720, 1280), (1280, 720), (500, 500)]:
        region = full_region(height_px, width_px)
        h_px, w_px = region.height * height_px, region.width * width_px
        assert h_px == pytest.approx(w_px) == pytest.approx(max(height_px, width_px))
        assert (region.y_min + region.y_max) / 2 == pytest.approx(0.5)
        assert (region.x_min + region.x_max) / 2 == pytest.approx(0.5)


def test_crop_is_sized_from_torso_and_whole_body() -> None:
    kp = person(640, 400, 300)
    region = next_region(kp, HEIGHT_PX, WIDTH_PX, full_region(HEIGHT_PX, WIDTH_PX))
    h_px, w_px = side_px(region)
    assert h_px == pytest.approx(w_px)  # square in pixels
    # Farthest confident joint: an ankle 0.5 * 300 px below the hips -> 1.2x that; the torso gives less.
    assert h_px / 2 == pytest.approx(max(0.50 * 300 * BODY_EXPANSION, 0.30 * 300 * TORSO_EXPANSION), rel=1e-4)
    assert (region.y_min + region.y_max) / 2 * HEIGHT_PX == pytest.approx(400)
    assert (region.x_min + region.x_max) / 2 * WIDTH_PX == pytest.approx(640)


def test_body_range_uses_every_confident_keypoint_not_a_leftover_torso_joint() -> None:
    """Arms raised far overhead: the wrists, not the last torso joint, set the crop's size."""
    kp = person(640, 450, 260)
    kp[9, :2] = ((450 - 330) / HEIGHT_PX, (640 + 20) / WIDTH_PX)  # left wrist 330 px above the hips
    region = next_region(kp, HEIGHT_PX, WIDTH_PX, full_region(HEIGHT_PX, WIDTH_PX))
    assert contains(region, kp)
    assert region.height * HEIGHT_PX / 2 == pytest.approx(330 * BODY_EXPANSION, rel=1e-4)
    # The leftover-variable bug sizes the body from the right hip (12), 13 px from the centre:
    buggy_half_px = max(0.30 * 260 * TORSO_EXPANSION, 13 * BODY_EXPANSION)
    assert region.height * HEIGHT_PX / 2 > buggy_half_px + 100


def test_unsure_keypoints_do_not_steer_the_crop() -> None:
    kp = person(640, 450, 260)
    kp[9] = (0.01, 0.01, 0.1)  # a wild, unsure wrist in the corner
    region = next_region(kp, HEIGHT_PX, WIDTH_PX, full_region(HEIGHT_PX, WIDTH_PX))
    assert region.height * HEIGHT_PX / 2 == pytest.approx(0.50 * 260 * BODY_EXPANSION, rel=1e-4)


def test_moving_person_stays_inside_the_crop_every_frame() -> None:
    tracker = CropTracker()
    for frame in range(60):
        kp = person(200 + 15 * frame, 420, 280)  # walks right at 15 px per frame
        region = tracker.region(HEIGHT_PX, WIDTH_PX)
        if frame > 0:
            assert contains(region, kp), frame  # last frame's crop still holds this frame's pose
            assert region.height * HEIGHT_PX < HEIGHT_PX  # tracking, not the full frame
        tracker.update(kp, HEIGHT_PX, WIDTH_PX)
    final = tracker.region(HEIGHT_PX, WIDTH_PX)
    assert (final.x_min + final.x_max) / 2 * WIDTH_PX == pytest.approx(200 + 15 * 59)


def test_shrinking_person_shrinks_the_crop_proportionally() -> None:
    tracker = CropTracker()
    sides_px = []
    for height_px in (500, 400, 300, 200, 100):
        tracker.update(person(640, 400, height_px), HEIGHT_PX, WIDTH_PX)
        sides_px.append(tracker.region(HEIGHT_PX, WIDTH_PX).height * HEIGHT_PX)
    assert sides_px == sorted(sides_px, reverse=True)
    assert sides_px[-1] / sides_px[1] == pytest.approx(100 / 400, rel=1e-3)


def test_lost_person_falls_back_to_full_frame_then_is_found_again() -> None:
    tracker = CropTracker()
    full = full_region(HEIGHT_PX, WIDTH_PX)
    tracker.update(person(900, 400, 250), HEIGHT_PX, WIDTH_PX)
    assert tracker.region(HEIGHT_PX, WIDTH_PX) != full
    tracker.update(person(900, 400, 250, score=0.1), HEIGHT_PX, WIDTH_PX)  # lost: torso unsure
    assert tracker.region(HEIGHT_PX, WIDTH_PX) == full
    found = person(300, 450, 250)
    tracker.update(found, HEIGHT_PX, WIDTH_PX)
    region = tracker.region(HEIGHT_PX, WIDTH_PX)
    assert region != full and contains(region, found)
    assert (region.x_min + region.x_max) / 2 * WIDTH_PX == pytest.approx(300)


def test_only_shoulders_or_only_hips_is_not_a_torso() -> None:
    tracker = CropTracker()
    kp = person(640, 400, 250)
    kp[[11, 12], 2] = 0.1
    tracker.update(kp, HEIGHT_PX, WIDTH_PX)
    assert tracker.region(HEIGHT_PX, WIDTH_PX) == full_region(HEIGHT_PX, WIDTH_PX)


def test_person_too_big_for_a_crop_gets_the_full_frame() -> None:
    kp = person(640, 360, 1400)  # taller than the frame: a crop would exceed it
    assert next_region(kp, HEIGHT_PX, WIDTH_PX, full_region(HEIGHT_PX, WIDTH_PX)) == full_region(HEIGHT_PX, WIDTH_PX)


def test_tracking_off_always_uses_the_full_frame() -> None:
    tracker = CropTracker(enabled=False)
    tracker.update(person(640, 400, 250), HEIGHT_PX, WIDTH_PX)
    assert tracker.region(HEIGHT_PX, WIDTH_PX) == full_region(HEIGHT_PX, WIDTH_PX)


def test_new_frame_size_restarts_from_the_full_frame() -> None:
    tracker = CropTracker()
    tracker.update(person(640, 400, 250), HEIGHT_PX, WIDTH_PX)
    assert tracker.region(480, 640) == full_region(480, 640)


def test_zone_fallback_covers_the_zone_and_judges_the_lifter_by_the_hips() -> None:
    zone = Zone(0.5, 0.0, 1.0, 1.0)  # the right half of the frame is the platform
    region = full_region(HEIGHT_PX, WIDTH_PX, zone)
    assert region.x_min <= 0.5 and region.x_max >= 1.0 and region.height * HEIGHT_PX == pytest.approx(720)
    assert (region.x_min + region.x_max) / 2 == pytest.approx(0.75)
    assert zone.holds(person(1000, 400, 250))
    assert not zone.holds(person(300, 400, 250))
    assert not zone.holds(person(1000, 400, 250, score=0.1))
    tracker = CropTracker(zone=zone)
    tracker.reset()
    assert tracker.region(HEIGHT_PX, WIDTH_PX) == region


def test_crop_region_maps_model_keypoints_back_to_the_frame() -> None:
    region = CropRegion(y_min=-0.25, x_min=0.1, y_max=1.25, x_max=0.6)
    model_kp = np.array([[0.0, 0.0, 0.9], [1.0, 1.0, 0.8], [0.5, 0.5, 0.7]] + [[0.5, 0.5, 0.5]] * 14, dtype=np.float32)
    frame_kp = region.to_frame(model_kp)
    np.testing.assert_allclose(frame_kp[:3, :2], [[-0.25, 0.1], [1.25, 0.6], [0.5, 0.35]], atol=1e-6)
    np.testing.assert_array_equal(frame_kp[:, 2], model_kp[:, 2])
