"""Frame sources: video through PyAV, image folders, keypoint recordings, and open_source()."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from paths import POSE_IMAGES_DIR
from posehelpers import needs_images
from station.config import load_config
from station.errors import CameraError, SourceError
from station.hw.sources import ImageFolderSource, RecordingSource, VideoSource, open_source, read_image
from station.recording import Recording, save
from station.types import Frame, KeypointFrame
from videotools import CODEC, write_video

COLOURS = [(220, 30, 30), (30, 220, 30), (30, 30, 220)]  # red, green, blue


def colour_frames(n: int, height_px: int = 240, width_px: int = 320) -> list[np.ndarray]:
    return [np.full((height_px, width_px, 3), COLOURS[i % 3], dtype=np.uint8) for i in range(n)]


def test_video_frames_keep_rgb_order_and_container_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "colours.mp4"
    write_video(path, colour_frames(9), fps=12)
    source = open_source(str(path), load_config())
    assert isinstance(source, VideoSource)
    frames = list(source)
    source.close()
    assert len(frames) == 9
    assert all(isinstance(f, Frame) and f.image_rgb.shape == (240, 320, 3) for f in frames)
    np.testing.assert_allclose([f.t_s for f in frames], np.arange(9) / 12, atol=1e-6)
    for i, frame in enumerate(frames):
        centre = frame.image_rgb[100:140, 140:180].reshape(-1, 3).mean(axis=0)
        assert np.abs(centre - COLOURS[i % 3]).max() < 12, (i, centre)


def test_video_is_scaled_to_the_configured_long_side(tmp_path: Path) -> None:
    path = tmp_path / "big.mp4"
    write_video(path, colour_frames(2, 480, 960), fps=10)
    config = load_config(flags={"camera.video_max_side_px": 320})
    source = open_source(str(path), config)
    assert isinstance(source, VideoSource)
    frames = list(source)
    source.close()
    assert (source.width_px, source.height_px) == (320, 160)
    assert frames[0].image_rgb.shape == (160, 320, 3)


@pytest.mark.parametrize("content", [b"", b"\x00garbage" * 100])
def test_unreadable_video_is_a_source_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=r"broken.mp4: not a readable video") as err:
        VideoSource(path)
    assert err.value.exit_status == 2


def test_missing_path_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        open_source(str(tmp_path / "nope.mp4"), load_config())


@needs_images
def test_image_folder_yields_rgb_frames_at_a_fixed_rate(tmp_path: Path) -> None:
    for name in ("squat.bmp", "image1.png", "image2.jpeg"):
        (tmp_path / name).write_bytes((POSE_IMAGES_DIR / name).read_bytes())
    (tmp_path / "notes.txt").write_text("not an image")
    source = open_source(str(tmp_path), load_config(flags={"camera.images_fps": 5.0}))
    assert isinstance(source, ImageFolderSource)
    frames = list(source)
    assert [f.t_s for f in frames] == [0.0, 0.2, 0.4]
    assert [f.image_rgb.shape for f in frames] == [(640, 384, 3), (640, 399, 3), (610, 500, 3)]


@needs_images
def test_bmp_is_decoded_to_rgb_not_bgr() -> None:
    """squat.bmp stores B, G, R bytes bottom-up: parse it by hand and compare every pixel."""
    picture = read_image(POSE_IMAGES_DIR / "squat.bmp")
    raw = (POSE_IMAGES_DIR / "squat.bmp").read_bytes()
    offset = int.from_bytes(raw[10:14], "little")
    width_px, height_px = int.from_bytes(raw[18:22], "little"), int.from_bytes(raw[22:26], "little")
    row_bytes = (width_px * 3 + 3) // 4 * 4
    rows = np.frombuffer(raw, np.uint8, row_bytes * height_px, offset).reshape(height_px, row_bytes)
    by_hand = rows[::-1, : width_px * 3].reshape(height_px, width_px, 3)[..., ::-1]
    assert picture.shape == (610, 500, 3)
    np.testing.assert_array_equal(picture, by_hand)
    assert np.any(by_hand[..., 0] != by_hand[..., 2])  # not grey: a channel swap would show


def test_empty_image_folder_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no images"):
        open_source(str(tmp_path), load_config())


def test_recording_yields_keypoint_frames(tmp_path: Path) -> None:
    keypoints = np.random.default_rng(3).random((5, 17, 3)).astype(np.float32)
    path = tmp_path / "rec.npz"
    save(path, Recording(keypoints, np.arange(5) / 10.0, 640, 480))
    source = open_source(str(path), load_config())
    assert isinstance(source, RecordingSource)
    frames = list(source)
    assert all(isinstance(f, KeypointFrame) for f in frames)
    np.testing.assert_array_equal(np.stack([f.keypoints for f in frames]), keypoints)
    assert (frames[2].t_s, frames[2].width_px, frames[2].height_px) == (0.2, 640, 480)


def test_broken_recording_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "rec.npz"
    np.savez(path, keypoints=np.zeros((3, 17, 3), dtype=np.float32))  # no 't', 'width', 'height'
    with pytest.raises(SourceError, match=r"rec.npz: missing array\(s\) t, width, height"):
        open_source(str(path), load_config())


def test_camera_without_picamera2_says_what_to_do() -> None:
    try:
        import picamera2  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("picamera2 is installed here: this test is for machines without it")
    with pytest.raises(CameraError, match=r"python3-picamera2.*--source FILE") as err:
        open_source(None, load_config())
    assert err.value.exit_status == 69


def decoded_by_pyav(path: Path, **convert: Any) -> list[np.ndarray]:
    """Every frame converted by PyAV's own to_ndarray: the reference for VideoSource's conversion."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24", **convert) for f in container.decode(video=0)]


