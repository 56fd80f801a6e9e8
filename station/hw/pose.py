"""`PoseModel`: frame in, keypoints normalised to the frame out, with crop tracking and the platform zone."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from station.hw.crop import CropRegion, CropTracker, Zone
from station.hw.movenet import MoveNet, load_movenet
from station.hw.resize import crop_and_resize
from station.models import verify_model
from station.settings.pose import PoseSettings
from station.types import Keypoints


class PoseModel:
    """Detects one person per frame; `detect` is the only call the pipeline needs."""

    def __init__(self, net: MoveNet, crop_tracking: bool = True, zone: Zone = Zone()) -> None:
        self.net = net
        self.zone = zone
        self._whole_frame = zone.is_whole_frame  # known once: no zone check per frame
        self.tracker = CropTracker(crop_tracking, zone, aspect=net.input_width_px / net.input_height_px)
        self.last_region: CropRegion | None = None
        self.last_resize_ms = 0.0
        self.last_other_ms = 0.0

    @property
    def last_inference_ms(self) -> float:
        return self.net.last_inference_ms

    @property
    def runtime(self) -> str:
        return self.net.runtime

    def detect(self, image_rgb: npt.NDArray[np.uint8]) -> Keypoints:
        """Keypoints (17, 3) [y, x, score] normalised to this frame; scores 0 if no lifter in the zone."""
        height_px, width_px = image_rgb.shape[:2]
        t0 = time.perf_counter()
        region = self.tracker.region(height_px, width_px)
        picture = crop_and_resize(image_rgb, region, self.net.input_height_px, self.net.input_width_px)
        t1 = time.perf_counter()
        raw = self.net.infer(picture)
        t2 = time.perf_counter()
        keypoints = region.to_frame(raw)
        if self._whole_frame or self.zone.holds(keypoints):
            self.tracker.update(keypoints, height_px, width_px)
        else:
            keypoints[:, 2] = 0.0  # someone off the platform is not the lifter
            self.tracker.reset()
        self.last_region = region
        self.last_resize_ms = (t1 - t0) * 1e3
        self.last_other_ms = (time.perf_counter() - t2) * 1e3
        return keypoints

    def reset(self) -> None:
        """Forget the tracked person (a new clip, a cut)."""
        self.tracker.reset()


def load_pose_model(settings: PoseSettings, model_path: str | Path | None = None) -> PoseModel:
    """Verify the configured model file against the manifest, then load it."""
    path = Path(model_path or settings.model).expanduser()
    if settings.verify:
        verify_model(path)
    net = load_movenet(path, settings.threads, settings.runtime, settings.reference_kernels)
    return PoseModel(net, settings.crop_tracking, Zone(*settings.platform_zone))
