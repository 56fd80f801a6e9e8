"""Builders shared by the status-page tests: reps, graded events, simple poses, and a real server to call."""

from __future__ import annotations

import contextlib
import http.client
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
from flask import Flask

from station.types import KEY_NAMES, KeyGrade, Keypoints, Rep, RepCompleted
from station.web.server import WebServer

# A lifter standing side-on, facing right, in a 640x480 frame: (name index) -> (y_px, x_px).
SIDE_ON_PX: dict[int, tuple[float, float]] = {
    0: (112, 330), 1: (104, 324), 2: (104, 322), 3: (108, 306), 4: (108, 304),
    5: (150, 300), 6: (150, 296), 7: (210, 306), 8: (210, 302), 9: (262, 312), 10: (262, 308),
    11: (268, 292), 12: (268, 288), 13: (360, 302), 14: (360, 298), 15: (452, 290), 16: (452, 286),
}  # fmt: skip
WIDTH_PX, HEIGHT_PX = 640, 480


def pose(points_px: dict[int, tuple[float, float]] | None = None, score: float = 0.8) -> Keypoints:
    """Normalised keypoints from pixel positions (default: the side-on lifter)."""
    points = points_px or SIDE_ON_PX
    kp = np.zeros((17, 3), np.float32)
    for i, (y, x) in points.items():
        kp[i] = (y / HEIGHT_PX, x / WIDTH_PX, score)
    return kp


def face_on() -> Keypoints:
    """The same lifter turned to face the camera: left and right spread apart."""
    spread = {5: 45, 6: -45, 7: 55, 8: -55, 9: 55, 10: -55, 11: 32, 12: -32, 13: 30, 14: -30, 15: 28, 16: -28, 1: 8, 2: -8, 3: 18, 4: -18}
    return pose({i: (y, 300 + spread.get(i, 0)) for i, (y, _x) in SIDE_ON_PX.items()})


def rep_event(n: int, set_n: int, oks: tuple[bool | None, ...], t_s: float = 10.0) -> RepCompleted:
    """A RepCompleted whose three keys pass (True), fail (False) or could not be judged (None)."""
    keys = {
        name: KeyGrade(ok=ok, value=12.5 if ok is not None else None, cue=f"cue for {name}",
                       fault="rounded" if name == "hips_back_chest_down" and ok is False else None)
        for name, ok in zip(KEY_NAMES, oks)
    }  # fmt: skip
    rep = Rep(n=n, set_n=set_n, t_start_s=t_s - 3, t_bottom_s=t_s - 1.5, t_lockout_s=t_s, descent_s=1.5, ascent_s=1.5, keys=keys)
    return RepCompleted(t_s=t_s, rep=rep)


SECRET = "test-admin-secret-0123456789abcdef"
JSON = {"Content-Type": "application/json"}
ADMIN = {"Authorization": f"Bearer {SECRET}", **JSON}


class Reply:
    """One HTTP response read whole: status, headers (case-insensitive) and body."""

    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def call(port: int, method: str, path: str, body: bytes | str | None = None, headers: dict[str, str] | None = None) -> Reply:
    """A real HTTP request over loopback with exactly the given headers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


@contextlib.contextmanager
def serving(app: Flask, max_streams: int = 8) -> Iterator[WebServer]:
    """The app on waitress on a free loopback port, stopped afterwards."""
    server = WebServer(app, "127.0.0.1", 0, max_streams)
    server.start()
    try:
        yield server
    finally:
        server.close()
