"""[pose] the MoveNet model and its runtime."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PoseSettings:
    """Pose-model settings; filled in by the MoveNet adapter."""

    model: str = "/var/lib/station/models/movenet_singlepose_lightning_int8.tflite"
    threads: int = 2  # a Pi 4/5 has 4 cores; leave some for the camera, web and detector
