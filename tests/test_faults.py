"""Faults the station survives: a camera that vanishes, a model that cannot load, a stalled loop.

Each fault is injected at one boundary (the camera's, the model file, the process) and the
rest is real: the detector, the LEDs on gpiozero's MockFactory, the status page over HTTP,
the SQLite history, a `station` process and an AF_UNIX socket standing in for systemd.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory

from conftest import MODEL_PATH, REPO_DIR
from station.appliance import Appliance
from station.config import load_config
from station.errors import CameraError
from station.hinge import PhaseDetector
from station.hw.camera import PiCameraSource
from station.hw.leds import Indicators
from station.pipeline import Pipeline
from station.recording import Recording
from station.settings.camera import CameraSettings
from station.settings.leds import LedSettings
from station.sim import SimTruth, live_lifter, scenario_matrix, simulate
from station.status import StatusHub
from station.types import Event, KeypointFrame, Keypoints

SPEED = 4.0  # the lifter plays four times faster than life: a set of 8 reps in ~11 s


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return value


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)  # type: ignore[no-any-return]


@dataclass
class Gym:
    """The world the camera looks at: a lifter who keeps lifting in real time, camera or not."""

    recording: Recording
    fps: float
    plugged: threading.Event = field(default_factory=threading.Event)
    started_at: float = field(default_factory=time.monotonic)
    open_attempts: list[float] = field(default_factory=list)  # monotonic time of each reopen
    pulled_at_index: int | None = None
    back_at_index: int | None = None

    def index_now(self) -> int:
        return int((time.monotonic() - self.started_at) * self.fps * SPEED)

    def t_of(self, index: int) -> float:
        return float(self.recording.t[min(index, len(self.recording.t) - 1)])


class GymCamera:
    """A live source over the gym: real-time frames while plugged; raises like picamera2 when the cable is pulled.

    Frames missed while it is away are gone (a camera does not buffer), as on the real thing;
    after the recording the lifter stands still at the top.
    """

    def __init__(self, gym: Gym) -> None:
        self.gym = gym
        self.closed = threading.Event()
        self.width_px, self.height_px = gym.recording.width, gym.recording.height

    def __iter__(self) -> Iterator[KeypointFrame]:
        gym, rec = self.gym, self.gym.recording
        last = -1
        while not self.closed.is_set():
            if not gym.plugged.is_set():
                gym.pulled_at_index = gym.index_now()
                raise CameraError("the camera stopped delivering frames (Device or resource busy): check the ribbon cable")
            index = gym.index_now()
            if index == last:
                time.sleep(1 / (gym.fps * SPEED))
                continue
            if gym.back_at_index is None and gym.pulled_at_index is not None:
                gym.back_at_index = index
            last = index
            t_s = gym.t_of(index) + max(0, index - len(rec.t) + 1) / gym.fps  # standing still after the set
            yield KeypointFrame(rec.keypoints[min(index, len(rec.t) - 1)], t_s, rec.width, rec.height, index)

    def reopen(self) -> GymCamera:
        self.gym.open_attempts.append(time.monotonic())
        if not self.gym.plugged.is_set():
            raise CameraError("no camera found: check the ribbon cable and `rpicam-hello --list-cameras`")
        return GymCamera(self.gym)

    def close(self) -> None:
        self.closed.set()


def eight_rep_set() -> tuple[Recording, SimTruth]:
    scenario = replace(scenario_matrix()[0], reps_per_set=(8,), walk_in=False, walk_out=False)
    recording, truth = simulate(scenario, 3)
    assert len(truth.reps) == 8
    return recording, truth


def test_camera_vanishes_mid_set_and_counting_resumes_in_the_same_set(tmp_path: Path) -> None:
    recording, truth = eight_rep_set()
    gym = Gym(recording, fps=30.0)
    gym.plugged.set()
    config = load_config(
        flags={
            "web.host": "127.0.0.1",
            "web.port": 0,
            "camera.reconnect_first_s": 0.05,
            "camera.reconnect_max_s": 2.0,
            "camera.stall_s": 60.0,  # this test is about a camera that errors, not one that hangs
        }
    )
    factory = MockFactory()
    made: list[PhaseDetector] = []

    def detector(width_px: int, height_px: int) -> PhaseDetector:
        made.append(PhaseDetector(width_px, height_px, config.hinge))
        return made[-1]

    appliance = Appliance(config, GymCamera(gym), detector, state_dir=tmp_path, pin_factory=factory)
    runner = threading.Thread(target=appliance.run)
    runner.start()
    try:
        assert appliance.server is not None
        url = appliance.server.local_url
        wait_for(lambda: get_json(url + "api/status")["set"]["reps"] >= 2, 30, "two reps before the fault")
        status_pin = factory.pin(LedSettings().status_pin)
        gym.plugged.clear()  # the cable is pulled mid-set

        lost = wait_for(lambda: (s := get_json(url + "api/status"))["state"] == "fault" and s, 10, "the page to show the fault")
        assert lost["health"]["camera_state"] == "reconnecting" and "camera lost" in lost["fault"]
        assert "ribbon cable" in lost["health"]["camera_error"]
        reps_before = lost["set"]["reps"]
        assert appliance.leds.status == "fault"
        status_pin.clear_states()
        wait_for(lambda: len(gym.open_attempts) >= 4, 10, "four reopen attempts")
        on = [b.timestamp for a, b in zip(status_pin.states, status_pin.states[1:]) if a.state]
        assert len(on) >= 3 and statistics.median(on) == pytest.approx(LedSettings().fault_on_s, abs=0.05)  # fast blink
        gaps = np.diff(gym.open_attempts[:4])
        assert all(later > 1.5 * earlier for earlier, later in zip(gaps, gaps[1:])), gaps  # backoff doubles
        assert get_json(url + "api/status")["health"]["camera_attempts"] >= 3

        gym.plugged.set()  # plugged back
        back = wait_for(lambda: (s := get_json(url + "api/status"))["health"].get("camera_state") == "ok" and s, 10, "ok")
        assert back["fault"] is None and back["state"] in ("idle", "tracking") and back["health"]["camera_reconnects"] == 1
        wait_for(lambda: appliance.leds.status == "tracking", 5, "the status LED to go steady")
        wait_for(lambda: gym.index_now() > len(recording.t) + 3 * 30 * SPEED, 30, "the end of the set")
        final = get_json(url + "api/status")
    finally:
        appliance.request_stop()
        runner.join(20)
    assert not runner.is_alive() and appliance.pipeline.error is None
    assert len(made) == 1  # one detector throughout: the set was never cut
    assert gym.pulled_at_index is not None and gym.back_at_index is not None
    t_pulled, t_back = gym.t_of(gym.pulled_at_index), gym.t_of(gym.back_at_index)
    before = sum(r.t_lockout_s < t_pulled for r in truth.reps)
    after = sum(r.t_bottom_s > t_back + 3.0 for r in truth.reps)  # the whole descent seen, and a second to find the lifter
    assert before >= reps_before >= 2 and after >= 2
    with sqlite3.connect(tmp_path / "history.sqlite3") as db:
        sets = db.execute("SELECT id, set_n, reps, interrupted FROM sets").fetchall()
        reps = [n for (n,) in db.execute("SELECT n FROM reps ORDER BY id")]
    assert len(sets) == 1 and sets[0][1] == 1 and not sets[0][3]  # one set, ended cleanly
    assert reps == list(range(1, len(reps) + 1)) and before + after <= len(reps) <= 8  # numbering went on
    assert final["set"]["reps"] == len(reps) and final["set"]["n"] == 1
