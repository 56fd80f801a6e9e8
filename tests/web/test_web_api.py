"""The page and JSON API through Flask's test client: shapes, privacy, no outside assets."""

from __future__ import annotations

import json
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from flask import Blueprint
from flask.testing import FlaskClient
from webhelpers import HEIGHT_PX, WIDTH_PX, pose, rep_event

from station.settings.store import StoreSettings
from station.settings.web import WebSettings
from station.status import StatusHub
from station.store import History
from station.types import KEY_NAMES, Phase, PhaseChanged, SetEnded, SetStarted
from station.web import create_app


def client_for(hub: StatusHub, **kwargs: object) -> FlaskClient:
    return create_app(hub, **kwargs).test_client()  # type: ignore[arg-type]


def strict_json(text: str) -> object:
    def no_constants(name: str) -> None:
        raise AssertionError(f"{name} is not JSON a browser accepts")

    return json.loads(text, parse_constant=no_constants)


def test_status_has_the_documented_shape() -> None:
    hub = StatusHub()
    hub.handle(SetStarted(t_s=0.0, set_n=1))
    hub.handle(PhaseChanged(t_s=0.5, phase=Phase.BOTTOM))
    hub.handle(rep_event(1, 1, (True, False, None)))
    hub.update_frame(pose(), WIDTH_PX, HEIGHT_PX, inference_ms=40.0)
    response = client_for(hub).get("/api/status")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = strict_json(response.get_data(as_text=True))
    assert isinstance(body, dict)
    assert body["state"] == "tracking" and body["phase"] == "bottom"
    assert body["set"]["n"] == 1 and body["set"]["reps"] == 1
    assert set(body["last_rep"]["keys"]) == set(KEY_NAMES)
    assert body["last_rep"]["keys"]["hips_back_chest_down"]["fault"] == "rounded"
    for field in ("fps", "inference_ms", "camera", "model", "disk_free_mb", "uptime_s", "cpu_temp_c", "throttled"):
        assert field in body["health"], field
    assert len(body["pose"]["keypoints"]) == 17
    assert body["guidance"] == []  # the helper pose is a well-placed side-on lifter


def test_non_finite_values_become_null() -> None:
    hub = StatusHub()
    event = rep_event(1, 1, (True, True, True))
    nan_grade = type(event.rep.keys["unlock_knees"])(ok=None, value=float("nan"), cue="x")
    event.rep.keys["unlock_knees"] = nan_grade
    hub.handle(event)
    body = strict_json(client_for(hub).get("/api/status").get_data(as_text=True))
    assert body["last_rep"]["keys"]["unlock_knees"]["value"] is None  # type: ignore[index]


def test_sets_come_from_the_history_database(tmp_path: Path) -> None:
    history = History(tmp_path, StoreSettings())
    for event in (SetStarted(t_s=0.0, set_n=1), rep_event(1, 1, (True, True, False)), SetEnded(t_s=9.0, set_n=1, reps=1, t_start_s=0.0)):
        history.handle(event)
    body = client_for(StatusHub(), history=history).get("/api/sets").get_json()
    history.close()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", body["date"])
    (listed,) = body["sets"]
    assert listed["n"] == 1 and listed["day_n"] == 1 and listed["reps"] == 1 and not listed["active"]
    assert listed["keys"]["knees_after_hips"] == {"pass": 0, "graded": 1}
    assert listed["descent_s"] == 1.5  # the history adds the tempo


def test_sets_without_history_come_from_the_hub() -> None:
    hub = StatusHub()
    hub.handle(SetStarted(t_s=0.0, set_n=1))
    hub.handle(rep_event(1, 1, (True, True, True)))
    (listed,) = client_for(hub).get("/api/sets").get_json()["sets"]
    assert listed["n"] == 1 and listed["active"] and listed["keys"]["unlock_knees"] == {"pass": 1, "graded": 1}


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.style_attrs = 0
        self.style_elements = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and not a.get("src"):
            self.inline_scripts += 1
        if tag == "style":
            self.style_elements += 1
        if "style" in a or any(name.startswith("on") for name in a):
            self.style_attrs += 1
        for name in ("src", "href"):
            if a.get(name):
                self.urls.append(str(a[name]))


def test_page_uses_only_its_own_static_files_and_no_inline_code() -> None:
    client = client_for(StatusHub(), settings=WebSettings(title="Platform 2"))
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>Platform 2</title>" in html
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    parser = _Assets()
    parser.feed(html)
    assert parser.inline_scripts == 0 and parser.style_elements == 0 and parser.style_attrs == 0
    assert not re.search(r"https?://", html), "the page must work with no uplink"
    assert {u.rsplit("/", 1)[-1] for u in parser.urls} >= {"app.js", "figure.js", "style.css", "favicon.svg"}
    for url in parser.urls:
        with client.get(url) as asset:  # static files are streamed: close them
            assert asset.status_code == 200, url
            assert not re.search(rb"https?://(?!www\.w3\.org/2000/svg)", asset.data), f"{url} loads from the internet"


def _decode_png(data: bytes) -> np.ndarray:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        payload = data[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(kind + payload)
        chunks[kind] = payload
        pos += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + width * 3)
    assert not rows[:, 0].any()  # filter type 0 on every row
    return rows[:, 1:].reshape(height, width, 3)


def test_camera_picture_is_private_unless_enabled() -> None:
    image = (np.arange(40 * 60 * 3) % 251).astype(np.uint8).reshape(40, 60, 3)
    private = StatusHub(show_camera=False)
    private.update_frame(pose(), 60, 40, image_rgb=image)
    assert client_for(private).get("/api/camera.png").status_code == 404
    shown = StatusHub(show_camera=True)
    shown.update_frame(pose(), 60, 40, image_rgb=image)
    response = client_for(shown, settings=WebSettings(show_camera=True)).get("/api/camera.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    np.testing.assert_array_equal(_decode_png(response.data), image)


def test_large_camera_pictures_are_downsampled() -> None:
    hub = StatusHub(show_camera=True)
    hub.update_frame(pose(), 1280, 960, image_rgb=np.full((960, 1280, 3), 77, np.uint8))
    decoded = _decode_png(client_for(hub).get("/api/camera.png").data)
    assert decoded.shape == (320, 427, 3) and (decoded == 77).all()


def test_extra_blueprints_are_registered() -> None:
    metrics = Blueprint("metrics", __name__)
    metrics.add_url_rule("/metrics", "metrics", lambda: "station_frames_total 3\n")
    other = Blueprint("other", __name__)
    other.add_url_rule("/other", "other", lambda: "ok")
    client = client_for(StatusHub(), metrics_blueprint=metrics, extra_blueprints=[other])
    assert client.get("/metrics").get_data(as_text=True) == "station_frames_total 3\n"
    assert client.get("/other").status_code == 200


@pytest.mark.parametrize(("fault", "status"), [(None, 200), ("camera lost", 503)])
def test_healthz(fault: str | None, status: int) -> None:
    hub = StatusHub()
    hub.update_frame(pose(), WIDTH_PX, HEIGHT_PX)
    hub.set_fault(fault)
    response = client_for(hub).get("/healthz")
    assert response.status_code == status
    assert response.get_json()["state"] == ("fault" if fault else "idle")
