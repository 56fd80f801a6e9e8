"""Where the tests find the checkout and the read-only ../shared folder beside it."""

from __future__ import annotations

from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_DIR.parent / "shared"
MODEL_PATH = SHARED_DIR / "models" / "movenet_singlepose_lightning_int8.tflite"
POSE_IMAGES_DIR = SHARED_DIR / "data" / "pose-images"
