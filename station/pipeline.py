"""Orchestration only: frames -> pose model -> detector -> sinks, never blocking the camera.

A reader thread (`LatestFrame`) pulls frames and keeps only the newest; one processing
thread runs the model (for frames with pixels; `KeypointFrame`s skip it), the detector,
every sink, the status hub, and a systemd watchdog ping per processed frame.

A live source (one with `reopen()`, the Pi camera) that fails, ends or stalls is reopened with
exponential backoff while the detector, and so the open set, is kept; the page and the status
LED show the fault meanwhile. The processing thread also pings the watchdog between reopen
attempts: it is alive and doing its job, which is all the watchdog asks. Nothing else pings.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from station import systemd
from station.errors import CameraError, StorageError
from station.hw.latest import LatestFrame
from station.settings.camera import CameraSettings
from station.status import StatusHub
from station.types import Event, Frame, KeypointFrame, Keypoints, RepCompleted

FRAME_WAIT_S = 1.0  # how often an idle processing thread looks up to check for a stop request
STATUS_EVERY_S = 5.0  # `systemctl status` line refresh: often enough to read, rare enough to be free
BRIGHTNESS_STRIDE = 8  # every 8th pixel each way: a mean luma to ~1 unit for a fraction of a ms


class Detector(Protocol):
    def update(self, keypoints: Keypoints, t_s: float) -> list[Event]: ...
    def finish(self, t_s: float) -> list[Event]: ...


class Sink(Protocol):
    def handle(self, event: Event) -> None: ...
    def close(self) -> None: ...


DetectorFactory = Callable[[int, int], Detector]  # (width_px, height_px) -> detector


class Paced:
    """A frame iterable delivered in real time, sped up by `speed`: a simulation that acts like a camera."""

    def __init__(self, frames: Iterable[Frame | KeypointFrame], speed: float = 1.0) -> None:
        self._frames = frames
        self._speed = speed
        self._stop = threading.Event()

    def __iter__(self) -> Iterator[Frame | KeypointFrame]:
        start_wall_s: float | None = None
        start_t_s = 0.0
        for item in self._frames:
            if start_wall_s is None:
                start_wall_s, start_t_s = time.monotonic(), item.t_s
            delay_s = (item.t_s - start_t_s) / self._speed - (time.monotonic() - start_wall_s)
            if (delay_s > 0 and self._stop.wait(delay_s)) or self._stop.is_set():
                return
            yield item

    def close(self) -> None:
        self._stop.set()
        close = getattr(self._frames, "close", None)
        if close is not None:
            close()


class Pipeline:
    """Runs the station's processing thread; `stop()` finishes the set and closes every sink."""

    def __init__(
        self,
        source: Iterable[Frame | KeypointFrame],
        detector_factory: DetectorFactory,
        hub: StatusHub,
        sinks: Sequence[Sink] = (),
        pose_model: Any = None,
        leds: Any = None,
        metrics: Any = None,
        state_listeners: Sequence[Callable[..., None]] = (),
        camera_settings: CameraSettings | None = None,
    ) -> None:
        self.source = source
        self.detector_factory = detector_factory
        self.hub = hub
        self.sinks = list(sinks)
        self.pose_model = pose_model
        self.leds = leds  # its snapshot() is drawn on the page
        self.metrics = metrics  # station.metrics.MetricsSink: per-frame observations
        self.state_listeners = list(state_listeners)  # told "idle" / "tracking" / "fault" on change
        self.frames_processed = 0
        self.error: BaseException | None = None
        self._detector: Detector | None = None
        self._last_t_s = 0.0
        self._stop = threading.Event()
        self._frames: LatestFrame | None = None
        self._thread = threading.Thread(target=self._run, name="pipeline", daemon=True)
        self._status_at = float("-inf")
        self._state = ""
        self._dropped_reported = 0
        self._last_frame_at = time.monotonic()
        self.camera_settings = camera_settings or CameraSettings()  # reconnect backoff and stall time
        self.reconnects = 0  # times a lost live source came back
        self._dropped_before = 0  # frames dropped by readers of sources lost earlier
        self._camera_fault: str | None = None  # the hub fault this pipeline set for a lost camera
        self._fault: str | None = None  # the fault on the page now

    def start(self) -> None:
        self._frames = LatestFrame(self.source)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the processing thread to stop and wait for it (set closed, sinks closed)."""
        self._stop.set()
        if self._thread.ident is None:
            self._finish()  # never started: the sinks still need closing
        elif self._thread.is_alive():
            self._thread.join(timeout_s)

    def wait(self, timeout_s: float | None = None) -> bool:
        """True once the processing thread has ended (source exhausted, stop, or error)."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def dropped_frames(self) -> int:
        return self._dropped_before + (self._frames.dropped if self._frames else 0)

    @property
    def live(self) -> bool:
        """The source can be reopened (a camera): its end or failure is a fault to recover from."""
        return callable(getattr(self.source, "reopen", None))

    def _run(self) -> None:
        assert self._frames is not None
        try:
            while not self._stop.is_set():
                self.hub.run_commands(self._detector, self._last_t_s, self._dispatch)  # staff actions, between frames
                try:
                    item = self._frames.get(FRAME_WAIT_S)
                except CameraError as exc:
                    if not self.live:
                        raise
                    self._reconnect(str(exc))
                    continue
                if item is None:
                    stalled_s = time.monotonic() - self._last_frame_at
                    if self.live and (self._frames.exhausted or stalled_s >= self.camera_settings.stall_s):
                        self._reconnect("the stream ended" if self._frames.exhausted else f"no frames for {stalled_s:.0f} s")
                    elif self._frames.exhausted:
                        break
                    else:
                        self.hub.set_health(camera_stalled_s=round(stalled_s))
                    continue
                self._process(item)
        except BaseException as exc:  # noqa: BLE001 - reported by the command that owns the pipeline
            self.error = exc
            if isinstance(exc, CameraError) and self.metrics is not None:
                self.metrics.camera_error()
            self._set_fault(str(exc) or type(exc).__name__)
            self._announce_state("fault")
        finally:
            self._close_frames()
            self._finish()

    def _process(self, item: Frame | KeypointFrame) -> None:
        brightness: float | None = None
        inference_ms: float | None = None
        if isinstance(item, KeypointFrame):
            keypoints = item.keypoints
        else:
            keypoints = self.pose_model.detect(item.image_rgb)
            inference_ms = float(self.pose_model.last_inference_ms)
            brightness = mean_luma(item.image_rgb)
        if self._detector is None:
            self._detector = self.detector_factory(item.width_px, item.height_px)
        if self._camera_fault is not None:
            self._camera_back()
        self._last_t_s = item.t_s
        t0 = time.perf_counter()
        events = self._detector.update(keypoints, item.t_s)
        detector_ms = (time.perf_counter() - t0) * 1e3
        self._dispatch(events)
        if self._last_frame_at < time.monotonic() - 2 * FRAME_WAIT_S:
            self.hub.set_health(camera_stalled_s=None)
        self._last_frame_at = time.monotonic()
        self.hub.update_frame(
            keypoints,
            item.width_px,
            item.height_px,
            inference_ms=inference_ms,
            dropped_frames=self.dropped_frames,
            brightness=brightness,
            image_rgb=None if isinstance(item, KeypointFrame) else item.image_rgb,
        )
        self.frames_processed += 1
        if self.metrics is not None:
            self.metrics.observe_frame(inference_ms, detector_ms)
            self.metrics.dropped(self.dropped_frames - self._dropped_reported)
            self._dropped_reported = self.dropped_frames
        state = self.hub.state
        self._announce_state(state)
        if self.leds is not None:
            self.hub.set_leds(self.leds.snapshot())
        systemd.notify_watchdog()
        self._report_status(state)

    def _reconnect(self, reason: str) -> None:
        """The live source is lost: show it, then reopen it with backoff until it opens or we stop.

        The detector is kept, so the set goes on when frames return. Gives up with CameraError
        after `reconnect_give_up_s`, for systemd to restart the whole process.
        """
        settings = self.camera_settings
        lost_at = time.monotonic()
        self._close_frames()
        self._camera_fault = f"camera lost ({reason}); reconnecting"
        print(f"station: {self._camera_fault}", file=sys.stderr, flush=True)
        self._set_fault(self._camera_fault)
        self._announce_state("fault")
        if self.metrics is not None:
            self.metrics.camera_error()
        delay_s, attempts = settings.reconnect_first_s, 0
        while True:
            self.hub.set_health(
                camera_state="reconnecting", camera_error=reason, camera_attempts=attempts, camera_retry_in_s=round(delay_s, 1)
            )
            if self._idle(delay_s, lost_at):
                return
            attempts += 1
            try:
                source = self.source.reopen()  # type: ignore[attr-defined]
                break
            except CameraError as exc:
                reason = str(exc)
            given_s = time.monotonic() - lost_at
            if 0 < settings.reconnect_give_up_s <= given_s:
                raise CameraError(f"the camera has been lost for {given_s:.0f} s ({reason}): restarting the station")
            delay_s = min(2 * delay_s, settings.reconnect_max_s)
        self.source = source
        self._dropped_before += self._frames.dropped if self._frames else 0
        self._frames = LatestFrame(source)
        self._last_frame_at = time.monotonic()  # the stall clock starts again with the new source
        self.hub.set_health(camera_state="opened", camera_attempts=attempts, camera_retry_in_s=None)

    def _idle(self, wait_s: float, since: float) -> bool:
        """Wait while the camera is away, still a live loop: watchdog pings, staff commands, stall time. True on stop."""
        deadline = time.monotonic() + wait_s
        while (left_s := deadline - time.monotonic()) > 0:
            if self._stop.wait(min(left_s, FRAME_WAIT_S)):
                return True
            self.hub.run_commands(self._detector, self._last_t_s, self._dispatch)
            self.hub.set_health(camera_stalled_s=round(time.monotonic() - since))
            systemd.notify_watchdog()
        return self._stop.is_set()

    def _close_frames(self) -> None:
        assert self._frames is not None
        try:
            self._frames.close()
        except Exception as exc:  # noqa: BLE001 - a vanished camera may fail to close; it is being replaced
            print(f"station: closing the lost source failed ({exc})", file=sys.stderr)

    def _camera_back(self) -> None:
        """Frames flow again after a reconnect: clear the camera's fault (not a fault someone else set)."""
        if self._fault == self._camera_fault:  # a broken sink's fault since then stays up
            self._set_fault(None)
        self._camera_fault = None
        self.reconnects += 1
        self.hub.set_health(camera_state="ok", camera_error=None, camera_stalled_s=None, camera_reconnects=self.reconnects)
        print("station: camera back, counting again", file=sys.stderr, flush=True)

    def _dispatch(self, events: list[Event]) -> None:
        for event in events:
            for sink in [*self.sinks, self.hub]:  # in the given order (history, LEDs ...), the page last
                try:
                    sink.handle(event)
                except Exception as exc:  # noqa: BLE001 - one broken sink must not stop the LEDs or page
                    message = f"{type(sink).__name__}: {exc}"
                    print(f"station: {message}", file=sys.stderr)
                    self._set_fault(message)
                    if isinstance(exc, StorageError) and self.metrics is not None:
                        self.metrics.history_write_failed()
            if isinstance(event, RepCompleted):
                self._status_at = float("-inf")  # a new rep is worth a status line at once

    def _announce_state(self, state: str) -> None:
        if state == self._state or state not in ("idle", "tracking", "fault"):
            return
        self._state = state
        for listener in self.state_listeners:
            try:
                listener(state)
            except Exception as exc:  # noqa: BLE001 - a status light must not stop the counting
                print(f"station: state listener failed: {exc}", file=sys.stderr)

    def _report_status(self, state: str) -> None:
        now = time.monotonic()
        if now - self._status_at < STATUS_EVERY_S:
            return
        self._status_at = now
        # From the detector, not hub.snapshot(): that may read the history, which a lock can hold up.
        set_n, reps = getattr(self._detector, "set_n", 0), getattr(self._detector, "reps_in_set", 0)
        systemd.notify_status(f"{state}; set {set_n}, {reps} reps; {self.frames_processed} frames")

    def _set_fault(self, message: str | None) -> None:
        """Show (or with None clear) the fault on the page; only this pipeline sets the hub's fault."""
        self._fault = message
        self.hub.set_fault(message)

    def _finish(self) -> None:
        """End of input: close the open set, then close every sink (history flushed)."""
        if self._detector is not None:
            try:
                self._dispatch(self._detector.finish(self._last_t_s))
            except Exception as exc:  # noqa: BLE001 - closing the sinks matters more
                print(f"station: detector finish failed: {exc}", file=sys.stderr)
        for sink in self.sinks:
            try:
                sink.close()
            except Exception as exc:  # noqa: BLE001
                print(f"station: closing {type(sink).__name__} failed: {exc}", file=sys.stderr)


def mean_luma(image_rgb: np.ndarray) -> float:
    """Mean green level (a stand-in for luma) of a subsampled image, 0-255."""
    return float(image_rgb[::BRIGHTNESS_STRIDE, ::BRIGHTNESS_STRIDE, 1].mean())
