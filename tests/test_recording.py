"""The recording format: round trip and one clear error per malformation."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

from station.errors import RecordingError
from station.recording import Recording, load, save


def _recording(n: int = 5) -> Recording:
    keypoints = np.full((n, 17, 3), 0.5, dtype=np.float32)
    return Recording(keypoints, np.arange(n, dtype=np.float64) / 30.0, 1280, 720)


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "r.npz"
    save(path, _recording())
    loaded = load(path)
    assert loaded.keypoints.dtype == np.float32 and loaded.keypoints.shape == (5, 17, 3)
    assert (loaded.width, loaded.height) == (1280, 720)
    np.testing.assert_array_equal(loaded.t, _recording().t)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"t": np.arange(3.0), "width": 1, "height": 1}, "missing array"),
        ({"keypoints": np.zeros((3, 17, 2)), "t": np.arange(3.0), "width": 1, "height": 1}, "expected \\(N, 17, 3\\)"),
        ({"keypoints": np.zeros((3, 17, 3)), "t": np.arange(4.0), "width": 1, "height": 1}, "to match"),
        ({"keypoints": np.full((3, 17, 3), np.nan), "t": np.arange(3.0), "width": 1, "height": 1}, "NaN"),
        ({"keypoints": np.zeros((3, 17, 3)), "t": np.array([0.0, 1.0, 1.0]), "width": 1, "height": 1}, "strictly increasing"),
        ({"keypoints": np.zeros((3, 17, 3)), "t": np.arange(3.0), "width": 0, "height": 1}, "positive"),
        ({"keypoints": np.zeros((3, 17, 3)), "t": np.arange(3.0), "width": 1.5, "height": 1}, "integer scalars"),
    ],
)
def test_malformed_files_name_the_problem(tmp_path: Path, arrays: dict[str, object], message: str) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)  # type: ignore[arg-type]
    with pytest.raises(RecordingError, match=message):
        load(path)


@pytest.mark.parametrize("content", [b"PK\x03\x04broken zip", b"not a zip at all"])
def test_garbage_file_is_an_error_and_leaks_no_handle(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(RecordingError, match="npz"):
        load(path)
    gc.collect()  # a leaked file handle would raise ResourceWarning here (warnings are errors)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no such file"):
        load(tmp_path / "nope.npz")
