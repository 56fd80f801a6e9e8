"""Helpers for the pose tests: the real model and images from ../shared, reference keypoints."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from paths import MODEL_PATH, POSE_IMAGES_DIR
from station.config import load_config
from station.hw.pose import PoseModel, load_pose_model
from station.hw.sources import read_image

needs_model = pytest.mark.skipif(not MODEL_PATH.is_file(), reason=f"real MoveNet model absent: {MODEL_PATH}")
needs_images = pytest.mark.skipif(not POSE_IMAGES_DIR.is_dir(), reason=f"real pose images absent: {POSE_IMAGES_DIR}")


def pose_model(**pose: object) -> PoseModel:
    """The real model, configured through load_config so STATION_POSE__* (e.g. the runtime) applies."""
    flags = {"pose.model": str(MODEL_PATH), **{f"pose.{k}": v for k, v in pose.items()}}
    return load_pose_model(load_config(flags=flags).pose)


def image(name: str) -> np.ndarray:
    return read_image(POSE_IMAGES_DIR / name)


def squat_reference() -> np.ndarray:
    """The published Lightning int8 output on squat.bmp: (17, 3) [y, x, score] normalised."""
    with (POSE_IMAGES_DIR / "squat_movenet_lightning_int8_reference.csv").open() as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: int(r["keypoint_id"]))
    return np.array([[float(r["keypoint_y"]), float(r["keypoint_x"]), float(r["keypoint_score"])] for r in rows])


def landmark_truth(row: int) -> np.ndarray:
    """Ground truth of pose_landmark_truth.csv row 1 (image1) or 2 (image2): (17, 2) [x, y] pixels."""
    with (POSE_IMAGES_DIR / "pose_landmark_truth.csv").open() as fh:
        rows = list(csv.reader(fh))
    return np.array(rows[row], dtype=np.float64).reshape(17, 2)


def error_of_side(keypoints: np.ndarray, truth_xy_px: np.ndarray, width_px: int, height_px: int) -> np.ndarray:
    """Per-keypoint distance to the truth, as a fraction of the image's long side."""
    dx = keypoints[:, 1] * width_px - truth_xy_px[:, 0]
    dy = keypoints[:, 0] * height_px - truth_xy_px[:, 1]
    return np.hypot(dx, dy) / max(width_px, height_px)


def frame_path(name: str) -> Path:
    return POSE_IMAGES_DIR / name


def golden_input(model: PoseModel) -> np.ndarray:
    """squat.bmp (lossless) letterboxed to the model input: the input of the golden test."""
    from station.hw.crop import full_region
    from station.hw.resize import crop_and_resize

    picture = image("squat.bmp")
    region = full_region(*picture.shape[:2])
    return crop_and_resize(picture, region, model.net.input_height_px, model.net.input_width_px)
