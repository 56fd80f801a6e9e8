"""Staff actions end to end: a real pipeline and detector on the simulated lifter, a real SQLite
history, the page on waitress, the admin secret over HTTP."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from webhelpers import ADMIN, SECRET, call, pose, serving

from station.config import load_config
from station.hinge import PhaseDetector
from station.pipeline import Paced, Pipeline
from station.settings.store import StoreSettings
from station.sim import live_lifter
from station.status import StatusHub
from station.store import History
from station.types import KeypointFrame
from station.web import create_app
from station.web.runtime_config import OVERRIDES_NAME, load_with_overrides
from station.web.server import WebServer


@dataclass
class Running:
    hub: StatusHub
    history: History
    pipeline: Pipeline
    server: WebServer
    state_dir: Path

    def rows(self) -> list[tuple[int, int, object, int, object]]:
        with sqlite3.connect(self.state_dir / "history.sqlite3") as db:
            return db.execute("SELECT id, reps, ended_at, discarded, lifter FROM sets ORDER BY id").fetchall()


def running(tmp_path: Path, frames: object) -> Iterator[Running]:
    hub = StatusHub()
    history = History(tmp_path, StoreSettings())
    pipeline = Pipeline(frames, PhaseDetector, hub, [history])  # type: ignore[arg-type]
    app = create_app(hub, history=history, config=load_config(), admin_secret=SECRET, state_dir=tmp_path)
    with serving(app) as server:
        pipeline.start()
        yield Running(hub, history, pipeline, server, tmp_path)
        pipeline.stop()
        hub.close()


@pytest.fixture
def lifting(tmp_path: Path) -> Iterator[Running]:
    yield from running(tmp_path, Paced(live_lifter(3, fps=15.0), speed=6))


@pytest.fixture
def standing(tmp_path: Path) -> Iterator[Running]:
    """Someone standing still: frames flow, but no set ever starts."""
    yield from running(tmp_path, Paced((KeypointFrame(pose(), i / 15, 640, 480, i) for i in range(100_000)), speed=1))


def wait_for_open_set(station: Running, timeout_s: float = 40.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        current = station.hub.snapshot()["set"]
        if current["active"] and current["reps"] >= 1 and current["id"]:
            return current  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"no set with a rep within {timeout_s} s")


@pytest.mark.parametrize(("path", "discarded"), [("/api/set/end", False), ("/api/set/reset", True)])
def test_ending_or_resetting_the_open_set(lifting: Running, path: str, discarded: bool) -> None:
    current = wait_for_open_set(lifting)
    reply = call(lifting.server.port, "POST", path, "{}", ADMIN)
    assert reply.status == 200, reply.body
    ended = reply.json()["ended"]
    assert ended["n"] == current["n"] and ended["reps"] >= current["reps"] and ended["discarded"] is discarded
    # The pipeline thread ended it in the detector: the history and the page agree at once.
    (row,) = [r for r in lifting.rows() if r[0] == current["id"]]
    assert row[2] is not None and row[3] == int(discarded) and row[1] == ended["reps"]
    listed = {s["id"]: s for s in call(lifting.server.port, "GET", "/api/sets").json()["sets"]}
    assert listed[current["id"]]["active"] is False and listed[current["id"]]["discarded"] is discarded
    page_set = lifting.hub.snapshot()["set"]
    assert page_set["n"] != current["n"] or (not page_set["active"] and page_set["discarded"] is discarded)
    # The detector goes on counting: the lifter's next reps open a new set.
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and len(lifting.rows()) < 2:
        time.sleep(0.1)
    assert len(lifting.rows()) >= 2 and lifting.pipeline.error is None


def test_ending_when_no_set_is_open_is_a_409(standing: Running) -> None:
    deadline = time.monotonic() + 10
    while standing.hub.snapshot()["health"]["frames"] < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    for path in ("/api/set/end", "/api/set/reset"):
        reply = call(standing.server.port, "POST", path, "", ADMIN)  # an empty body is allowed
        assert reply.status == 409 and "no set is open" in reply.json()["error"]
    assert standing.rows() == []


def test_naming_a_lifter_is_stored_and_shown(lifting: Running) -> None:
    current = wait_for_open_set(lifting)
    port = lifting.server.port
    reply = call(port, "PUT", f"/api/sets/{current['id']}/lifter", '{"name": "  Zoë K.  "}'.encode(), ADMIN)
    assert reply.status == 200 and reply.json() == {"id": current["id"], "lifter": "Zoë K."}
    assert [r[4] for r in lifting.rows() if r[0] == current["id"]] == ["Zoë K."]
    (listed,) = [s for s in call(port, "GET", "/api/sets").json()["sets"] if s["id"] == current["id"]]
    assert listed["lifter"] == "Zoë K."
    status = call(port, "GET", "/api/status").json()
    assert [s["lifter"] for s in status["sets_today"] if s["id"] == current["id"]] == ["Zoë K."]
    if status["set"]["id"] == current["id"]:
        assert status["set"]["lifter"] == "Zoë K."  # the Now card names the lifter too
    assert call(port, "PUT", f"/api/sets/{current['id']}/lifter", '{"name": ""}', ADMIN).json()["lifter"] is None
    missing = call(port, "PUT", "/api/sets/999999/lifter", '{"name": "Nobody"}', ADMIN)
    assert missing.status == 404 and "no set 999999" in missing.json()["error"]


def test_settings_apply_live_or_at_the_next_start(standing: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    port = standing.server.port
    before = {s["key"]: s for s in call(port, "GET", "/api/config").json()["settings"]}
    assert before["hinge.set_rest_s"]["value"] == 30.0 and before["hinge.set_rest_s"]["applies"] == "restart"
    change = '{"web.title": "Platform 2", "web.show_camera": true, "hinge.set_rest_s": 45}'
    reply = call(port, "PATCH", "/api/config", change, ADMIN)
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body["applied"] == ["web.show_camera", "web.title"] and body["restart_required"] == ["hinge.set_rest_s"]
    after = {s["key"]: s for s in body["settings"]}
    assert after["hinge.set_rest_s"]["value"] == 30.0 and after["hinge.set_rest_s"]["pending"] == 45
    assert b"<title>Platform 2</title>" in call(port, "GET", "/").body  # live
    assert call(port, "GET", "/api/status").json()["camera"]["shown"] is True  # live
    saved = (standing.state_dir / OVERRIDES_NAME).read_text()
    assert 'title = "Platform 2"' in saved and "set_rest_s = 45" in saved
    # The next start reads them: page settings beat the environment, flags beat the page.
    monkeypatch.setenv("STATION_STATE_DIR", str(standing.state_dir))
    monkeypatch.setenv("STATION_WEB__TITLE", '"From the environment"')
    config = load_with_overrides(None, {})
    assert config.hinge.set_rest_s == 45.0 and config.web.title == "Platform 2" and config.web.show_camera
    assert load_with_overrides(None, {"hinge.set_rest_s": 20.0}).hinge.set_rest_s == 20.0
    (standing.state_dir / OVERRIDES_NAME).write_text("[pose]\nmodel = '/tmp/x.tflite'\n")
    with pytest.raises(Exception, match=r"pose.model cannot be set from the page: delete it there"):
        load_with_overrides(None, {})
