"""The status page's defences, each attack made for real over HTTP against waitress on loopback."""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, Flask
from webhelpers import ADMIN, JSON, SECRET, call, serving

from station.settings.store import StoreSettings
from station.status import StatusHub
from station.store import History
from station.types import SetEnded, SetStarted
from station.web import create_app
from station.web.auth import FailureLimiter, demo_admin_secret, read_admin_secret
from station.web.security import CONTENT_SECURITY_POLICY
from station.web.server import WebServer

ACTIONS = [
    ("POST", "/api/set/end", "{}"),
    ("POST", "/api/set/reset", "{}"),
    ("PUT", "/api/sets/1/lifter", '{"name": "Mallory"}'),
    ("PATCH", "/api/config", '{"web.title": "pwned"}'),
    ("GET", "/api/admin", None),
]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def station(tmp_path: Path) -> Iterator[tuple[WebServer, History]]:
    """A page with a real history holding one ended set, and the admin secret set."""
    history = History(tmp_path, StoreSettings())
    history.handle(SetStarted(t_s=0.0, set_n=1))
    history.handle(SetEnded(t_s=9.0, set_n=1, reps=3, t_start_s=0.0))
    app = create_app(StatusHub(), history=history, admin_secret=SECRET, state_dir=tmp_path)
    with serving(app) as server:
        APPS[server.port] = app
        yield server, history
    history.close()


APPS: dict[int, Flask] = {}


def admin_of(server: WebServer) -> Any:
    return APPS[server.port].extensions["station"]["admin"]


def lifter_in_db(history: History) -> object:
    return history.sets_today()[0]["lifter"]


def test_every_response_carries_the_security_headers(station: tuple[WebServer, History]) -> None:
    server, _ = station
    for method, path in [("GET", "/"), ("GET", "/static/app.js"), ("GET", "/api/status"), ("GET", "/nope"),
                         ("DELETE", "/api/status"), ("POST", "/api/set/end"), ("GET", "/api/openapi.json")]:  # fmt: skip
        reply = call(server.port, method, path)
        assert reply.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Referrer-Policy"] == "no-referrer"
        assert reply.headers["X-Frame-Options"] == "DENY"
        assert reply.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert reply.headers["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()"
        if path.startswith("/api/"):
            assert reply.headers["Cache-Control"] == "no-store", path
    policy = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"  # no inline code, no eval
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_anyone_may_read_but_every_change_needs_the_secret(station: tuple[WebServer, History]) -> None:
    server, history = station
    assert call(server.port, "GET", "/api/status").status == 200
    assert call(server.port, "GET", "/api/sets").status == 200
    assert call(server.port, "GET", "/api/config").status == 200
    for authorization in (None, "Bearer wrong-secret-wrong-secret", f"Basic {SECRET}", "Bearer", f"Bearer {SECRET}x"):
        for method, path, body in ACTIONS:
            headers = dict(JSON, **({"Authorization": authorization} if authorization else {}))
            reply = call(server.port, method, path, body, headers)
            assert reply.status == 401, (method, path, authorization, reply.body)
            assert reply.headers["WWW-Authenticate"].lower().startswith("bearer")
            assert "Authorization: Bearer <secret>" in reply.json()["error"]
            server_app_admin_limiter_reset(server)
    assert lifter_in_db(history) is None
    assert call(server.port, "GET", "/").body.count(b"pwned") == 0
    reply = call(server.port, "PUT", "/api/sets/1/lifter", '{"name": "Alex"}', ADMIN)
    assert reply.status == 200 and reply.json() == {"id": 1, "lifter": "Alex"}
    assert lifter_in_db(history) == "Alex"


def server_app_admin_limiter_reset(server: WebServer) -> None:
    """Forget counted failures (this test sends many wrong secrets on purpose)."""
    admin_of(server).limiter = FailureLimiter(10)


def test_guessing_is_stopped_per_address_for_a_minute(station: tuple[WebServer, History]) -> None:
    server, history = station
    clock = Clock()
    admin_of(server).limiter = FailureLimiter(10, clock=clock)
    wrong = {"Authorization": "Bearer not-it-not-it-not-it", **JSON}
    for _ in range(10):
        assert call(server.port, "PUT", "/api/sets/1/lifter", '{"name": "x"}', wrong).status == 401
    limited = call(server.port, "PUT", "/api/sets/1/lifter", '{"name": "x"}', ADMIN)
    assert limited.status == 429  # even the right secret: the guesser must not learn it was right
    assert 1 <= int(limited.headers["Retry-After"]) <= 60 and "wait" in limited.json()["error"]
    assert lifter_in_db(history) is None
    # Another address on the same machine (all of 127/8 is loopback) is not punished.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10, source_address=("127.0.0.2", 0))
    conn.request("PUT", "/api/sets/1/lifter", body='{"name": "Bo"}', headers=ADMIN)
    with conn.getresponse() as other:
        assert other.status == 200
    conn.close()
    clock.t += 61  # a minute later the first address may try again
    assert call(server.port, "PUT", "/api/sets/1/lifter", '{"name": "Cy"}', ADMIN).status == 200
    assert lifter_in_db(history) == "Cy"


def test_cross_site_requests_are_refused_even_with_the_secret(station: tuple[WebServer, History]) -> None:
    server, history = station
    for extra in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
                  {"Sec-Fetch-Site": "same-site"}):  # fmt: skip
        reply = call(server.port, "PUT", "/api/sets/1/lifter", '{"name": "Eve"}', {**ADMIN, **extra})
        assert reply.status == 403 and "own page" in reply.json()["error"], extra
    assert lifter_in_db(history) is None
    same = {**ADMIN, "Origin": f"http://127.0.0.1:{server.port}", "Sec-Fetch-Site": "same-origin"}
    assert call(server.port, "PUT", "/api/sets/1/lifter", '{"name": "Dee"}', same).status == 200


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_changes_must_be_sent_as_json(station: tuple[WebServer, History], content_type: str | None) -> None:
    """A cross-site HTML form can only send these types: without JSON there is no change."""
    server, history = station
    headers = {"Authorization": f"Bearer {SECRET}", **({"Content-Type": content_type} if content_type else {})}
    reply = call(server.port, "PUT", "/api/sets/1/lifter", '{"name": "Form"}', headers)
    assert reply.status == 415 and "application/json" in reply.json()["error"]
    assert lifter_in_db(history) is None


