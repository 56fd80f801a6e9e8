"""The pipeline: recordings and real frames through the real detector into real sinks; clean stops."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory

from faulthelpers import notify_listener
from paths import MODEL_PATH, POSE_IMAGES_DIR
from station.config import load_config
from station.errors import CameraError, StorageError
from station.hinge import PhaseDetector, analyze
from station.hw.leds import Indicators
from station.hw.pose import load_pose_model
from station.hw.sources import RecordingSource, read_image
from station.metrics import MetricsSink
from station.pipeline import Paced, Pipeline, Sink
from station.recording import Recording, save
from station.settings.leds import LedSettings
from station.settings.store import StoreSettings
from station.sim import live_lifter, scenario_matrix, simulate
from station.status import StatusHub
from station.store import History
from station.types import Event, Frame, KeypointFrame, Keypoints, RepCompleted, SetEnded


@dataclass
class Collect:
    """A sink that keeps what it was handed (the assertion side of the pipeline)."""

    events: list[Event] = field(default_factory=list)
    closed: bool = False

    def handle(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        self.closed = True

    def reps(self) -> list[RepCompleted]:
        return [e for e in self.events if isinstance(e, RepCompleted)]


class Broken(Collect):
    def handle(self, event: Event) -> None:
        raise StorageError("disk full")


class Traced(PhaseDetector):
    """The real detector, remembering the timestamps it was fed."""

    def __init__(self, width_px: int, height_px: int) -> None:
        super().__init__(width_px, height_px)
        self.times: list[float] = []

    def update(self, keypoints: Keypoints, t_s: float) -> list[Event]:
        self.times.append(t_s)
        return super().update(keypoints, t_s)


@pytest.fixture
def watchdog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A stand-in for systemd's notify socket, drained in a thread; yields the messages seen."""
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    with notify_listener(tmp_path / "notify") as notes:
        yield notes.messages


def short_rdl_recording(tmp_path: Path) -> tuple[Path, Recording, int]:
    scenario = replace(scenario_matrix()[0], reps_per_set=(3,), walk_in=False, walk_out=False)
    recording, truth = simulate(scenario, 3)
    path = tmp_path / "rdl.npz"
    save(path, recording)
    return path, recording, len(truth.reps)


def test_a_recording_reaches_every_sink_and_they_are_closed(tmp_path: Path, watchdog: list[str]) -> None:
    path, recording, true_reps = short_rdl_recording(tmp_path)
    assert len(analyze(recording)["reps"]) == true_reps  # the detector gets this clip right offline
    hub, collect = StatusHub(), Collect()
    history = History(tmp_path / "state", StoreSettings())
    leds = Indicators(LedSettings(), pin_factory=MockFactory())
    detectors: list[Traced] = []

    def factory(width_px: int, height_px: int) -> Traced:
        detectors.append(Traced(width_px, height_px))
        return detectors[-1]

    metrics = MetricsSink()
    sinks: list[Sink] = [leds, history, metrics, collect]
    pipeline = Pipeline(Paced(RecordingSource(path), speed=10), factory, hub, sinks, leds=leds, metrics=metrics)
    pipeline.start()
    assert pipeline.wait(30)
    assert pipeline.error is None
    assert len(collect.reps()) == true_reps
    assert metrics.registry.get_sample_value("station_frames_total") == pipeline.frames_processed
    assert metrics.registry.get_sample_value("station_reps_total") == true_reps
    assert isinstance(collect.events[-1], SetEnded)  # no walk-out: finish() closed the set
    assert collect.closed and not leds.snapshot()  # sinks closed: LEDs released
    snap = hub.snapshot()
    assert snap["set"]["reps"] == true_reps and snap["last_rep"]["n"] == true_reps
    assert "unlock_knees_green" in snap["leds"] and "status" in snap["leds"]
    processed = pipeline.frames_processed
    assert processed == len(detectors[0].times) and processed + pipeline.dropped_frames == len(recording.t)
    assert watchdog.count("WATCHDOG=1") == processed  # one ping per processed frame
    reopened = History(tmp_path / "state", StoreSettings())  # flushed and closed: all there
    (stored,) = reopened.sets_today()
    reopened.close()
    assert stored["reps"] == true_reps and not stored["interrupted"]


