"""[pose] the MoveNet model, its runtime, crop tracking and the platform zone."""

from __future__ import annotations

from dataclasses import dataclass

RUNTIMES = ("auto", "ai_edge_litert", "tflite_runtime")


@dataclass(frozen=True)
class PoseSettings:
    """Pose-model settings, read by `station.hw.pose.load_pose_model`."""

    # setup.sh installs the verified model here (under the state dir); `--model PATH` or
    # STATION_MODEL points elsewhere. Any MoveNet single-pose variant from models/manifest.toml runs.
    model: str = "/var/lib/station/models/movenet_singlepose_lightning_int8.tflite"
    # A Pi 4/5 has 4 cores: two for inference leaves the camera, web page and detector theirs.
    threads: int = 2
    # "auto" tries ai_edge_litert (numpy 2, Python 3.11-3.13) then tflite_runtime (numpy<2, <=3.11).
    runtime: str = "auto"
    # TFLite reference kernels: slow, but bit-identical across runtimes (golden tests only).
    reference_kernels: bool = False
    # MoveNet's published cropping: zoom on the lifter found in the last frame. It roughly
    # doubles the pixels on a small, distant lifter; off = always the whole frame (or zone).
    crop_tracking: bool = True
    # Where the lifter stands, as fractions of the frame (x_min, y_min, x_max, y_max). A person
    # whose hips are outside it is not the lifter (a coach, the next lifter) and reads as absent.
    # The whole frame by default: the camera is meant to be aimed at the platform.
    platform_zone: tuple[float, ...] = (0.0, 0.0, 1.0, 1.0)
    # Verify size + sha256 against models/manifest.toml before loading. Hashing 3-13 MB takes
    # ~10-50 ms on a Pi once per start; it catches a truncated copy before it gives nonsense.
    verify: bool = True

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            raise ValueError(f"runtime = {self.runtime!r}; choose one of {', '.join(RUNTIMES)}")
        if self.threads < 1:
            raise ValueError(f"threads = {self.threads}; must be at least 1")
        zone = self.platform_zone
        if len(zone) != 4 or not (0.0 <= zone[0] < zone[2] <= 1.0 and 0.0 <= zone[1] < zone[3] <= 1.0):
            raise ValueError(
                f"platform_zone = {list(zone)}; give [x_min, y_min, x_max, y_max] as fractions 0..1 with min < max"
            )