def test_bodies_are_capped(station: tuple[WebServer, History]) -> None:
    server, _ = station
    padded = json.dumps({"name": "x" * 20_000})
    reply = call(server.port, "PUT", "/api/sets/1/lifter", padded, ADMIN)
    assert reply.status == 413 and reply.json()["status"] == 413
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("PUT", "/api/sets/1/lifter")
    for name, value in {**ADMIN, "Content-Length": str(1 << 30)}.items():
        conn.putheader(name, value)
    conn.endheaders()  # a gigabyte announced, nothing sent: waitress refuses it before buffering a byte
    with conn.getresponse() as huge:
        assert huge.status == 413 and b"Traceback" not in huge.read()
    conn.close()
    assert call(server.port, "GET", "/api/status").status == 200  # and the page goes on


@pytest.mark.parametrize(
    ("method", "path", "body", "says"),
    [
        ("PUT", "/api/sets/1/lifter", "{not json", "not valid JSON"),
        ("PUT", "/api/sets/1/lifter", "[" * 10_000, "not valid JSON"),  # deeper than Python's recursion limit, under 16 KiB
        ("PUT", "/api/sets/1/lifter", '{"name": NaN}', "not valid JSON"),
        ("PUT", "/api/sets/1/lifter", '{"name": 5}', "name must be a string"),
        ("PUT", "/api/sets/1/lifter", '{"name": "a", "admin": true}', '{"name"'),
        ("PUT", "/api/sets/1/lifter", json.dumps({"name": "y" * 41}), "at most 40"),
        ("PUT", "/api/sets/1/lifter", json.dumps({"name": "a\u0000b"}), "printable"),
        ("PUT", "/api/sets/1/lifter", '{"name": "\\ud800"}', "not valid Unicode"),  # SQLite could not store it
        ("PATCH", "/api/config", '{"web.title": "\\udfff"}', "not valid Unicode"),
        ("PUT", "/api/sets/1/lifter", "", "needs a JSON body"),
        ("PATCH", "/api/config", '{"pose.model": "/tmp/evil.tflite"}', "cannot be changed from the page"),
        ("PATCH", "/api/config", '{"web.port": 80}', "cannot be changed from the page"),
        ("PATCH", "/api/config", '{"hinge.set_rest_s": "long"}', "wrong type"),
        ("PATCH", "/api/config", '{"hinge.set_rest_s": 1e999}', "give 5 to 600"),
        ("PATCH", "/api/config", '{"web.show_camera": 1}', "wrong type"),
        ("PATCH", "/api/config", '{"web.title": "   "}', "not only spaces"),
        ("PATCH", "/api/config", "{}", "settings to change"),
        ("POST", "/api/set/end", '{"force": true}', "takes no fields"),
    ],
)
def test_bad_bodies_are_400_saying_what_is_wrong(
    station: tuple[WebServer, History], method: str, path: str, body: str, says: str
) -> None:
    server, history = station
    reply = call(server.port, method, path, body, ADMIN)
    assert reply.status == 400, reply.body
    assert says in reply.json()["error"]
    assert lifter_in_db(history) is None


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/api/sets?day=2024-13-01", "'day'"),
        ("/api/sets?day=yesterday", "'day'"),
        ("/api/sets?limit=0", "'limit'"),
        ("/api/sets?limit=ten", "'limit'"),
        ("/api/sets?limit=5&limit=6", "'limit'"),
        ("/api/sets?colour=red", "'colour'"),
        ("/api/status?verbose=1", "'verbose'"),
        ("/api/camera.png?t=1;drop", "'t'"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_parameter(station: tuple[WebServer, History], path: str, names: str) -> None:
    server, _ = station
    reply = call(server.port, "GET", path)
    assert reply.status == 400 and names in reply.json()["error"]


def test_good_query_parameters(station: tuple[WebServer, History]) -> None:
    server, _ = station
    assert call(server.port, "GET", "/api/sets?day=2001-02-03").json() == {"date": "2001-02-03", "sets": []}
    (listed,) = call(server.port, "GET", "/api/sets?limit=1").json()["sets"]
    assert listed["id"] == 1 and listed["day_n"] == 1 and listed["reps"] == 3


def test_a_crash_in_a_route_is_a_json_500_without_a_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    broken = Blueprint("broken", __name__)

    @broken.get("/api/broken")
    def explode() -> str:
        raise RuntimeError("internal detail: /var/lib/station/history.sqlite3 row 7")

    with serving(create_app(StatusHub(), extra_blueprints=[broken])) as server:
        reply = call(server.port, "GET", "/api/broken")
    assert reply.status == 500 and reply.headers["Content-Type"] == "application/json"
    assert reply.json()["error"].startswith("internal error: the station logged the details")
    for leak in (b"Traceback", b"RuntimeError", b"internal detail", b"station/web", b".py"):
        assert leak not in reply.body
    assert reply.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    logged = capfd.readouterr().err
    assert "Traceback" in logged and "internal detail" in logged  # the journal gets it, the client does not


def test_a_history_that_cannot_be_written_is_a_503_that_says_why(tmp_path: Path) -> None:
    history = History(tmp_path, StoreSettings())
    history.handle(SetStarted(t_s=0.0, set_n=1))
    app = create_app(StatusHub(), history=history, admin_secret=SECRET)
    with serving(app) as server:
        locker = __import__("sqlite3").connect(tmp_path / "history.sqlite3", timeout=0)
        locker.execute("BEGIN EXCLUSIVE")  # another process holds the database (a backup, the sqlite3 shell)
        history._db.execute("PRAGMA busy_timeout = 100")
        try:
            reply = call(server.port, "PUT", "/api/sets/1/lifter", '{"name": "Al"}', ADMIN)
        finally:
            locker.rollback()
            locker.close()
    history.close()
    assert reply.status == 503 and "cannot write the history" in reply.json()["error"]
    assert b"Traceback" not in reply.body


def test_without_a_secret_actions_are_off_and_say_how_to_enable_them() -> None:
    note = "staff actions are off: no admin secret at /etc/station/admin.secret (run setup.sh)"
    with serving(create_app(StatusHub(), admin_note=note)) as server:
        for method, path, body in ACTIONS:
            reply = call(server.port, method, path, body, ADMIN)
            assert reply.status == 403 and reply.json()["error"] == note
        assert b'id="admin"' not in call(server.port, "GET", "/").body  # no Staff panel to confuse anyone


def test_the_secret_file_is_read_only_when_safe(tmp_path: Path) -> None:
    path = tmp_path / "admin.secret"
    assert read_admin_secret(path).secret is None and "run setup.sh" in read_admin_secret(path).note
    path.write_text(SECRET + "\n")
    os.chmod(path, 0o644)
    found = read_admin_secret(path)
    assert found.secret is None and f"chmod 600 {path}" in found.note
    os.chmod(path, 0o600)
    assert read_admin_secret(path).secret == SECRET
    path.write_text("short\n")
    assert read_admin_secret(path).secret is None and "shorter than 16" in read_admin_secret(path).note
    made = demo_admin_secret(tmp_path / "none")
    assert made.secret and len(made.secret) >= 32 and made.secret in made.note
    assert demo_admin_secret(tmp_path / "none").secret != made.secret  # a new one each run
