"""Build real video files for tests with PyAV (H.264 when the wheel has it, else MPEG-4 Part 2)."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

CODEC = next(c for c in ("libx264", "h264", "mpeg4") if c in av.codecs_available)


def write_video(path: Path, frames: Iterable[np.ndarray], fps: int = 15) -> int:
    """Encode RGB uint8 frames (all the same even size) to `path`; returns the frame count."""
    count = 0
    with av.open(str(path), mode="w") as container:
        stream = None
        for image in frames:
            if stream is None:
                stream = container.add_stream(CODEC, rate=fps)
                stream.width, stream.height = image.shape[1], image.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.time_base = Fraction(1, fps)
                if CODEC != "mpeg4":
                    stream.options = {"crf": "18", "preset": "ultrafast"}
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts = count
            container.mux(stream.encode(frame))
            count += 1
        if stream is not None:
            container.mux(stream.encode(None))
    return count
