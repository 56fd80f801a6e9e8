"""`ReadAhead`: every frame in order, never more than `depth` waiting, errors in place, prompt close."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from station.errors import SourceError
from station.hw.readahead import ReadAhead
from station.hw.sources import VideoSource
from videotools import write_video


class CountingSource:
    """Yields 0, 1, 2...; notes how many were asked for, on which thread, and whether it was closed."""

    def __init__(self, n: int | None, fail_at: int | None = None, delay_s: float = 0.0) -> None:
        self.n, self.fail_at, self.delay_s = n, fail_at, delay_s
        self.width_px, self.height_px, self.frame_count = 320, 240, n or 0
        self.produced = 0
        self.closed = False
        self.running_when_closed: bool | None = None
        self.finished_on: str | None = None
        self._running = False

    def __iter__(self) -> Iterator[int]:
        i = 0
        try:
            while self.n is None or i < self.n:
                self._running = True
                if self.delay_s:
                    time.sleep(self.delay_s)
                if i == self.fail_at:
                    raise SourceError(f"damaged at frame {i}")
                self.produced += 1
                self._running = False
                yield i
                i += 1
        finally:
            self._running = False
            self.finished_on = threading.current_thread().name

    def close(self) -> None:
        self.running_when_closed = self._running
        self.closed = True


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_every_item_arrives_once_in_order_with_a_slow_or_fast_consumer() -> None:
    rng = np.random.default_rng(5)
    source = CountingSource(200)
    reader = ReadAhead(source, depth=3)
    got = []
    for item in reader:
        got.append(item)
        if rng.random() < 0.1:
            time.sleep(0.002)  # now and then slower than the source, now and then faster
    reader.close()
    assert got == list(range(200))
    assert source.closed and reader.peak_waiting <= 3


def test_a_video_read_ahead_gives_the_same_frames(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    path = tmp_path / "noise.mp4"
    write_video(path, [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in range(25)], fps=10)
    plain = list(VideoSource(path))
    reader = ReadAhead(VideoSource(path))
    ahead = list(reader)
    reader.close()
    assert (reader.width_px, reader.height_px) == (128, 96)
    assert [f.index for f in ahead] == list(range(25)) and [f.t_s for f in ahead] == [f.t_s for f in plain]
    for a, b in zip(ahead, plain, strict=True):
        np.testing.assert_array_equal(a.image_rgb, b.image_rgb)


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_the_reader_stays_exactly_depth_frames_ahead_of_a_stalled_consumer(depth: int) -> None:
    source = CountingSource(None)  # endless: only the bound stops it
    reader = ReadAhead(source, depth=depth)
    frames = iter(reader)
    assert next(frames) == 0
    assert wait_until(lambda: source.produced == 1 + depth), source.produced  # it does read ahead...
    time.sleep(0.1)
    assert source.produced == 1 + depth  # ...and no further while the consumer holds still
    assert [next(frames) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert wait_until(lambda: source.produced == 6 + depth)
    time.sleep(0.05)
    assert source.produced == 6 + depth and reader.peak_waiting == depth
    reader.close()


def test_a_source_error_arrives_after_the_frames_before_it() -> None:
    reader = ReadAhead(CountingSource(50, fail_at=7), depth=2)
    got: list[int] = []
    with pytest.raises(SourceError, match="damaged at frame 7"):
        for item in reader:
            got.append(item)
    assert got == list(range(7))
    assert list(reader) == []  # raised once; after that the reader is simply finished
    reader.close()


def test_close_after_an_early_stop_ends_the_thread_then_closes_the_source() -> None:
    source = CountingSource(None, delay_s=0.001)
    reader = ReadAhead(source, depth=2, name="test-read-ahead")
    for item in reader:
        if item == 3:
            break  # the consumer walks away with frames still being decoded
    reader.close()
    assert not any(t.name == "test-read-ahead" for t in threading.enumerate())
    assert source.closed and source.running_when_closed is False  # not closed under a running decode
    assert source.finished_on == "test-read-ahead"  # the generator was finished on its own thread
    reader.close()  # a second close does nothing


def test_close_before_reading_anything() -> None:
    source = CountingSource(None)
    reader = ReadAhead(source, depth=2, name="unread-read-ahead")
    assert wait_until(lambda: source.produced == 2)
    reader.close()
    assert source.closed and not any(t.name == "unread-read-ahead" for t in threading.enumerate())


def test_sizes_pass_through_and_depth_must_be_positive() -> None:
    reader = ReadAhead(CountingSource(3))
    assert (reader.width_px, reader.height_px, reader.frame_count) == (320, 240, 3)
    assert list(reader) == [0, 1, 2]
    reader.close()
    with pytest.raises(ValueError, match="depth = 0"):
        ReadAhead(CountingSource(3), depth=0)