def test_video_at_its_own_size_is_converted_without_scaling_same_pixels(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    path = tmp_path / "noise.mp4"
    write_video(path, [rng.integers(0, 255, (180, 320, 3), dtype=np.uint8) for _ in range(6)], fps=10)
    source = VideoSource(path)
    frames = list(source)
    source.close()
    assert (source.width_px, source.height_px) == (320, 180)
    for frame, reference in zip(frames, decoded_by_pyav(path), strict=True):
        np.testing.assert_array_equal(frame.image_rgb, reference)


def test_video_scaled_down_uses_area_averaging(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    path = tmp_path / "big.mp4"
    write_video(path, [rng.integers(0, 255, (360, 640, 3), dtype=np.uint8) for _ in range(4)], fps=10)
    source = VideoSource(path, max_side_px=320)
    frames = list(source)
    source.close()
    area = decoded_by_pyav(path, width=320, height=180, interpolation=av.video.reformatter.Interpolation.AREA)
    for frame, reference in zip(frames, area, strict=True):
        np.testing.assert_array_equal(frame.image_rgb, reference)
    # Noise averaged over 2x2 blocks is much smoother than noise sampled: AREA really ran.
    assert frames[0].image_rgb.astype(float).std() < 0.8 * decoded_by_pyav(path)[0].astype(float).std()


def upright_scene() -> np.ndarray:
    """A portrait picture whose every corner differs: red top-left, green top-right, blue bottom."""
    scene = np.full((160, 96, 3), 128, dtype=np.uint8)
    scene[:32, :32] = (230, 20, 20)
    scene[:32, -32:] = (20, 230, 20)
    scene[-32:, :] = (20, 20, 230)
    return scene


def write_flagged_video(path: Path, stored: np.ndarray, rotation_deg: int, frames: int = 3) -> None:
    """Encode `stored` as it is, with a display-matrix rotation flag (a phone's portrait clip)."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(CODEC, rate=10)
        stream.width, stream.height, stream.pix_fmt = stored.shape[1], stored.shape[0], "yuv420p"
        stream.set_display_rotation(rotation_deg)  # counter-clockwise, as FFmpeg's display matrix reads back
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(stored), format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.mark.parametrize("rotation_deg", [-90, 90, 180])
def test_a_rotation_flag_turns_the_picture_upright(tmp_path: Path, rotation_deg: int) -> None:
    upright = upright_scene()
    # Stored the way a camera would store it: turned the other way, so the flag turns it back.
    stored = np.rot90(upright, -rotation_deg // 90)
    path = tmp_path / f"phone{rotation_deg}.mp4"
    write_flagged_video(path, stored, rotation_deg)
    with av.open(str(path)) as container:
        assert next(container.decode(video=0)).rotation % 360 == rotation_deg % 360  # the flag is in the file
    source = VideoSource(path)
    frames = list(source)
    source.close()
    assert (source.width_px, source.height_px) == (96, 160)
    assert len(frames) == 3 and all(f.image_rgb.shape == (160, 96, 3) for f in frames)
    assert frames[0].image_rgb.flags["C_CONTIGUOUS"]
    assert np.abs(frames[0].image_rgb.astype(int) - upright).mean() < 4  # the same picture, upright


def test_a_flagged_video_is_scaled_on_its_upright_long_side(tmp_path: Path) -> None:
    upright = np.repeat(np.repeat(upright_scene(), 4, axis=0), 4, axis=1)  # 640 tall, 384 wide
    path = tmp_path / "tall.mp4"
    write_flagged_video(path, np.rot90(upright, 1), -90, frames=1)
    source = VideoSource(path, max_side_px=320)
    (frame,) = list(source)
    source.close()
    assert (source.width_px, source.height_px) == (192, 320) and frame.image_rgb.shape == (320, 192, 3)
    assert np.abs(frame.image_rgb.astype(int) - upright[::2, ::2]).mean() < 6


# Run in a fresh interpreter: whether glibc re-faults freed frames depends on the heap's history.
FAULTS_PER_FRAME = """
import collections, resource, sys
from pathlib import Path
from station.hw.sources import VideoSource
source = VideoSource(Path(sys.argv[1]))
held = collections.deque(maxlen=3)  # a few frames in flight, as replay holds them
frames = iter(source)
for _ in range(10):
    held.append(next(frames))
faults = []
while True:
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    frame = next(frames, None)
    if frame is None:
        break
    held.append(frame)
    faults.append(resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before)
# Leave out the two worst frames: the heap may grow once by a frame or two (how far depends on its
# history, even on the size of the environment), which is no frame's steady cost.
print(sum(sorted(faults)[:-2]) / (len(faults) - 2))
"""


def test_decoding_reuses_freed_frame_memory_instead_of_faulting_it_in_again(tmp_path: Path) -> None:
    path = tmp_path / "colours.mp4"  # small packets: the frames are what is allocated
    write_video(path, colour_frames(40, 360, 640), fps=30)
    done = subprocess.run([sys.executable, "-c", FAULTS_PER_FRAME, str(path)], capture_output=True, text=True, check=True)
    # Each 640x360 RGB frame is 169 pages; with glibc's default thresholds ~60 faults a frame.
    assert float(done.stdout) < 2, done.stdout


def test_small_videos_decode_on_the_reading_thread_large_ones_on_frame_threads(tmp_path: Path) -> None:
    def decoder_threads(height_px: int, width_px: int) -> int:
        path = tmp_path / f"{width_px}x{height_px}.mp4"
        write_video(path, colour_frames(4, height_px, width_px), fps=10)
        before = len(os.listdir("/proc/self/task"))
        source = VideoSource(path)
        list(source)
        threads = len(os.listdir("/proc/self/task")) - before
        source.close()
        return threads

    assert decoder_threads(360, 640) == 0  # no threads waking to take cores from inference
    assert decoder_threads(1080, 1920) > 0  # a phone clip: FFmpeg's frame threads keep up