@pytest.mark.model
@pytest.mark.skipif(not MODEL_PATH.is_file(), reason=f"real MoveNet model absent: {MODEL_PATH}")
def test_the_newest_frame_wins_when_the_model_is_slower_than_the_camera() -> None:
    image = read_image(POSE_IMAGES_DIR / "image1.png")
    rate_hz, count = 10_000.0, 240  # far faster than MoveNet on any CPU
    frames = [Frame(image, i / rate_hz, i) for i in range(count)]
    model = load_pose_model(load_config(flags={"pose.model": str(MODEL_PATH)}).pose)
    detectors: list[Traced] = []

    def factory(width_px: int, height_px: int) -> Traced:
        detectors.append(Traced(width_px, height_px))
        return detectors[-1]

    hub = StatusHub()
    pipeline = Pipeline(Paced(frames), factory, hub, pose_model=model)
    pipeline.start()
    assert pipeline.wait(30)
    times = detectors[0].times
    assert 2 <= len(times) < count / 2  # most frames were dropped, not queued
    assert pipeline.dropped_frames == count - len(times)
    assert times == sorted(times) and max(np.diff(times)) > 2 / rate_hz  # stale frames skipped
    assert times[-1] == (count - 1) / rate_hz  # the newest frame is always the one processed
    health = hub.snapshot()["health"]
    assert health["inference_ms"] > 0 and health["dropped_frames"] == pipeline.dropped_frames


def test_a_broken_sink_does_not_stop_the_others(tmp_path: Path) -> None:
    path, _, true_reps = short_rdl_recording(tmp_path)
    hub, collect = StatusHub(), Collect()
    pipeline = Pipeline(Paced(RecordingSource(path), speed=10), PhaseDetector, hub, [Broken(), collect])
    pipeline.start()
    assert pipeline.wait(30)
    assert pipeline.error is None and len(collect.reps()) == true_reps and collect.closed
    snap = hub.snapshot()
    assert snap["state"] == "fault" and snap["fault"] == "Broken: disk full"
    assert snap["set"]["reps"] == true_reps  # the page still counted


def test_a_camera_error_ends_in_fault_with_sinks_closed() -> None:
    def camera() -> Iterator[KeypointFrame]:
        for i, frame in enumerate(live_lifter(5)):
            if i == 20:
                raise CameraError("camera stopped delivering frames: check the ribbon cable")
            yield frame

    hub, collect = StatusHub(), Collect()
    leds = Indicators(LedSettings(), pin_factory=MockFactory())
    pipeline = Pipeline(camera(), PhaseDetector, hub, [leds, collect], leds=leds, state_listeners=[leds.set_status])
    pipeline.start()
    assert pipeline.wait(10)
    assert isinstance(pipeline.error, CameraError)
    assert hub.state == "fault" and "ribbon cable" in hub.snapshot()["fault"]
    assert leds.status == "fault" and collect.closed


def test_stop_mid_set_closes_the_set_and_the_history(tmp_path: Path) -> None:
    hub, collect = StatusHub(), Collect()
    history = History(tmp_path, StoreSettings())
    pipeline = Pipeline(Paced(live_lifter(2, fps=30.0), speed=8), PhaseDetector, hub, [history, collect])
    pipeline.start()
    deadline = threading.Event()
    for _ in range(300):  # until the first rep (a few seconds of simulated lifting)
        if collect.reps():
            break
        deadline.wait(0.05)
    assert collect.reps(), "no rep within 15 s"
    pipeline.stop()
    assert not pipeline.running and collect.closed
    assert isinstance(collect.events[-1], SetEnded)  # the open set was finished
    with sqlite3.connect(tmp_path / "history.sqlite3") as db:
        rows = db.execute("SELECT reps, ended_at, interrupted FROM sets").fetchall()
    assert rows and all(ended is not None and not interrupted for _, ended, interrupted in rows)
    assert sum(reps for reps, _, _ in rows) == len(collect.reps())


