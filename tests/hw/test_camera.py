"""The Pi camera source: low-res stream at the model size, channel order, sensor timestamps.

No camera is attached here, so `PiCameraSource` gets a recording stand-in for the Picamera2
object (the one seam where hardware enters); the pixel conversions are the real code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from station.errors import CameraError
from station.hw.camera import PiCameraSource, bgr_to_rgb, lores_size, yuv420_to_rgb
from station.settings.camera import CameraSettings

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def rgb888_buffer(rgb: np.ndarray, pad_px: int = 0) -> np.ndarray:
    """What picamera2 hands out for "RGB888": bytes in B, G, R order, rows maybe padded."""
    bgr = rgb[..., ::-1]
    return np.ascontiguousarray(np.pad(bgr, ((0, 0), (0, pad_px), (0, 0))))


def i420_buffer(rgb: np.ndarray, stride_px: int) -> np.ndarray:
    """Planar YUV420 with full-range BT.601 (sYCC), laid out as picamera2's make_array gives it."""
    height_px, width_px = rgb.shape[:2]
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    v = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
    sub = lambda c: c.reshape(height_px // 2, 2, width_px // 2, 2).mean(axis=(1, 3))  # noqa: E731
    buffer = np.zeros((height_px * 3 // 2, stride_px), dtype=np.uint8)
    buffer[:height_px, :width_px] = np.clip(np.round(y), 0, 255)
    chroma = np.zeros((height_px // 2) * stride_px, dtype=np.uint8)
    plane = (height_px // 2) * (stride_px // 2)
    for k, c in enumerate((sub(u), sub(v))):
        padded = np.zeros((height_px // 2, stride_px // 2))
        padded[:, : width_px // 2] = c
        chroma[k * plane : (k + 1) * plane] = np.clip(np.round(padded), 0, 255).ravel()
    buffer[height_px:] = chroma.reshape(height_px // 2, stride_px)
    return buffer


def test_lores_size_keeps_the_sensor_aspect_at_model_size() -> None:
    assert lores_size((1280, 960), 192) == (192, 144)
    assert lores_size((1920, 1080), 256) == (256, 144)
    assert lores_size((960, 1280), 192) == (144, 192)


def test_rgb888_arrives_bgr_and_comes_out_rgb() -> None:
    rgb = np.zeros((4, 6, 3), dtype=np.uint8)
    rgb[:, :2], rgb[:, 2:4], rgb[:, 4:] = RED, GREEN, BLUE
    out = bgr_to_rgb(rgb888_buffer(rgb, pad_px=2), width_px=6)
    np.testing.assert_array_equal(out, rgb)
    assert tuple(out[0, 0]) == RED


@pytest.mark.parametrize("stride_px", [8, 16])
def test_yuv420_converts_to_the_right_colours(stride_px: int) -> None:
    rgb = np.zeros((4, 8, 3), dtype=np.uint8)
    rgb[:, :2], rgb[:, 2:4], rgb[:, 4:6], rgb[:, 6:] = RED, GREEN, BLUE, (128, 128, 128)
    out = yuv420_to_rgb(i420_buffer(rgb, stride_px), width_px=8, height_px=4)
    assert out.shape == (4, 8, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - rgb).max() <= 3


class FakeRequest:
    def __init__(self, array: np.ndarray, t_ns: int, log: list[str]) -> None:
        self.array, self.t_ns, self.log = array, t_ns, log

    def make_array(self, name: str) -> np.ndarray:
        self.log.append(f"make_array {name}")
        return self.array

    def get_metadata(self) -> dict[str, Any]:
        return {"SensorTimestamp": self.t_ns}

    def release(self) -> None:
        self.log.append("release")


class FakePicamera2:
    """Records the configuration asked for; hands out BGR-ordered "RGB888" or I420 buffers."""

    def __init__(self, buffers: list[np.ndarray]) -> None:
        self.buffers = buffers
        self.log: list[str] = []
        self.config: dict[str, Any] = {}

    def create_preview_configuration(self, **kwargs: Any) -> dict[str, Any]:
        return kwargs

    def configure(self, config: dict[str, Any]) -> None:
        self.config = config

    def camera_configuration(self) -> dict[str, Any]:
        return {"lores": {"size": self.config["lores"]["size"]}}

    def start(self) -> None:
        self.log.append("start")

    def capture_request(self) -> FakeRequest:
        if not self.buffers:
            raise RuntimeError("Camera frontend has timed out!")
        return FakeRequest(self.buffers.pop(0), 1_000_000_000 + 33_000_000 * len(self.log), self.log)

    def stop(self) -> None:
        self.log.append("stop")

    def close(self) -> None:
        self.log.append("close")


def test_source_asks_isp_for_model_sized_stream_and_yields_rgb() -> None:
    rgb = np.zeros((144, 192, 3), dtype=np.uint8)
    rgb[:, :96] = RED
    rgb[:, 96:] = BLUE
    camera = FakePicamera2([rgb888_buffer(rgb), rgb888_buffer(rgb)])
    source = PiCameraSource(CameraSettings(lores_format="RGB888", resolution=(1280, 960)), 192, camera=camera)
    assert camera.config["lores"] == {"size": (192, 144), "format": "RGB888"}
    assert camera.config["main"]["size"] == (1280, 960)
    assert camera.config["queue"] is False
    frames = []
    with pytest.raises(CameraError, match="stopped delivering frames"):
        for frame in source:
            frames.append(frame)
    assert len(frames) == 2 and tuple(frames[0].image_rgb[0, 0]) == RED and tuple(frames[0].image_rgb[0, -1]) == BLUE
    assert frames[1].t_s > frames[0].t_s > 1.0
    assert camera.log.count("release") == 2  # every request goes back to the camera
    source.close()
    assert camera.log[-2:] == ["stop", "close"]


def test_yuv_source_yields_rgb() -> None:
    rgb = np.zeros((144, 192, 3), dtype=np.uint8)
    rgb[:72] = GREEN
    rgb[72:] = RED
    camera = FakePicamera2([i420_buffer(rgb, 192)])
    source = PiCameraSource(CameraSettings(resolution=(1280, 960)), 192, camera=camera)
    assert camera.config["lores"]["format"] == "YUV420"
    frame = next(iter(source))
    assert np.abs(frame.image_rgb.astype(int) - rgb).max() <= 3
