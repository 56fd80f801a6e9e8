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
    # A camera that vanishes (loose ribbon cable, libcamera error) is reopened after 0.5 s, then
    # 1, 2, 4 ... s: a glitch costs under a second, a pulled cable does not spin the CPU.
    reconnect_first_s: float = 0.5
    # ... never waiting longer than 30 s between tries, so a re-seated cable is found within 30 s.
    reconnect_max_s: float = 30.0
    # No frame for 3 s from a camera that should send 30 a second means it has hung: reopen it
    # (well inside the 10 s WatchdogSec, which would otherwise restart the whole station).
    stall_s: float = 3.0
    # After 10 minutes without a camera the process gives up (CameraError, exit 69) so that systemd
    # restarts it with a fresh libcamera, the cure for a wedged driver; 0 keeps retrying for ever.
    reconnect_give_up_s: float = 600.0

    def __post_init__(self) -> None:
        if len(self.resolution) != 2 or min(self.resolution) <= 0:
            raise ValueError(f"resolution = {list(self.resolution)}; give [width, height] in pixels")
        if self.lores_format not in LORES_FORMATS:
            raise ValueError(f"lores_format = {self.lores_format!r}; choose one of {', '.join(LORES_FORMATS)}")
        if self.fps <= 0 or self.images_fps <= 0:
            raise ValueError("fps and images_fps must be positive")
        if not 0 < self.reconnect_first_s <= self.reconnect_max_s:
            raise ValueError("reconnect_first_s must be positive and at most reconnect_max_s (e.g. 0.5 and 30)")
        if self.stall_s <= 0 or self.reconnect_give_up_s < 0:
            raise ValueError("stall_s must be positive and reconnect_give_up_s 0 (never) or positive")
        if self.video_max_side_px < 16:
            raise ValueError(f"video_max_side_px = {self.video_max_side_px}; must be at least 16")
