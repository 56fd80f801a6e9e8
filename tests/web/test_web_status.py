"""StatusHub: events and frames in, snapshots and change notifications out, across threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from webhelpers import HEIGHT_PX, WIDTH_PX, pose, rep_event

from station.settings.store import StoreSettings
from station.status import StatusHub, StreamsFull, end_set_command
from station.store import History
from station.types import Event, Phase, PhaseChanged, SetEnded, SetStarted
from station.web.app import history_sets


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_events_drive_set_reps_last_rep_and_pass_counts() -> None:
    hub = StatusHub()
    hub.handle(SetStarted(t_s=1.0, set_n=1))
    hub.handle(PhaseChanged(t_s=1.0, phase=Phase.HINGE))
    hub.handle(rep_event(1, 1, (True, False, None)))
    hub.handle(rep_event(2, 1, (True, True, False)))
    snap = hub.snapshot()
    assert snap["phase"] == "hinge"
    assert snap["set"]["n"] == 1 and snap["set"]["reps"] == 2 and snap["set"]["active"]
    assert snap["set"]["keys"]["unlock_knees"] == {"pass": 2, "graded": 2}
    assert snap["set"]["keys"]["hips_back_chest_down"] == {"pass": 1, "graded": 2}
    assert snap["set"]["keys"]["knees_after_hips"] == {"pass": 0, "graded": 1}  # the None is not graded
    last = snap["last_rep"]
    assert last["n"] == 2 and last["rep_in_set"] == 2
    assert last["keys"]["knees_after_hips"] == {"ok": False, "value": 12.5, "cue": "cue for knees_after_hips"}
    assert [s["reps"] for s in snap["sets_today"]] == [2]  # the open set is listed too

    hub.handle(SetEnded(t_s=20.0, set_n=1, reps=2, t_start_s=1.0))
    hub.handle(SetStarted(t_s=60.0, set_n=2))
    hub.handle(rep_event(3, 2, (False, False, False)))
    snap = hub.snapshot()
    assert snap["set"]["n"] == 2 and snap["set"]["reps"] == 1
    assert [(s["n"], s["reps"], s["active"]) for s in snap["sets_today"]] == [(1, 2, False), (2, 1, True)]
    assert snap["sets_today"][0]["t_end"] is not None


def test_a_rep_without_set_started_still_opens_a_set() -> None:
    hub = StatusHub()
    hub.handle(rep_event(1, 3, (True, True, True)))
    assert hub.snapshot()["set"] == {**hub.snapshot()["set"], "n": 3, "reps": 1, "active": True}


def test_state_follows_frames_phase_fault_and_close() -> None:
    hub = StatusHub()
    assert hub.state == "starting"
    hub.update_frame(pose(), WIDTH_PX, HEIGHT_PX)
    assert hub.state == "idle"
    hub.handle(PhaseChanged(t_s=1.0, phase=Phase.TOP))
    assert hub.state == "tracking"
    hub.set_fault("camera stopped delivering frames")
    assert hub.state == "fault" and hub.snapshot()["fault"] == "camera stopped delivering frames"
    hub.set_fault(None)
    assert hub.state == "tracking"
    hub.close()
    assert hub.state == "stopped" and hub.closed


def test_frames_give_fps_pose_and_health() -> None:
    clock = FakeClock()
    hub = StatusHub(clock=clock)
    for _ in range(31):
        hub.update_frame(pose(), WIDTH_PX, HEIGHT_PX, inference_ms=41.26, dropped_frames=3)
        clock.t += 1 / 30
    snap = hub.snapshot()
    assert snap["health"]["fps"] == pytest.approx(30.0, abs=0.2)
    assert snap["health"]["inference_ms"] == 41.3 and snap["health"]["dropped_frames"] == 3
    assert snap["health"]["frames"] == 31
    assert snap["pose"]["width"] == WIDTH_PX and len(snap["pose"]["keypoints"]) == 17
    assert snap["pose"]["keypoints"][0] == pytest.approx([112 / 480, 330 / 640, 0.8], abs=1e-3)
    clock.t += 5  # the camera went quiet: no stale rate
    assert hub.snapshot()["health"]["fps"] == 0.0


def test_nan_keypoints_are_sent_as_zero() -> None:
    hub = StatusHub()
    kp = pose()
    kp[3] = np.nan
    hub.update_frame(kp, WIDTH_PX, HEIGHT_PX)
    assert hub.snapshot()["pose"]["keypoints"][3] == [0.0, 0.0, 0.0]


def test_wait_wakes_on_change_and_on_close() -> None:
    hub = StatusHub()
    version = hub.snapshot()["version"]
    assert hub.wait(version, 0.05) == version  # nothing changed: times out
    threading.Timer(0.05, lambda: hub.set_health(camera="ok")).start()
    start = time.monotonic()
    assert hub.wait(version, 5.0) > version
    assert time.monotonic() - start < 2.0
    threading.Timer(0.05, hub.close).start()
    assert hub.wait_closed(5.0)


def test_stream_cap() -> None:
    hub = StatusHub(max_streams=2)
    hub.open_stream()
    hub.open_stream()
    with pytest.raises(StreamsFull, match="all 2 live streams"):
        hub.open_stream()
    hub.close_stream()
    hub.open_stream()
    assert hub.open_streams == 2


def test_camera_picture_only_when_allowed() -> None:
    image = np.zeros((48, 64, 3), np.uint8)
    private = StatusHub(show_camera=False)
    private.update_frame(pose(), 64, 48, image_rgb=image)
    assert private.camera_image() is None and private.snapshot()["camera"] == {"shown": False, "available": False}
    shown = StatusHub(show_camera=True)
    shown.update_frame(pose(), 64, 48, image_rgb=image)
    assert shown.camera_image() is image and shown.snapshot()["camera"]["available"]


def test_only_todays_finished_sets_are_listed() -> None:
    wall = FakeClock(time.time())
    hub = StatusHub(wall_clock=wall)
    yesterday = {"n": 1, "reps": 5, "t_start": wall.t - 86400 * 1.5, "t_end": wall.t - 86400 * 1.5 + 60, "active": False, "keys": {}}
    today = {**yesterday, "n": 2, "t_start": wall.t - 1, "t_end": wall.t}
    hub.set_finished_sets([yesterday, today])
    assert [s["n"] for s in hub.sets_today()] == [2]


def test_finished_sets_of_past_days_are_forgotten() -> None:
    """A station left running for days keeps only today's finished sets in memory."""
    wall = FakeClock(time.mktime((2024, 6, 12, 12, 0, 0, 0, 0, -1)))  # local noon: "today" is far from midnight
    hub = StatusHub(wall_clock=wall)
    for day in range(3):
        for n in (1, 2):
            hub.handle(SetStarted(t_s=0.0, set_n=10 * day + n))
            hub.handle(rep_event(1, 10 * day + n, (True, True, True)))
            hub.handle(SetEnded(t_s=30.0, set_n=10 * day + n, reps=1, t_start_s=0.0))
        assert [s["n"] for s in hub.sets_today()] == [10 * day + 1, 10 * day + 2]
        assert len(hub._finished_sets) == 2  # yesterday's are gone, not just hidden
        wall.t += 86400.0


