"""Faults the station survives: a camera that vanishes, a model that cannot load, a stalled loop.

Each fault is injected at one boundary (the camera's, the model file, the process) and the
rest is real: the detector, the LEDs on gpiozero's MockFactory, the status page over HTTP,
the SQLite history, a `station` process and an AF_UNIX socket standing in for systemd.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory

from paths import REPO_DIR
from faulthelpers import Notifications, get_json, notify_listener, wait_for
from station.appliance import Appliance
from station.config import load_config
from station.errors import CameraError
from station.hinge import PhaseDetector
from station.hw.camera import PiCameraSource
from station.hw.leds import Indicators
from station.pipeline import Paced, Pipeline
from station.recording import Recording
from station.settings.camera import CameraSettings
from station.settings.leds import LedSettings
from station.sim import SimTruth, live_lifter, scenario_matrix, simulate
from station.status import StatusHub
from station.types import Event, KeypointFrame, Keypoints

SPEED = 4.0  # the lifter plays four times faster than life: a set of 8 reps in ~11 s


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
        assert gaps[0] < gaps[1] < gaps[2] and gaps[2] > 2.5 * gaps[0], gaps  # 0.05, 0.1, 0.2 s: the backoff doubles
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


class HangingCamera:
    """Delivers `frames` frames, then hangs inside the capture like a wedged driver until closed."""

    def __init__(self, frames: int, reopened: list[HangingCamera]) -> None:
        self.frames = frames
        self.reopened = reopened
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[KeypointFrame]:
        for i, frame in enumerate(live_lifter(7, fps=30.0)):
            if i >= self.frames:
                self.closed.wait()  # closing the camera is what frees a blocked capture
                return
            time.sleep(1 / 30)
            yield frame

    def reopen(self) -> HangingCamera:
        self.reopened.append(HangingCamera(10**9, self.reopened))
        return self.reopened[-1]

    def close(self) -> None:
        self.closed.set()


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Notifications]:
    """An AF_UNIX datagram socket as systemd's NOTIFY_SOCKET, drained in a thread."""
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    with notify_listener(tmp_path / "notify") as notes:
        yield notes


def test_a_hung_camera_is_reopened_and_the_loop_stays_alive(notify_socket: Notifications) -> None:
    reopened: list[HangingCamera] = []
    hub = StatusHub()
    settings = CameraSettings(reconnect_first_s=0.05, stall_s=0.6)
    first = HangingCamera(30, reopened)
    pipeline = Pipeline(first, PhaseDetector, hub, camera_settings=settings)
    pipeline.start()
    try:
        wait_for(lambda: pipeline.reconnects == 1, 10, "the hung camera to be replaced")
        frames_then = pipeline.frames_processed
        wait_for(lambda: pipeline.frames_processed > frames_then + 10, 5, "frames from the new camera")
    finally:
        pipeline.stop()
    assert pipeline.error is None and first.closed.is_set() and len(reopened) == 1
    health = hub.snapshot()["health"]
    assert health["camera_state"] == "ok" and health["camera_stalled_s"] is None and hub.state != "fault"
    assert len(notify_socket.pings()) >= pipeline.frames_processed  # one per frame, and a few while reconnecting


def test_a_camera_gone_for_good_ends_the_process_for_systemd_to_restart(notify_socket: Notifications) -> None:
    class Gone:
        attempts = 0

        def __iter__(self) -> Iterator[KeypointFrame]:
            raise CameraError("the camera stopped delivering frames: check the ribbon cable")
            yield  # pragma: no cover

        def reopen(self) -> Gone:
            Gone.attempts += 1
            raise CameraError("no camera found: check the ribbon cable")

        def close(self) -> None:
            pass

    hub = StatusHub()
    leds = Indicators(LedSettings(), pin_factory=MockFactory())
    settings = CameraSettings(reconnect_first_s=0.1, reconnect_max_s=0.4, reconnect_give_up_s=2.0)
    pipeline = Pipeline(Gone(), PhaseDetector, hub, [leds], leds=leds, state_listeners=[leds.set_status], camera_settings=settings)
    lost_at = time.monotonic()
    pipeline.start()
    assert pipeline.wait(10)
    assert isinstance(pipeline.error, CameraError) and pipeline.error.exit_status == 69  # systemd: Restart=on-failure
    assert "lost for 2 s" in str(pipeline.error) and 5 <= Gone.attempts <= 8  # 0.1, 0.2, 0.4, 0.4 ... s apart
    assert leds.status == "fault" and hub.state == "fault"
    pings = notify_socket.pings(after=lost_at)
    assert len(pings) >= 3 and max(np.diff([lost_at, *pings])) < 1.1  # the loop was alive while it retried


