"""Frame sources behind one interface: iterate for frames, then `close()`.

`open_source(spec, config)` picks one: None = the Pi camera; a directory = still images; a
`.npz` = a keypoint recording (yields `KeypointFrame`, no model needed); any other file = a video
decoded with PyAV (timestamps from the container). Unreadable input is a `SourceError` (exit 2).
"""

from __future__ import annotations

import ctypes
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from station.errors import RecordingError, SourceError
from station.types import Frame, KeypointFrame

if TYPE_CHECKING:
    from station.config import Config

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
# Streams larger than 720p are decoded on FFmpeg's frame threads, or a Pi could not keep up with
# inference. Smaller ones decode on the reader's thread alone: a fraction of inference even on a
# Pi, and no extra threads waking to take cores from the inference threads (~2 points of the
# pipeline's overhead on a 2-core machine).
FRAME_THREADS_ABOVE_PX = 1280 * 720
# glibc's malloc (mallopt parameters): every decoded frame is a fresh ~0.7-1.2 MB buffer. With the
# default dynamic thresholds glibc hands freed frames back to the kernel and faults the pages in
# again for the next one (~20 page faults a frame, a third of the reader's CPU). Keeping up to
# 16 MB free in the heap (a dozen frames) stops that churn for a bounded cost in resident memory.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
KEEP_FREED_BYTES = 16 << 20
HEAP_ALLOCATIONS_UP_TO_BYTES = 4 << 20  # frames up to 4 MB (1280x1024 RGB) come from the heap
_allocator_tuned = False


class FrameSource(Protocol):
    """What every source offers: frames (or keypoint frames) in time order, and `close()`."""

    width_px: int
    height_px: int

    def __iter__(self) -> Iterator[Frame | KeypointFrame]: ...

    def close(self) -> None: ...


def _av() -> Any:
    try:
        import av
    except ImportError:
        raise SourceError("reading video or images needs PyAV: `pip install 'hinge-station[video]'`") from None
    return av


def fit_size(width_px: int, height_px: int, max_side_px: int) -> tuple[int, int]:
    """Scale (width, height) down so the long side is at most max_side_px; even sizes for codecs."""
    scale = min(1.0, max_side_px / max(width_px, height_px))
    return max(2, round(width_px * scale / 2) * 2), max(2, round(height_px * scale / 2) * 2)


def keep_frame_memory() -> None:
    """Let glibc keep freed frame buffers for the next frames instead of re-faulting them (once a process)."""
    global _allocator_tuned
    if _allocator_tuned:
        return
    _allocator_tuned = True
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):
        glibc = ""
    if not glibc.startswith("glibc"):
        return  # another allocator (musl, macOS, Windows): its own rules
    mallopt = ctypes.CDLL(None).mallopt
    mallopt(_M_MMAP_THRESHOLD, HEAP_ALLOCATIONS_UP_TO_BYTES)
    mallopt(_M_TRIM_THRESHOLD, KEEP_FREED_BYTES)


def read_image(path: Path) -> npt.NDArray[np.uint8]:
    """Decode a png/jpeg/bmp file to (height, width, 3) RGB uint8 with FFmpeg (no OpenCV, no Pillow)."""
    av = _av()
    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            return np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
    except (av.error.FFmpegError, OSError, StopIteration, ValueError) as exc:
        raise SourceError(f"{path}: not a readable image ({exc}); give a png, jpeg or bmp file") from None


