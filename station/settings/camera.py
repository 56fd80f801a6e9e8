"""[camera] where frames come from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CameraSettings:
    """Pi camera settings; filled in by the frame-source code."""

    fps: float = 30.0  # frames per second asked of the camera