def start_station(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """A real `station ...` process; returns it and its status-page URL once it serves."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    line = proc.stdout.readline() if ready else ""
    found = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if not found:
        proc.kill()
        raise AssertionError(f"no URL from station: {line!r} {proc.communicate()[1][-2000:]}")
    return proc, found.group(0)


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)  # type: ignore[no-any-return]


def station_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "STATION_STATE_DIR": str(tmp_path / "state"), "PYTHONUNBUFFERED": "1", **extra}


def test_sigterm_stops_a_real_station_demo_cleanly(tmp_path: Path, watchdog: list[str]) -> None:
    proc, url = start_station(["demo", "--port", "0", "--speed", "6", "--seed", "4"], station_env(tmp_path))
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            status = get_json(url + "api/status")
            if status["set"]["reps"] >= 1:  # type: ignore[index]
                break
            time.sleep(0.2)
        assert status["set"]["reps"] >= 1, status  # type: ignore[index]
        with urllib.request.urlopen(url + "metrics", timeout=5) as response:
            exported = response.read().decode()
        assert re.search(r"^station_reps_total [1-9]", exported, re.M), exported[:500]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "stopped after" in err and "Traceback" not in err
    for _ in range(40):  # the drain thread may still be reading the last datagrams
        if "STOPPING=1" in watchdog:
            break
        time.sleep(0.05)
    assert watchdog[0].startswith("READY=1") and "STOPPING=1" in watchdog
    assert watchdog.count("WATCHDOG=1") > 10
    db_path = tmp_path / "state" / "history.sqlite3"
    assert not Path(f"{db_path}-wal").exists()  # closed: the write-ahead log was checkpointed
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT reps, ended_at, interrupted FROM sets").fetchall()
    assert rows and sum(r[0] for r in rows) >= 1
    assert all(ended is not None and not interrupted for _, ended, interrupted in rows)


def test_station_run_on_a_recording_serves_and_ends_with_the_file(tmp_path: Path) -> None:
    path, _, true_reps = short_rdl_recording(tmp_path)
    env = station_env(tmp_path, STATION_PIN_FACTORY="mock")  # no Pi here: LEDs on gpiozero's mock pins
    proc, url = start_station(["run", "--source", str(path), "--speed", "8", "--port", "0"], env)
    assert get_json(url + "api/status")["health"]["model"] == "not used (keypoint recording)"  # type: ignore[index]
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    with sqlite3.connect(tmp_path / "state" / "history.sqlite3") as db:
        assert db.execute("SELECT SUM(reps) FROM sets").fetchone()[0] == true_reps


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--set", "web.prot=9000"], 78, r"unknown key 'prot' in \[web\] \(flag web.prot\)"),
        (["--set", "web.port"], 2, r"--set 'web.port': write SECTION.KEY=VALUE"),
        (["--config", "{tmp}/bad.toml"], 78, r"unknown key 'colour' in \[web\] \(.*bad.toml\)"),
        (["--speed", "0"], 2, r"--speed must be positive"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path: Path, args: list[str], status: int, message: str) -> None:
    (tmp_path / "bad.toml").write_text("[web]\ncolour = 'red'\n")
    args = [a.format(tmp=tmp_path) for a in args]
    done = subprocess.run(
        [sys.executable, "-m", "station", "demo", *args], env=station_env(tmp_path), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == status, done.stderr
    assert re.search(message, done.stderr) and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_configuration_layers_reach_the_page_and_sigint_stops(tmp_path: Path) -> None:
    config = tmp_path / "layers.toml"
    config.write_text('[web]\ntitle = "From the file"\nupdate_hz = 1.0\ncamera_hz = 0.5\n')
    env = station_env(tmp_path, STATION_WEB__TITLE='"From the environment"', STATION_WEB__CAMERA_HZ="0.25")
    proc, url = start_station(["demo", "--config", str(config), "--port", "0", "--set", "web.title=From a flag"], env)
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            page = response.read().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert "<title>From a flag</title>" in page  # flag > environment > file
    assert 'data-update-hz="1.0"' in page  # file > packaged default
    assert 'data-camera-hz="0.25"' in page  # environment > file
    assert proc.returncode == 0 and "stopped after" in err