def test_seeded_from_a_real_history_database(tmp_path: Path) -> None:
    history = History(tmp_path, StoreSettings())
    history.handle(SetStarted(t_s=1.0, set_n=1))
    history.handle(rep_event(1, 1, (True, False, None)))
    history.handle(rep_event(2, 1, (True, True, True)))
    history.handle(SetEnded(t_s=30.0, set_n=1, reps=2, t_start_s=1.0))
    hub = StatusHub()
    hub.set_finished_sets(history_sets(history.sets_today()))
    history.close()
    (listed,) = hub.sets_today()
    assert listed["n"] == 1 and listed["reps"] == 2 and not listed["active"]
    assert listed["keys"]["hips_back_chest_down"] == {"pass": 1, "graded": 2}
    assert listed["keys"]["knees_after_hips"] == {"pass": 1, "graded": 1}


class FinishingDetector:
    """finish() as the detector answers when it confirms a set's first and only rep at the end."""

    def finish(self, t_s: float) -> list[Event]:
        return [SetEnded(t_s=t_s, set_n=4, reps=1, t_start_s=1.0), SetStarted(t_s=1.0, set_n=4), rep_event(9, 4, (True, True, True))]


@pytest.mark.parametrize("discard", [False, True])
def test_commands_run_on_the_pipeline_thread_and_end_sets_last(discard: bool) -> None:
    hub = StatusHub()
    future = hub.submit(end_set_command(discard))
    assert not future.done()  # nothing runs until the pipeline drains the queue
    dispatched: list[Event] = []
    runner = threading.Thread(target=hub.run_commands, args=(FinishingDetector(), 30.0, dispatched.extend))
    runner.start()
    runner.join()
    events = future.result(timeout=1)
    assert events == dispatched and [e.kind for e in events] == ["set_started", "rep", "set_ended"]
    assert events[-1].discarded is discard  # type: ignore[union-attr]
    assert hub.submit(end_set_command(False)) is not None
    hub.close()
    assert hub.submit(end_set_command(False)).cancelled()  # a stopping station refuses new commands
