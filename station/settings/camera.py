"""[camera] where frames come from: the Pi camera, or a video file's decode size."""

from __future__ import annotations

from dataclasses import dataclass

LORES_FORMATS = ("YUV420", "RGB888")


@dataclass(frozen=True)
class CameraSettings:
    """Frame-source settings, read by `station.hw.sources.open_source`."""

    # Full sensor field of view at a mode every Pi camera (v1-v3, HQ, GS) offers; the ISP
    # scales it down to the low-res stream the model reads, so this size costs no CPU.
    resolution: tuple[int, ...] = (1280, 960)
    # A rep's descent lasts ~1 s: 30 fps gives ~30 samples per descent, far more than grading needs,
    # and inference drops the surplus anyway (only the newest frame is processed).
    fps: float = 30.0
    # Format of the ISP's low-res stream. The Pi 4 ISP gives lores only as YUV420 (converted in
    # numpy, ~0.2 ms at 192 px); a Pi 5 can give "RGB888" (BGR-ordered bytes, swapped on arrival).
    lores_format: str = "YUV420"
    # Mirror or flip the picture when the camera is mounted upside down (a side view stays side-on).
    hflip: bool = False
    vflip: bool = False
    # Video files are decoded straight to this long side (FFmpeg's scaler): enough pixels for crop
    # tracking to zoom ~3x on a distant lifter at 192 px model input, and a 1080p clip decodes cheaply.
    video_max_side_px: int = 640
    # Frame rate assumed for a folder of still images (they carry no timestamps).
    images_fps: float = 30.0

    def __post_init__(self) -> None:
        if len(self.resolution) != 2 or min(self.resolution) <= 0:
            raise ValueError(f"resolution = {list(self.resolution)}; give [width, height] in pixels")
        if self.lores_format not in LORES_FORMATS:
            raise ValueError(f"lores_format = {self.lores_format!r}; choose one of {', '.join(LORES_FORMATS)}")
        if self.fps <= 0 or self.images_fps <= 0:
            raise ValueError("fps and images_fps must be positive")
        if self.video_max_side_px < 16:
            raise ValueError(f"video_max_side_px = {self.video_max_side_px}; must be at least 16")
