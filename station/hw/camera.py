"""The Pi camera through picamera2: the ISP scales the sensor image to the model's input size.

picamera2 is imported lazily (it touches libcamera on import, and is absent off the Pi). Its
"RGB888" is BGR-ordered in memory and a Pi 4 gives the low-res stream only as YUV420, so both
are converted here and tested for channel order (tests/hw/test_camera.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from station.errors import CameraError
from station.settings.camera import CameraSettings
from station.types import Frame

USE_FILE_HINT = "or run on a file with `--source FILE`"


def lores_size(resolution: tuple[int, ...], input_size_px: int) -> tuple[int, int]:
    """The low-res stream size: the sensor's aspect with its long side at the model input size.

    Keeping the aspect (rather than asking for a square) keeps the ISP from squashing the lifter;
    the short side gets letterboxed in `crop_and_resize`. Sizes are even, as YUV420 needs.
    """
    width_px, height_px = int(resolution[0]), int(resolution[1])
    scale = input_size_px / max(width_px, height_px)
    return max(2, round(width_px * scale / 2) * 2), max(2, round(height_px * scale / 2) * 2)


def bgr_to_rgb(array: npt.NDArray[np.uint8], width_px: int) -> npt.NDArray[np.uint8]:
    """picamera2's "RGB888" buffer (bytes B, G, R; rows may be padded) as an RGB image."""
    return np.ascontiguousarray(array[:, :width_px, 2::-1])


def yuv420_to_rgb(buffer: npt.NDArray[np.uint8], width_px: int, height_px: int) -> npt.NDArray[np.uint8]:
    """A planar YUV420 (I420) buffer of shape (height*3/2, stride) as RGB, full-range BT.601 (sYCC).

    The preview configuration's colour space is sYCC, i.e. JPEG's full-range BT.601 matrix.
    """
    stride = buffer.shape[1]
    y = buffer[:height_px, :width_px].astype(np.float32)
    chroma = buffer[height_px:].reshape(-1)
    plane = (height_px // 2) * (stride // 2)
    u = chroma[:plane].reshape(height_px // 2, stride // 2)[:, : width_px // 2]
    v = chroma[plane : 2 * plane].reshape(height_px // 2, stride // 2)[:, : width_px // 2]
    u = np.repeat(np.repeat(u.astype(np.float32) - 128.0, 2, axis=0), 2, axis=1)
    v = np.repeat(np.repeat(v.astype(np.float32) - 128.0, 2, axis=0), 2, axis=1)
    rgb = np.empty((height_px, width_px, 3), dtype=np.float32)
    rgb[..., 0] = y + 1.402 * v
    rgb[..., 1] = y - 0.344136 * u - 0.714136 * v
    rgb[..., 2] = y + 1.772 * u
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def _open_picamera2() -> Any:
    try:
        from picamera2 import Picamera2  # lazy: libcamera is touched on import
    except ImportError:
        raise CameraError(
            "picamera2 is not installed: `sudo apt install python3-picamera2` and make the venv with "
            f"--system-site-packages (sudo ./setup.sh does both), {USE_FILE_HINT}"
        ) from None
    try:
        if not Picamera2.global_camera_info():
            raise CameraError(f"no camera found: check the ribbon cable and `rpicam-hello --list-cameras`, {USE_FILE_HINT}")
        return Picamera2()
    except CameraError:
        raise
    except Exception as exc:  # noqa: BLE001 - libcamera reports a busy/absent camera in many ways
        raise CameraError(f"the camera cannot be opened ({exc}): is another program using it? {USE_FILE_HINT}") from None


class PiCameraSource:
    """Frames from the Pi camera's low-res stream, timestamped by the sensor; `reopen()` after it is lost."""

    def __init__(
        self,
        settings: CameraSettings,
        input_size_px: int,
        camera: Any = None,
        opener: Callable[[], Any] = _open_picamera2,
    ) -> None:
        self.settings = settings
        self._input_size_px = input_size_px
        self._opener = opener  # how a Picamera2 is made: again on every reopen
        self._camera = camera if camera is not None else opener()
        self.width_px, self.height_px = lores_size(settings.resolution, input_size_px)
        self._format = settings.lores_format
        try:
            self._configure()
        except CameraError:
            raise
        except Exception as exc:  # noqa: BLE001
            self._camera.close()
            raise CameraError(f"the camera refused the configuration ({exc}): check [camera] settings, {USE_FILE_HINT}") from None

    def _configure(self) -> None:
        cam = self._camera
        transform = None
        if self.settings.hflip or self.settings.vflip:
            from libcamera import Transform

            transform = Transform(hflip=int(self.settings.hflip), vflip=int(self.settings.vflip))
        frame_us = int(1e6 / self.settings.fps)
        config = cam.create_preview_configuration(
            main={"size": tuple(self.settings.resolution), "format": "YUV420"},
            lores={"size": (self.width_px, self.height_px), "format": self._format},
            controls={"FrameDurationLimits": (frame_us, frame_us)},
            queue=False,  # hand out the newest frame, never one that waited in a queue
            buffer_count=3,
            **({"transform": transform} if transform is not None else {}),
        )
        cam.configure(config)
        # The ISP may align the size (e.g. to 32 px on a Pi 4): use what it really gives.
        self.width_px, self.height_px = (int(n) for n in cam.camera_configuration()["lores"]["size"])
        cam.start()

    def _to_rgb(self, array: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        if self._format == "RGB888":
            return bgr_to_rgb(array, self.width_px)
        return yuv420_to_rgb(array, self.width_px, self.height_px)

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while True:
            try:
                request = self._camera.capture_request()
            except Exception as exc:  # noqa: BLE001
                raise CameraError(f"the camera stopped delivering frames ({exc}): check the ribbon cable") from None
            try:
                array = request.make_array("lores")
                t_s = float(request.get_metadata()["SensorTimestamp"]) / 1e9
            finally:
                request.release()
            yield Frame(image_rgb=self._to_rgb(array), t_s=t_s, index=index)
            index += 1

    def reopen(self) -> PiCameraSource:
        """A fresh camera with the same settings, after this one was lost and closed (CameraError if still absent)."""
        return PiCameraSource(self.settings, self._input_size_px, opener=self._opener)

    def close(self) -> None:
        try:
            self._camera.stop()
        except Exception as exc:  # noqa: BLE001 - a vanished camera fails to stop; it must still be released
            print(f"station: stopping the camera failed ({exc})", file=sys.stderr)
        finally:
            self._camera.close()
