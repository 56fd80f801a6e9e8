"""The keypoint recording format of HINGE_SPEC (.npz): load, validate, save."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from station.errors import RecordingError


@dataclass(frozen=True)
class Recording:
    """Keypoints over time: (N, 17, 3) float32 [y, x, score] normalised, t in seconds."""

    keypoints: npt.NDArray[np.float32]
    t: npt.NDArray[np.float64]
    width: int  # frame width in pixels
    height: int  # frame height in pixels

    def __post_init__(self) -> None:
        validate(self.keypoints, self.t, self.width, self.height)

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if len(self.t) else 0.0


def validate(keypoints: np.ndarray, t: np.ndarray, width: int, height: int, where: str = "recording") -> None:
    """Raise RecordingError naming the first problem found."""
    if keypoints.ndim != 3 or keypoints.shape[1:] != (17, 3):
        raise RecordingError(f"{where}: 'keypoints' has shape {keypoints.shape}, expected (N, 17, 3)")
    if t.ndim != 1 or t.shape[0] != keypoints.shape[0]:
        raise RecordingError(f"{where}: 't' has shape {t.shape}, expected ({keypoints.shape[0]},) to match 'keypoints'")
    if not np.issubdtype(keypoints.dtype, np.floating) or not np.issubdtype(t.dtype, np.floating):
        raise RecordingError(f"{where}: 'keypoints' and 't' must be float arrays (got {keypoints.dtype}, {t.dtype})")
    if not np.all(np.isfinite(keypoints)):
        bad = int(np.argwhere(~np.isfinite(keypoints))[0][0])
        raise RecordingError(f"{where}: 'keypoints' holds NaN or inf (first at frame {bad})")
    if not np.all(np.isfinite(t)):
        raise RecordingError(f"{where}: 't' holds NaN or inf")
    if t.shape[0] > 1 and not np.all(np.diff(t) > 0):
        bad = int(np.argmax(np.diff(t) <= 0)) + 1
        raise RecordingError(f"{where}: 't' is not strictly increasing (at frame {bad})")
    if width <= 0 or height <= 0:
        raise RecordingError(f"{where}: 'width' and 'height' must be positive pixel counts (got {width}x{height})")


def load(path: Path) -> Recording:
    """Read and validate a recording; every problem is one RecordingError line."""
    try:
        # Open the file ourselves: np.load leaks its handle when a zip header is corrupt.
        with path.open("rb") as fh, np.load(fh, allow_pickle=False) as data:
            missing = [k for k in ("keypoints", "t", "width", "height") if k not in data.files]
            if missing:
                raise RecordingError(f"{path}: missing array(s) {', '.join(missing)}; see HINGE_SPEC 'Interchange format'")
            keypoints, t = data["keypoints"], data["t"]
            width, height = data["width"], data["height"]
    except FileNotFoundError:
        raise RecordingError(f"{path}: no such file") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise RecordingError(f"{path}: not a readable .npz recording ({exc})") from None
    except ValueError:
        raise RecordingError(f"{path}: not a .npz recording (expected a zip of arrays; see HINGE_SPEC)") from None
    if width.shape != () or height.shape != () or not np.issubdtype(width.dtype, np.integer) or not np.issubdtype(height.dtype, np.integer):
        raise RecordingError(f"{path}: 'width' and 'height' must be integer scalars")
    validate(keypoints, t, int(width), int(height), where=str(path))
    return Recording(keypoints.astype(np.float32, copy=False), t.astype(np.float64, copy=False), int(width), int(height))


def save(path: Path, recording: Recording) -> None:
    """Write a recording in the interchange format."""
    np.savez_compressed(
        path,
        keypoints=recording.keypoints.astype(np.float32, copy=False),
        t=recording.t.astype(np.float64, copy=False),
        width=np.int64(recording.width),
        height=np.int64(recording.height),
    )
