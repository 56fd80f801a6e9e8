"""StatusHub: the one thread-safe object the pipeline writes and the web threads read.

The pipeline thread feeds it events (it is a sink) and one `update_frame` per processed
frame; web threads take `snapshot()`s and wait for changes with `wait()`. Every change
bumps a version number under one condition variable, so a stream can sleep until
something new exists and never misses the newest state.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from station.types import KEY_NAMES, Event, Keypoints, Phase, PhaseChanged, RepCompleted, SetEnded, SetStarted
from station.web.guidance import PlacementAdvisor
from station.web.health import system_health

FPS_WINDOW_S = 2.0  # frames per second over the last 2 s: steady on a wall screen, quick to show a stall
SYSTEM_HEALTH_EVERY_S = 2.0  # /sys and statvfs reads are cheap, but not worth doing per request


# A change staff asked for, run on the pipeline thread between frames (the detector is never
# touched from a web thread): (detector or None before the first frame, time of the last frame) -> events.
Command = Callable[[Any, float], list[Event]]
Dispatch = Callable[[list[Event]], None]


class StreamsFull(Exception):
    """Every allowed live stream is taken; the caller should poll instead."""


def end_set_command(discard: bool) -> Command:
    """End the open set now (a pending rep still counts); with `discard`, mark it discarded."""

    def command(detector: Any, t_s: float) -> list[Event]:
        events: list[Event] = [] if detector is None else detector.finish(t_s)
        # finish() may confirm the set's last rep (even open the set) in the same breath: the
        # detector lists the end first (right for a new set after a rest), the sinks need it last.
        ends = [replace(e, discarded=discard) for e in events if isinstance(e, SetEnded)]
        return [e for e in events if not isinstance(e, SetEnded)] + ends

    return command


def empty_set(n: int, t_start: float | None) -> dict[str, Any]:
    """A set as the page shows it: reps, wall-clock times and per-key pass/graded counts."""
    return {
        "n": n,
        "reps": 0,
        "t_start": t_start,
        "t_end": None,
        "active": t_start is not None,
        "keys": {name: {"pass": 0, "graded": 0} for name in KEY_NAMES},
        "id": None,  # the history's id of the set, once it has one (the page names lifters by it)
        "lifter": None,
        "discarded": False,
    }


class StatusHub:
    """Latest station state plus change notification; safe to share between threads."""

    def __init__(
        self,
        *,
        max_streams: int = 8,
        show_camera: bool = False,
        disk_path: Path | None = None,
        min_score: float = 0.3,
        health_sources: Iterable[Callable[[], dict[str, Any]]] = (),
        wall_clock: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cond = threading.Condition()
        self._wall_clock = wall_clock
        self._clock = clock
        self._started = clock()
        self._version = 0
        self._closed = False
        self._fault: str | None = None
        self._frames = 0
        self._phase = Phase.ABSENT
        self._set = empty_set(0, None)
        self._last_rep: dict[str, Any] | None = None
        self._finished_sets: list[dict[str, Any]] = []
        self._health: dict[str, Any] = {"camera": "starting", "model": "starting"}
        self._frame_times: deque[float] = deque()
        self._pose: dict[str, Any] | None = None
        self._leds: dict[str, bool] = {}
        self._advisor = PlacementAdvisor(min_score=min_score)
        self._image: npt.NDArray[np.uint8] | None = None
        self._show_camera = show_camera
        self._min_score = min_score
        self._disk_path = disk_path
        self._system: dict[str, Any] = {}
        self._health_sources = list(health_sources)  # e.g. the MQTT feed's state, read at most every 2 s
        self._system_at = float("-inf")
        self._streams = 0
        self._max_streams = max_streams
        self._commands: list[tuple[Command, Future[list[Event]]]] = []
        self._sets_source: Callable[[], list[dict[str, Any]]] | None = None
        self._sets_asked = 0  # generation of the last change to today's sets ...
        self._sets_read = -1  # ... and of the list cached from the source
        self._sets_cache: list[dict[str, Any]] = []
        self._sets_midnight = 0.0

    # ---- writers (the pipeline thread) ----

    def handle(self, event: Event) -> None:
        """Sink interface: follow phase, set and rep events."""
        now = self._wall_clock()
        with self._cond:
            if isinstance(event, PhaseChanged):
                self._phase = Phase(event.phase)
            elif isinstance(event, SetStarted):
                self._set = empty_set(event.set_n, now)
            elif isinstance(event, RepCompleted):
                self._count_rep(event, now)
            elif isinstance(event, SetEnded):
                self._set["active"] = False
                self._set["t_end"] = now
                self._set["reps"] = event.reps
                self._set["discarded"] = event.discarded
                self._finished_sets.append(_copy_set(self._set))
                self._drop_before(_local_midnight(now))
            if not isinstance(event, PhaseChanged):
                self._sets_asked += 1
            self._changed()

    def _drop_before(self, midnight: float) -> None:
        """Forget finished sets from before today: the page lists today's only, and a station
        running for months must not keep every set it ever saw in memory."""
        self._finished_sets = [s for s in self._finished_sets if (s.get("t_start") or 0) >= midnight]

    def _count_rep(self, event: RepCompleted, now: float) -> None:
        rep = event.rep
        if rep.set_n != self._set["n"] or not self._set["active"]:
            self._set = empty_set(rep.set_n, now)  # a rep without SetStarted still shows a set
        self._set["reps"] += 1
        for name, grade in rep.keys.items():
            counts = self._set["keys"].setdefault(name, {"pass": 0, "graded": 0})
            if grade.ok is not None:
                counts["graded"] += 1
                counts["pass"] += int(grade.ok)
        self._last_rep = {**rep.to_json(), "rep_in_set": self._set["reps"], "time": now}

    def update_frame(
        self,
        keypoints: Keypoints,
        width_px: int,
        height_px: int,
        *,
        inference_ms: float | None = None,
        dropped_frames: int | None = None,
        brightness: float | None = None,
        image_rgb: npt.NDArray[np.uint8] | None = None,
    ) -> None:
        """Record one processed frame: pose for the stick figure, rates, placement guidance."""
        now = self._clock()
        rounded = np.round(np.nan_to_num(keypoints.astype(np.float64), nan=0.0), 3).tolist()
        with self._cond:
            self._frames += 1
            self._frame_times.append(now)
            while self._frame_times and now - self._frame_times[0] > FPS_WINDOW_S:
                self._frame_times.popleft()
            self._pose = {"keypoints": rounded, "width": width_px, "height": height_px}
            self._advisor.update(keypoints, width_px, height_px, now, brightness)
            if inference_ms is not None:
                self._health["inference_ms"] = round(inference_ms, 1)
            if dropped_frames is not None:
                self._health["dropped_frames"] = dropped_frames
            if self._show_camera and image_rgb is not None:
                self._image = image_rgb
            self._changed()

    def set_health(self, **fields: Any) -> None:
        """Merge health fields (camera, model, detector ...) shown on the page."""
        with self._cond:
            self._health.update(fields)
            self._changed()

    def set_fault(self, message: str | None) -> None:
        """Enter (or leave, with None) the fault state, e.g. when the camera stops."""
        with self._cond:
            self._fault = message
            self._changed()

    def set_leds(self, leds: dict[str, bool]) -> None:
        with self._cond:
            if leds != self._leds:
                self._leds = dict(leds)
                self._changed()

    def set_finished_sets(self, sets: Iterable[dict[str, Any]]) -> None:
        """Replace today's finished sets (e.g. from the history database at start-up)."""
        with self._cond:
            self._finished_sets = [_copy_set(s) for s in sets]
            self._changed()

    def use_sets_source(self, source: Callable[[], list[dict[str, Any]]]) -> None:
        """Read today's sets from `source` (the history, with ids and lifter names) when they change."""
        with self._cond:
            self._sets_source = source
            self._sets_asked += 1
            self._changed()

    def refresh_sets(self) -> None:
        """Today's sets changed outside the event flow (a lifter was named): read them again."""
        with self._cond:
            self._sets_asked += 1
            self._changed()

    def set_show_camera(self, shown: bool) -> None:
        """Turn the camera picture on or off at run time (the owner's privacy choice)."""
        with self._cond:
            self._show_camera = shown
            if not shown:
                self._image = None
            self._changed()

    def submit(self, command: Command) -> Future[list[Event]]:
        """Queue a command for the pipeline thread; the future holds the events it produced."""
        future: Future[list[Event]] = Future()
        with self._cond:
            if self._closed:
                future.cancel()
            else:
                self._commands.append((command, future))
        return future

    def run_commands(self, detector: Any, t_s: float, dispatch: Dispatch) -> None:
        """Pipeline thread, between frames: run queued commands and hand their events to every sink."""
        with self._cond:
            if not self._commands:
                return
            pending, self._commands = self._commands, []
        for command, future in pending:
            if not future.set_running_or_notify_cancel():
                continue  # the web request gave up waiting
            try:
                events = command(detector, t_s)
                dispatch(events)
            except Exception as exc:  # noqa: BLE001 - reported to the request that asked
                future.set_exception(exc)
            else:
                future.set_result(events)

    def close(self) -> None:
        """Sink interface: the station is stopping; wake every waiting stream and refuse queued commands."""
        with self._cond:
            self._closed = True
            pending, self._commands = self._commands, []
            self._changed()
        for _, future in pending:
            future.cancel()

    def _changed(self) -> None:
        self._version += 1
        self._cond.notify_all()

    # ---- readers (web threads) ----

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def state(self) -> str:
        with self._cond:
            return self._state_locked()

    def _state_locked(self) -> str:
        if self._closed:
            return "stopped"
        if self._fault is not None:
            return "fault"
        if self._frames == 0:
            return "starting"
        return "idle" if self._phase is Phase.ABSENT else "tracking"

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows, as plain JSON-ready data."""
        system = self._system_health()
        self._read_sets_source()
        with self._cond:
            today = self._sets_today_locked()
            current = _copy_set(self._set)
            current["day_n"] = today[-1]["day_n"] if today and current["n"] else None  # the current set is listed last
            if current["active"] and today and today[-1]["active"]:
                current.update(id=today[-1].get("id"), lifter=today[-1].get("lifter"))
            health = {**self._health, **system, "fps": self._fps_locked(), "frames": self._frames}
            health["uptime_s"] = round(self._clock() - self._started, 1)
            return {
                "version": self._version,
                "time": self._wall_clock(),
                "state": self._state_locked(),
                "fault": self._fault,
                "phase": self._phase.value,
                "set": current,
                "last_rep": self._last_rep,
                "sets_today": today,
                "health": health,
                "pose": None if self._pose is None else {**self._pose, "min_score": self._min_score},
                "guidance": self._advisor.advice() if self._frames else [],
                "leds": dict(self._leds),
                "camera": {"shown": self._show_camera, "available": self._image is not None},
            }

    def sets_today(self) -> list[dict[str, Any]]:
        self._read_sets_source()
        with self._cond:
            return self._sets_today_locked()

    def _read_sets_source(self) -> None:
        """Re-read the sets source when they changed (or the day did); outside the lock: it is a query."""
        midnight = _local_midnight(self._wall_clock())
        with self._cond:
            source, asked = self._sets_source, self._sets_asked
            if source is None or (asked <= self._sets_read and midnight == self._sets_midnight):
                return
        try:
            rows = source()
        except Exception:  # noqa: BLE001 - a locked or failing history must not blank the page: keep the last list
            return
        with self._cond:
            if asked > self._sets_read or midnight != self._sets_midnight:
                self._sets_cache, self._sets_read, self._sets_midnight = rows, asked, midnight

    def _sets_today_locked(self) -> list[dict[str, Any]]:
        if self._sets_source is not None and self._sets_read >= 0:
            return [_copy_set(s) for s in self._sets_cache]
        midnight = _local_midnight(self._wall_clock())
        self._drop_before(midnight)
        today = [_copy_set(s) for s in self._finished_sets]
        if self._set["active"]:
            today.append(_copy_set(self._set))
        for day_n, listed in enumerate(today, start=1):
            listed["day_n"] = day_n  # the detector's numbers restart with the process; staff count the day
        return today

    def _fps_locked(self) -> float:
        times = self._frame_times
        if len(times) < 2 or self._clock() - times[-1] > FPS_WINDOW_S:
            return 0.0
        return round((len(times) - 1) / (times[-1] - times[0]), 1)

    def _system_health(self) -> dict[str, Any]:
        now = self._clock()
        if now - self._system_at >= SYSTEM_HEALTH_EVERY_S:
            self._system = system_health(self._disk_path)
            for source in self._health_sources:
                self._system.update(source())
            self._system_at = now
        return self._system

    def camera_image(self) -> npt.NDArray[np.uint8] | None:
        """The newest camera picture, only when the configuration allows showing it."""
        with self._cond:
            return self._image if self._show_camera else None

    def wait(self, after_version: int, timeout_s: float) -> int:
        """Block until the version passes `after_version`, the hub closes, or the timeout."""
        with self._cond:
            self._cond.wait_for(lambda: self._version > after_version or self._closed, timeout_s)
            return self._version

    def wait_closed(self, timeout_s: float) -> bool:
        """Sleep up to `timeout_s`, waking early when the station stops; True if stopped."""
        with self._cond:
            return self._cond.wait_for(lambda: self._closed, timeout_s)

    def open_stream(self) -> None:
        """Take one of the capped live-stream slots; raises StreamsFull when none is free."""
        with self._cond:
            if self._streams >= self._max_streams:
                raise StreamsFull(f"all {self._max_streams} live streams are in use")
            self._streams += 1

    def close_stream(self) -> None:
        """Give back a slot taken by `open_stream`."""
        with self._cond:
            self._streams = max(0, self._streams - 1)

    @property
    def open_streams(self) -> int:
        with self._cond:
            return self._streams


def _copy_set(s: dict[str, Any]) -> dict[str, Any]:
    return {**s, "keys": {name: dict(counts) for name, counts in s.get("keys", {}).items()}}


def _local_midnight(now: float) -> float:
    local = time.localtime(now)
    return time.mktime((local.tm_year, local.tm_mon, local.tm_mday, 0, 0, 0, 0, 0, -1))
