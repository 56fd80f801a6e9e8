"""`station replay` end to end on videos the test builds from real images (PyAV-encoded)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from paths import MODEL_PATH

sys.path.insert(0, str(Path(__file__).parent / "hw"))
from posehelpers import image, landmark_truth, needs_images, needs_model  # noqa: E402
from station.cli import main  # noqa: E402
from station.hinge import analyze  # noqa: E402
from station.recording import load  # noqa: E402
from videotools import write_video  # noqa: E402

pytestmark = [pytest.mark.model, needs_model, needs_images]
FPS = 15
OFFSET_X_PX = 220


def on_stage(person: np.ndarray) -> np.ndarray:
    """A real photo, halved, standing on the floor of a 640x360 grey scene."""
    canvas = np.full((360, 640, 3), 45, dtype=np.uint8)
    small = person[::2, ::2][:360]
    canvas[360 - small.shape[0] :, OFFSET_X_PX : OFFSET_X_PX + small.shape[1]] = small
    return canvas


@pytest.fixture(scope="module")
def lifter_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Standing, squatting, standing...: 3 s of real pixels."""
    standing, squat = on_stage(image("image1.png")), on_stage(image("squat.bmp"))
    frames = [standing if (i // 8) % 2 == 0 else squat for i in range(45)]
    path = tmp_path_factory.mktemp("replay") / "lifter.mp4"
    write_video(path, frames, fps=FPS)
    return path


def replay(*args: str) -> int:
    return main(["replay", *args, "--model", str(MODEL_PATH)])


def test_replay_prints_result_json_records_and_annotates(
    lifter_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record, annotated = tmp_path / "keypoints.npz", tmp_path / "review.mp4"
    assert replay(str(lifter_clip), "--json", "--record", str(record), "--annotate", str(annotated)) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"frames", "duration_s", "implementation", "reps", "sets"} <= result.keys()
    assert result["frames"] == 45 and result["duration_s"] == pytest.approx(44 / FPS, abs=1e-3)

    recording = load(record)
    assert recording.keypoints.shape == (45, 17, 3) and (recording.width, recording.height) == (640, 360)
    np.testing.assert_allclose(recording.t, np.arange(45) / FPS, atol=1e-6)  # the container's timestamps
    assert analyze(recording) == result  # exactly what `station analyze` reports on the recording
    assert main(["analyze", str(record), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == result

    # Real pixels went through decode, crop, model and back: the standing woman's joints are where
    # the hand-labelled truth puts them (halved, shifted onto the stage), within 5% of the frame.
    truth_xy_px = landmark_truth(1) / 2 + [OFFSET_X_PX, 360 - 320]
    kp = recording.keypoints[2]
    errors = np.hypot(kp[:, 1] * 640 - truth_xy_px[:, 0], kp[:, 0] * 360 - truth_xy_px[:, 1]) / 640
    assert np.median(errors) < 0.03 and errors.max() < 0.08, errors.round(3)

    with av.open(str(annotated)) as container:
        frames = [(f.time, f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    assert len(frames) == 45
    np.testing.assert_allclose([t for t, _ in frames], recording.t - recording.t[0], atol=2e-3)
    picture = frames[2][1]
    sure = np.flatnonzero(kp[:, 2] > 0.5)
    ys, xs = (kp[sure, 0] * 360).astype(int), (kp[sure, 1] * 640).astype(int)
    assert np.median(picture[ys, xs].min(axis=1)) > 170  # white joint dots drawn on the skeleton
    assert picture[2:20, 2:40].mean() < 100  # the dark header panel


def test_replay_summary_for_people(lifter_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert replay(str(lifter_clip), "--no-progress", "--record", str(tmp_path / "k.npz")) == 0
    out = capsys.readouterr().out
    assert out.startswith("45 frames, 2.9 s, detector: ")
    assert main(["analyze", str(tmp_path / "k.npz")]) == 0
    assert capsys.readouterr().out == out  # the same table as `station analyze`


def test_clip_without_a_person_gives_zero_reps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(7)
    scene = np.full((360, 640, 3), 60, dtype=np.uint8)
    scene[200:] = (90, 80, 70)  # a floor
    frames = [np.clip(scene.astype(int) + rng.integers(-6, 7, scene.shape), 0, 255).astype(np.uint8) for _ in range(30)]
    path = tmp_path / "empty_gym.mp4"
    write_video(path, frames, fps=FPS)
    record = tmp_path / "empty.npz"
    assert replay(str(path), "--json", "--record", str(record)) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["frames"] == 30 and result["reps"] == [] and result["sets"] == []
    assert load(record).keypoints[:, [5, 6, 11, 12], 2].mean() < 0.3  # no torso found


@pytest.mark.parametrize("content", [b"", b"this is not a video " * 50])
def test_unreadable_file_is_a_clear_error_with_status_2(tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "holiday.mp4"
    path.write_bytes(content)
    assert replay(str(path)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and "not a readable video" in err


def test_missing_file_is_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert replay(str(tmp_path / "missing.mp4")) == 2
    assert "no such file" in capsys.readouterr().err


def test_unwritable_annotation_path_is_a_clear_error(lifter_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert replay(str(lifter_clip), "--annotate", str(tmp_path / "no" / "such" / "dir" / "out.mp4")) == 2
    assert "cannot write the annotated video" in capsys.readouterr().err



def test_replay_reads_ahead_yet_gives_what_a_frame_by_frame_run_gives(lifter_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Decoding on its own thread changes nothing: same frames, same keypoints, bit for bit."""
    from station.config import load_config
    from station.hw.pose import load_pose_model
    from station.hw.sources import VideoSource

    record = tmp_path / "ahead.npz"
    assert replay(str(lifter_clip), "--json", "--record", str(record)) == 0
    capsys.readouterr()
    model = load_pose_model(load_config(flags={"pose.model": str(MODEL_PATH)}).pose)
    source = VideoSource(lifter_clip)
    frames = list(source)
    source.close()
    one_by_one = np.stack([model.detect(f.image_rgb) for f in frames])
    recording = load(record)
    np.testing.assert_array_equal(recording.keypoints, one_by_one)
    np.testing.assert_array_equal(recording.t, [f.t_s for f in frames])


def test_video_damaged_midway_is_a_clear_error_with_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(1)
    path = tmp_path / "dropped_phone.mp4"
    write_video(path, [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8) for _ in range(30)], fps=FPS)
    data = bytearray(path.read_bytes())
    middle = data.find(b"mdat") + (len(data) - data.find(b"mdat")) // 2
    data[middle - 4000 : middle - 1000] = rng.integers(0, 255, 3000, dtype=np.uint8).tobytes()  # garbage mid-stream
    path.write_bytes(bytes(data))
    decoded = 0
    with pytest.raises(av.error.InvalidDataError), av.open(str(path)) as container:  # FFmpeg itself gives up midway
        for _ in container.decode(video=0):
            decoded += 1
    assert 0 < decoded < 30

    assert replay(str(path), "--no-progress") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and f"video is damaged at frame {decoded}" in err
