"""The MoveNet adapter on real pixels: reference outputs, ground truth, any aspect ratio, both runtimes.

Runs in .venv (ai-edge-litert, numpy 2) and in .venv-tflite (tflite-runtime, numpy<2) via
.ci/tflite-env.sh, which sets STATION_POSE__RUNTIME=tflite_runtime.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from posehelpers import (
    error_of_side, golden_input, image, landmark_truth, needs_images, needs_model, pose_model, squat_reference,
)  # fmt: skip

pytestmark = [pytest.mark.model, needs_model, needs_images]

# squat.bmp vs the published output of the very same model: the bound.
SQUAT_TOLERANCE_OF_SIDE = 0.05
# image1/image2 vs hand-labelled truth. Measured (ai-edge-litert, letterboxed): worst keypoint 0.025
# (image1) and 0.038 (image2) of the long side, means 0.014 and 0.016. The runtimes' optimised
# kernels differ by up to ~0.04 on confident points (PROVENANCE.md), so each keypoint gets
# 0.04 + 0.04 = 0.08 and the mean, which averages the runtime noise out, 0.03.
TRUTH_TOLERANCE_OF_SIDE = 0.08
TRUTH_MEAN_TOLERANCE_OF_SIDE = 0.03
FORCED_RUNTIME = os.environ.get("STATION_POSE__RUNTIME", "auto")
GOLDEN = Path(__file__).parent / "data" / "squat_reference_kernels.json"


def test_forced_runtime_is_the_one_used() -> None:
    model = pose_model()
    if FORCED_RUNTIME == "auto":
        assert model.runtime in ("ai_edge_litert", "tflite_runtime")
    else:
        assert model.runtime == FORCED_RUNTIME


@pytest.mark.parametrize("threads", [1, 2])
def test_squat_matches_published_reference(threads: int) -> None:
    model = pose_model(threads=threads, crop_tracking=False)
    picture = image("squat.bmp")
    height_px, width_px = picture.shape[:2]
    reference = squat_reference()
    keypoints = model.detect(picture)
    truth_xy_px = np.stack([reference[:, 1] * width_px, reference[:, 0] * height_px], axis=1)
    errors = error_of_side(keypoints, truth_xy_px, width_px, height_px)
    assert errors.max() <= SQUAT_TOLERANCE_OF_SIDE, errors.round(3)
    assert model.last_inference_ms > 0


@pytest.mark.parametrize(("name", "row"), [("image1.png", 1), ("image2.jpeg", 2)])
def test_standing_people_match_ground_truth(name: str, row: int) -> None:
    model = pose_model(crop_tracking=False)
    picture = image(name)
    height_px, width_px = picture.shape[:2]
    errors = error_of_side(model.detect(picture), landmark_truth(row), width_px, height_px)
    assert errors.max() <= TRUTH_TOLERANCE_OF_SIDE, errors.round(3)
    assert errors.mean() <= TRUTH_MEAN_TOLERANCE_OF_SIDE, errors.round(3)


@pytest.mark.parametrize(("name", "row"), [("image1.png", 1), ("image2.jpeg", 2)])
def test_crop_tracking_zooms_in_and_stays_on_truth(name: str, row: int) -> None:
    """A person filling a third of a large frame: the second frame's crop zooms in on them."""
    model = pose_model(crop_tracking=True)
    person = image(name)
    canvas = np.zeros((1800, 1600, 3), dtype=np.uint8)
    oy, ox = 900, 500
    canvas[oy : oy + person.shape[0], ox : ox + person.shape[1]] = person
    truth_xy_px = landmark_truth(row) + [ox, oy]
    first = model.detect(canvas)
    first_region = model.last_region
    second = model.detect(canvas)  # the crop derived from the first pose
    assert first_region is not None and model.last_region is not None
    assert model.last_region.height < 0.6 * first_region.height  # zoomed in on the person
    first_errors = error_of_side(first, truth_xy_px, 1600, 1800)
    second_errors = error_of_side(second, truth_xy_px, 1600, 1800)
    # Measured in frame (long side 1800): zooming in makes the pose at least as good as the first look.
    assert second_errors.mean() < first_errors.mean()
    assert second_errors.max() * 1800 / max(person.shape[:2]) <= TRUTH_TOLERANCE_OF_SIDE, second_errors.round(3)


@pytest.mark.parametrize(
    ("canvas_hw", "offset_yx"),
    [((700, 1500), (40, 820)), ((1400, 560), (700, 30)), ((610, 500), (0, 0))],
    ids=["wide", "tall", "exact"],
)
def test_keypoints_map_back_to_frame_at_any_aspect(canvas_hw: tuple[int, int], offset_yx: tuple[int, int]) -> None:
    """The squat pasted into wide and tall frames: keypoints land on the squat, in frame coordinates."""
    model = pose_model(crop_tracking=False)
    squat = image("squat.bmp")
    canvas = np.zeros((*canvas_hw, 3), dtype=np.uint8)
    oy, ox = offset_yx
    canvas[oy : oy + squat.shape[0], ox : ox + squat.shape[1]] = squat
    expected = model.detect(squat)  # normalised to the squat alone
    expected_xy_px = np.stack([expected[:, 1] * squat.shape[1] + ox, expected[:, 0] * squat.shape[0] + oy], axis=1)
    keypoints = model.detect(canvas)
    sure = (expected[:, 2] > 0.3) & (keypoints[:, 2] > 0.3)
    assert sure.sum() >= 10
    errors = error_of_side(keypoints, expected_xy_px, canvas_hw[1], canvas_hw[0])
    # The squat fills less of a large canvas, so the model sees it at lower resolution.
    assert np.median(errors[sure]) <= 0.03, errors.round(3)


def test_person_outside_platform_zone_is_absent() -> None:
    picture = image("image1.png")  # the woman stands in the middle of the frame
    inside = pose_model(platform_zone=[0.2, 0.2, 0.8, 1.0]).detect(picture)
    outside = pose_model(platform_zone=[0.0, 0.0, 0.2, 1.0]).detect(picture)
    assert inside[:, 2].max() > 0.5
    assert np.all(outside[:, 2] == 0.0)


def test_reference_kernels_reproduce_golden_output_exactly() -> None:
    """Same bytes in, same numbers out, whichever runtime: the cross-runtime golden test."""
    golden = json.loads(GOLDEN.read_text())
    model = pose_model(reference_kernels=True, crop_tracking=False)
    raw = model.net.infer(golden_input(model))
    np.testing.assert_array_equal(raw, np.array(golden["keypoints"], dtype=np.float32))