class VideoSource:
    """A video file decoded by PyAV, upright as the container says, long side at most max_side_px.

    A phone clip filmed upright is stored sideways with a rotation flag (display matrix): frames
    are turned as that flag says, and width_px/height_px are the upright picture's.
    """

    def __init__(self, path: Path, max_side_px: int = 640) -> None:
        self.path = path
        self._av = _av()
        keep_frame_memory()
        try:
            self._container = self._av.open(str(path))
        except (self._av.error.FFmpegError, OSError, ValueError) as exc:
            raise SourceError(f"{path}: not a readable video ({exc}); give a video file such as .mp4 or .mkv") from None
        if not self._container.streams.video:
            self._container.close()
            raise SourceError(f"{path}: has no video stream; give a video file such as .mp4 or .mkv")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO" if self._stream.width * self._stream.height > FRAME_THREADS_ABOVE_PX else "NONE"
        self.fps = float(self._stream.average_rate or 30.0)
        self.frame_count = int(self._stream.frames or 0)  # 0 when the container does not say
        # One scaler for the whole clip: a fresh one per frame (PyAV's to_ndarray) costs more than the conversion.
        self._reformatter = self._av.video.reformatter.VideoReformatter()
        self._area = self._av.video.reformatter.Interpolation.AREA
        self._decoded = self._decode()
        try:  # the rotation flag is only visible on decoded frames: look at the first one now
            self._first = next(self._decoded, None)
        except SourceError:
            self._container.close()
            raise
        self.quarter_turns = round((self._first.rotation if self._first is not None else 0) / 90) % 4
        upright_w, upright_h = self._stream.width, self._stream.height
        if self.quarter_turns % 2:
            upright_w, upright_h = upright_h, upright_w
        self.width_px, self.height_px = fit_size(upright_w, upright_h, max_side_px)
        # The size to convert to before turning: the stored (sideways) picture's.
        self._stored_size = (self.height_px, self.width_px) if self.quarter_turns % 2 else (self.width_px, self.height_px)

    def _decode(self) -> Iterator[Any]:
        index = 0
        try:
            for frame in self._container.decode(self._stream):
                yield frame
                index += 1
        except self._av.error.FFmpegError as exc:
            raise SourceError(f"{self.path}: video is damaged at frame {index} ({exc})") from None

    def _picture(self, frame: Any) -> npt.NDArray[np.uint8]:
        """The frame as upright RGB at (height_px, width_px): one scaler pass, then a turn if flagged."""
        width_px, height_px = self._stored_size
        if (frame.width, frame.height) == (width_px, height_px):  # no scaling: the plain colour conversion
            rgb = self._reformatter.reformat(frame, format="rgb24", threads=1)
        else:
            rgb = self._reformatter.reformat(
                frame, width=width_px, height=height_px, format="rgb24", interpolation=self._area, threads=1
            )
        image: npt.NDArray[np.uint8] = rgb.to_ndarray()
        if self.quarter_turns:  # counter-clockwise, as the display matrix (and np.rot90) count
            image = np.ascontiguousarray(np.rot90(image, self.quarter_turns))
        return image

    def __iter__(self) -> Iterator[Frame]:
        last_t_s = float("-inf")
        index = 0
        first, self._first = self._first, None
        frames = self._decoded if first is None else itertools.chain((first,), self._decoded)
        for frame in frames:
            t_s = float(frame.time) if frame.time is not None else index / self.fps
            if t_s <= last_t_s:
                continue  # a repeated or out-of-order timestamp: keep time strictly increasing
            last_t_s = t_s
            yield Frame(image_rgb=self._picture(frame), t_s=t_s, index=index)
            index += 1

    def close(self) -> None:
        self._container.close()


class ImageFolderSource:
    """Still images in name order, timed at a fixed frame rate (images carry no timestamps)."""

    def __init__(self, folder: Path, fps: float = 30.0) -> None:
        self.paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise SourceError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
        self.fps = fps
        first = read_image(self.paths[0])
        self.height_px, self.width_px = first.shape[:2]

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.paths):
            yield Frame(image_rgb=read_image(path), t_s=index / self.fps, index=index)

    def close(self) -> None:
        pass


class RecordingSource:
    """A keypoint recording replayed frame by frame: the model is skipped."""

    def __init__(self, path: Path) -> None:
        from station.recording import load

        try:
            self.recording = load(path)
        except RecordingError as exc:
            raise SourceError(str(exc)) from None
        self.width_px, self.height_px = self.recording.width, self.recording.height

    def __iter__(self) -> Iterator[KeypointFrame]:
        rec = self.recording
        for index in range(len(rec.t)):
            yield KeypointFrame(rec.keypoints[index], float(rec.t[index]), rec.width, rec.height, index)

    def close(self) -> None:
        pass


def open_source(spec: str | None, config: Config, input_size_px: int | None = None) -> FrameSource:
    """The source named by `spec` (None = Pi camera, asked for frames near the model's input size)."""
    if spec is None:
        from station.hw.camera import PiCameraSource

        if input_size_px is None:
            from station.models import load_manifest

            input_size_px = load_manifest().default_entry().input_size_px
        return PiCameraSource(config.camera, input_size_px)
    path = Path(spec).expanduser()
    if path.is_dir():
        return ImageFolderSource(path, config.camera.images_fps)
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder; give a video, a folder of images or a .npz recording")
    if path.suffix.lower() == ".npz":
        return RecordingSource(path)
    return VideoSource(path, config.camera.video_max_side_px)
