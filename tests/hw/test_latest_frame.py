"""LatestFrame never queues: a slow consumer gets the newest frame, stale ones are dropped and counted."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator

import numpy as np
import pytest

from station.errors import CameraError
from station.hw.latest import LatestFrame
from station.types import Frame, KeypointFrame


def frame(index: int) -> Frame:
    return Frame(image_rgb=np.zeros((4, 4, 3), dtype=np.uint8), t_s=index / 30, index=index)


class GatedSource:
    """Yields one frame per permit the test releases, so the test knows exactly what was produced."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.permits = threading.Semaphore(0)
        self.closed = False

    def __iter__(self) -> Iterator[Frame]:
        for index in range(self.count):
            self.permits.acquire()
            yield frame(index)

    def close(self) -> None:
        self.closed = True


def wait_until(predicate: object, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_only_the_newest_frame_is_handed_out() -> None:
    source = GatedSource(10)
    latest = LatestFrame(source)
    source.permits.release(5)
    wait_until(lambda: latest.received == 5)
    got = latest.get(timeout_s=1)
    assert got is not None and got.index == 4 and latest.dropped == 4
    assert latest.get(timeout_s=0.05) is None  # nothing new: never the same frame twice
    source.permits.release(3)
    wait_until(lambda: latest.received == 8)
    got = latest.get(timeout_s=1)
    assert got is not None and got.index == 7 and latest.dropped == 6
    source.permits.release(2)
    wait_until(lambda: latest.received == 10)
    got = latest.get(timeout_s=1)
    assert got is not None and got.index == 9
    assert latest.get(timeout_s=1) is None and latest.exhausted
    latest.close()
    assert source.closed


def test_a_slow_consumer_never_makes_frames_pile_up() -> None:
    alive: list[weakref.ref[Frame]] = []
    peak_alive = 0

    def fast_source() -> Iterator[Frame]:
        nonlocal peak_alive
        for index in range(3000):
            item = frame(index)
            alive.append(weakref.ref(item))
            peak_alive = max(peak_alive, sum(r() is not None for r in alive[-50:]))
            yield item
            del item

    latest = LatestFrame(fast_source())
    consumed: list[int] = []
    while True:
        got = latest.get(timeout_s=2)
        if got is None:
            break
        consumed.append(got.index)
        del got
        time.sleep(0.002)  # inference slower than the camera
    latest.close()
    assert consumed == sorted(set(consumed))  # always forward, never a repeat
    assert consumed[-1] == 2999  # the last frame is not lost
    assert latest.received == 3000 and latest.dropped + len(consumed) == 3000
    assert latest.dropped > 0
    assert peak_alive <= 3  # the one held, the one being replaced, the one in hand: no queue


def test_source_error_reaches_the_consumer_after_the_last_frame() -> None:
    def failing() -> Iterator[Frame]:
        yield frame(0)
        raise CameraError("the camera stopped delivering frames: check the ribbon cable")

    latest = LatestFrame(failing())
    wait_until(lambda: latest.received == 1 and latest._done)
    got = latest.get(timeout_s=1)
    assert got is not None and got.index == 0
    with pytest.raises(CameraError, match="ribbon cable"):
        latest.get(timeout_s=1)
    latest.close()


def test_close_stops_an_endless_source() -> None:
    class Endless:
        closed = False

        def __iter__(self) -> Iterator[Frame]:
            index = 0
            while True:
                yield frame(index)
                index += 1

        def close(self) -> None:
            self.closed = True

    source = Endless()
    latest = LatestFrame(source)
    assert latest.get(timeout_s=1) is not None
    latest.close()
    assert source.closed and not latest._thread.is_alive()


def test_realtime_pacing_delivers_a_recording_as_a_camera_would() -> None:
    items = [KeypointFrame(np.zeros((17, 3), np.float32), 10.0 + i * 0.04, 640, 480, i) for i in range(6)]
    latest = LatestFrame(items, realtime=True)
    start_s = time.monotonic()
    got = []
    while (item := latest.get(timeout_s=1)) is not None:
        got.append(item.index)
    latest.close()
    assert got == list(range(6)) and latest.dropped == 0  # a fast consumer keeps up with 25 fps
    assert time.monotonic() - start_s >= 0.18  # 5 intervals of 40 ms, not as fast as possible
