"""The live stream over real HTTP from waitress: snapshot first, coalesced updates, keep-alive, cap."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from webhelpers import HEIGHT_PX, WIDTH_PX, pose, rep_event

from station.settings.web import WebSettings
from station.status import StatusHub
from station.types import SetStarted
from station.web import create_app
from station.web.server import WebServer


@dataclass
class Served:
    hub: StatusHub
    server: WebServer
    settings: WebSettings


@dataclass
class Message:
    event: str = "message"
    data: str = ""
    comments: list[str] = field(default_factory=list)
    at: float = 0.0

    def json(self) -> dict[str, object]:
        return json.loads(self.data)  # type: ignore[no-any-return]


class Stream:
    """A minimal EventSource: reads one SSE message (or comment) at a time."""

    def __init__(self, port: int, timeout_s: float = 5.0) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
        self.conn.request("GET", "/api/events", headers={"Accept": "text/event-stream"})
        self.response = self.conn.getresponse()

    def next(self) -> Message:
        msg = Message()
        while True:
            line = self.response.readline().decode()
            if line == "":
                raise EOFError("stream ended")
            line = line.rstrip("\n")
            if line == "":
                if msg.data or msg.comments or msg.event != "message":
                    msg.at = time.monotonic()
                    return msg
                continue
            if line.startswith(":"):
                msg.comments.append(line[1:].strip())
            elif line.startswith("event:"):
                msg.event = line[6:].strip()
            elif line.startswith("data:"):
                msg.data += line[5:].strip()

    def close(self) -> None:
        self.response.close()  # the response owns the socket once the server streams
        self.conn.close()


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    settings: WebSettings = getattr(request, "param", WebSettings(update_hz=4.0, keepalive_s=0.3, max_streams=2))
    hub = StatusHub(max_streams=settings.max_streams)
    server = WebServer(create_app(hub, settings=settings), "127.0.0.1", 0, settings.max_streams)
    server.start()
    yield Served(hub, server, settings)
    hub.close()
    server.close()


def test_snapshot_first_then_only_changed_fields(served: Served) -> None:
    stream = Stream(served.server.port)
    assert stream.response.status == 200
    assert stream.response.getheader("Content-Type", "").startswith("text/event-stream")
    first = stream.next()
    assert first.event == "snapshot"
    snap = first.json()
    assert snap["state"] == "starting" and snap["set"]["reps"] == 0  # type: ignore[index]
    served.hub.handle(SetStarted(t_s=0.0, set_n=1))
    served.hub.handle(rep_event(1, 1, (True, False, True)))
    update = stream.next()
    while update.event != "update":
        update = stream.next()
    changes = update.json()
    assert changes["set"]["reps"] == 1  # type: ignore[index]
    assert changes["last_rep"]["keys"]["hips_back_chest_down"]["ok"] is False  # type: ignore[index]
    assert "guidance" not in changes and "leds" not in changes  # unchanged fields are not resent
    stream.close()


def test_updates_are_coalesced_to_the_configured_rate(served: Served) -> None:
    stream = Stream(served.server.port)
    assert stream.next().event == "snapshot"
    stop = threading.Event()

    def camera_at_100_fps() -> None:
        step = 0
        while not stop.is_set():
            kp = pose()
            kp[:, 1] += 0.001 * (step % 50)  # the lifter sways: every frame is a change
            served.hub.update_frame(kp, WIDTH_PX, HEIGHT_PX)
            step += 1
            time.sleep(0.01)

    feeder = threading.Thread(target=camera_at_100_fps)
    feeder.start()
    try:
        updates = []
        deadline = time.monotonic() + 1.6
        while time.monotonic() < deadline:
            msg = stream.next()
            if msg.event == "update":
                updates.append(msg)
    finally:
        stop.set()
        feeder.join()
        stream.close()
    frames = served.hub.snapshot()["health"]["frames"]
    assert frames > 100  # ~160 changes happened ...
    assert 3 <= len(updates) <= 1.6 * served.settings.update_hz + 2  # ... and at most 4 a second were sent
    gaps = [b.at - a.at for a, b in zip(updates, updates[1:])]
    assert min(gaps) >= 0.8 / served.settings.update_hz
    assert all("pose" in u.json() for u in updates)


def test_keep_alive_comments_while_nothing_changes(served: Served) -> None:
    stream = Stream(served.server.port)
    assert stream.next().event == "snapshot"
    quiet = stream.next()
    assert quiet.comments == ["keep-alive"] and not quiet.data
    stream.close()


def test_stream_cap_refuses_with_503_and_frees_slots(served: Served) -> None:
    first, second = Stream(served.server.port), Stream(served.server.port)
    assert first.next().event == "snapshot" and second.next().event == "snapshot"
    refused = Stream(served.server.port)
    assert refused.response.status == 503
    assert refused.response.getheader("Retry-After") == "30"
    assert "poll /api/status" in json.loads(refused.response.read())["error"]
    refused.close()
    # Other requests still get a thread while every stream is open.
    conn = http.client.HTTPConnection("127.0.0.1", served.server.port, timeout=5)
    conn.request("GET", "/api/status")
    assert conn.getresponse().status == 200
    conn.close()
    first.close()  # the server notices at its next keep-alive write and frees the slot
    deadline = time.monotonic() + 5
    while served.hub.open_streams > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    third = Stream(served.server.port)
    assert third.response.status == 200 and third.next().event == "snapshot"
    second.close()
    third.close()


def test_closing_the_hub_ends_streams_and_the_server_stops_promptly(served: Served) -> None:
    stream = Stream(served.server.port)
    assert stream.next().event == "snapshot"
    served.hub.close()
    msg = stream.next()
    while msg.event != "stopped":
        msg = stream.next()
    with pytest.raises(EOFError):
        stream.next()
    stream.close()
    start = time.monotonic()
    served.server.close()
    assert time.monotonic() - start < 3.0