def test_pi_camera_reopen_makes_a_fresh_picamera2() -> None:
    class Picamera2Stub:
        """Just enough of Picamera2 for PiCameraSource to configure, start and close one."""

        def __init__(self, log: list[str]) -> None:
            self.log = log

        def create_preview_configuration(self, **config: Any) -> dict[str, Any]:
            return config

        def configure(self, config: dict[str, Any]) -> None:
            self.config = config

        def camera_configuration(self) -> dict[str, Any]:
            return self.config

        def start(self) -> None:
            self.log.append("start")

        def stop(self) -> None:
            raise RuntimeError("Camera is not running")  # what a vanished camera says

        def close(self) -> None:
            self.log.append("close")

    log: list[str] = []
    plugged = [True, False, True]

    def opener() -> Picamera2Stub:
        if not plugged.pop(0):
            raise CameraError("no camera found: check the ribbon cable")
        log.append("open")
        return Picamera2Stub(log)

    source = PiCameraSource(CameraSettings(), 192, opener=opener)
    source.close()  # a vanished camera cannot stop, but it is still closed
    with pytest.raises(CameraError, match="no camera found"):
        source.reopen()
    again = source.reopen()
    assert isinstance(again, PiCameraSource) and again is not source and (again.width_px, again.height_px) == (192, 144)
    assert log == ["open", "start", "close", "open", "start"]


def test_the_watchdog_is_pinged_per_frame_only_and_not_while_the_loop_is_stuck(notify_socket: Notifications) -> None:
    gate, stuck = threading.Event(), threading.Event()
    gate.set()

    class Stalling(PhaseDetector):
        def update(self, keypoints: Keypoints, t_s: float) -> list[Event]:
            if not gate.is_set():
                stuck.set()
                gate.wait()
            return super().update(keypoints, t_s)

    pipeline = Pipeline(Paced(live_lifter(3, fps=30.0)), Stalling, StatusHub())
    pipeline.start()
    try:
        wait_for(lambda: pipeline.frames_processed >= 15, 10, "frames")
        gate.clear()
        assert stuck.wait(5)
        stalled_at = time.monotonic()
        received_then = pipeline._frames.received  # type: ignore[union-attr]
        time.sleep(1.5)
        assert not notify_socket.pings(after=stalled_at + 0.05)  # the loop is stuck: silence
        assert pipeline._frames.received > received_then + 20  # type: ignore[union-attr]  # the camera side lives on
        gate.set()
        wait_for(lambda: notify_socket.pings(after=stalled_at + 1.5), 5, "pings after the stall")
    finally:
        gate.set()
        pipeline.stop()
    assert len(notify_socket.pings()) == pipeline.frames_processed  # one ping per processed frame, no other source


def test_a_stopped_station_process_stops_pinging_the_watchdog(tmp_path: Path, notify_socket: Notifications) -> None:
    env = {**os.environ, "STATION_STATE_DIR": str(tmp_path / "state"), "WATCHDOG_USEC": "2000000", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "demo", "--port", "0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    period_s = 2.0
    try:
        wait_for(lambda: any(m.startswith("READY=1") for _, m in notify_socket.seen), 30, "READY=1")
        running_from = time.monotonic()
        time.sleep(1.5)
        pings = notify_socket.pings(after=running_from)
        assert len(pings) > 20 and max(np.diff(pings)) < period_s / 2  # sd_watchdog_enabled(3): ping at half the period
        proc.send_signal(signal.SIGSTOP)  # the main loop stalls (as under a deadlock)
        stopped_at = time.monotonic()
        time.sleep(period_s + 0.5)
        assert not notify_socket.pings(after=stopped_at + 0.1)  # past WatchdogSec: systemd would now kill it (SIGABRT)
        proc.send_signal(signal.SIGCONT)
        resumed_at = time.monotonic()
        wait_for(lambda: notify_socket.pings(after=resumed_at), 2, "pings after SIGCONT")
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "STOPPING=1" in [m for _, m in notify_socket.seen]


@pytest.mark.parametrize(
    ("damage", "flags", "message"),
    [
        ("truncate", [], r"is truncated: 100,000 bytes, expected 2,894,840; download .* install it with `sudo ./setup.sh --model PATH`"),
        ("scramble", [], r"is corrupt: sha256 [0-9a-f]{64}, expected cd7cc22f[0-9a-f]{56}; download .*setup.sh --model PATH"),
        ("scramble", ["--set", "pose.verify=false"], r"cannot be loaded by .*: install a good copy"),
    ],
)
def test_a_model_that_cannot_load_exits_78_with_one_line(tmp_path: Path, damage: str, flags: list[str], message: str) -> None:
    model = tmp_path / "models" / "movenet_singlepose_lightning_int8.tflite"  # the manifest's name, damaged content
    model.parent.mkdir()
    size = 100_000 if damage == "truncate" else 2_894_840
    model.write_bytes(np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8).tobytes())
    env = {**os.environ, "STATION_STATE_DIR": str(tmp_path / "state")}
    done = subprocess.run(
        [sys.executable, "-m", "station", "run", "--model", str(model), *flags], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 78, done.stderr  # EX_CONFIG: systemd's RestartPreventExitStatus
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert errors[0].startswith(f"station run: error: model file {model} ")
    assert re.search(message, errors[0]), errors[0]


def test_the_unit_does_not_restart_a_model_or_configuration_error_in_a_loop() -> None:
    unit = (REPO_DIR / "systemd" / "station.service").read_text()
    service = unit.split("[Service]", 1)[1].split("\n[", 1)[0]
    settings = dict(line.split("=", 1) for line in service.splitlines() if "=" in line and not line.startswith("#"))
    assert settings["Restart"] == "on-failure"  # a crash or a lost camera (69) is restarted ...
    assert "78" in settings["RestartPreventExitStatus"].split()  # ... a bad model or configuration (78) is not
    assert int(settings["WatchdogSec"]) >= 5 and settings["Type"] == "notify"
