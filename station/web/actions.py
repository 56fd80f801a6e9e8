"""Staff actions: end or reset the set, name a set's lifter, change settings. Each needs the admin secret.

A set is ended on the pipeline thread (the detector is never touched from a web thread): the
request queues a command on the hub and waits for the events it produced.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, current_app, request
from werkzeug.exceptions import TooManyRequests, Unauthorized

from station.config import Config
from station.errors import StationError
from station.status import StatusHub, end_set_command
from station.types import SetEnded
from station.web import runtime_config
from station.web.auth import FailureLimiter, bearer_token, secret_matches
from station.web.security import UNSAFE_METHODS, check_same_site, json_body, json_response

COMMAND_WAIT_S = 5.0  # the pipeline runs commands between frames: at most ~1 s when no frames come
MAX_NAME_CHARS = 40
MAX_SET_ID = 2**63 - 1  # SQLite's largest integer
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
AUTH_HELP = "send the admin secret from setup (/etc/station/admin.secret) as 'Authorization: Bearer <secret>'; the page's Staff panel does this"

bp = Blueprint("actions", __name__)
View = TypeVar("View", bound=Callable[..., Response])


@dataclass
class Admin:
    """What the actions need: the secret, the failure brake, the running config and where to save it."""

    secret: str | None
    disabled_note: str
    limiter: FailureLimiter
    config: Config
    state_dir: Path | None
    saved: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def authorize(self) -> None:
        """403 when actions are off, 429 after too many wrong secrets from this address, 401 for a wrong one."""
        if self.secret is None:
            abort(403, self.disabled_note)
        client = request.remote_addr or "unknown"
        wait_s = self.limiter.retry_after_s(client)
        if wait_s:
            raise TooManyRequests(f"too many wrong admin secrets from {client}: wait {wait_s} s", retry_after=wait_s)
        if not secret_matches(bearer_token(request.headers.get("Authorization")), self.secret):
            self.limiter.failed(client)
            raise Unauthorized(AUTH_HELP, www_authenticate=_bearer_challenge())


def _bearer_challenge() -> Any:
    from werkzeug.datastructures import WWWAuthenticate

    return WWWAuthenticate("bearer", {"realm": "station"})


def _ctx() -> dict[str, Any]:
    return current_app.extensions["station"]  # type: ignore[no-any-return]


def _admin() -> Admin:
    return _ctx()["admin"]  # type: ignore[no-any-return]


def admin_only(view: View) -> View:
    """Same-site check for changes, then the secret; only then the view runs."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Response:
        if request.method in UNSAFE_METHODS:
            check_same_site()
        _admin().authorize()
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


@bp.get("/api/admin")
@admin_only
def admin_check() -> Response:
    return json_response({"admin": True})


@bp.post("/api/set/end")
@admin_only
def end_set() -> Response:
    return _end_set(discard=False)


@bp.post("/api/set/reset")
@admin_only
def reset_set() -> Response:
    return _end_set(discard=True)


def _end_set(discard: bool) -> Response:
    body = json_body(required=False)
    if body != {}:
        abort(400, "this action takes no fields: send {} or no body")
    hub: StatusHub = _ctx()["hub"]
    future = hub.submit(end_set_command(discard))
    try:
        events = future.result(timeout=COMMAND_WAIT_S)
    except (CancelledError, FutureTimeout):
        future.cancel()
        abort(503, "the detector did not answer: the station is stopping or its pipeline has stopped; see Station health")
    ended = [e for e in events if isinstance(e, SetEnded)]
    if not ended:
        abort(409, "no set is open: there is nothing to end")
    last = ended[-1]
    return json_response({"ended": {"n": last.set_n, "reps": last.reps, "discarded": last.discarded}})


@bp.put("/api/sets/<int:set_id>/lifter")
@admin_only
def name_lifter(set_id: int) -> Response:
    body = json_body(required=True)
    if not isinstance(body, dict) or set(body) != {"name"}:
        abort(400, 'send {"name": "<lifter>"} (an empty name clears it)')
    name = body["name"]
    if not isinstance(name, str):
        abort(400, "name must be a string")
    if len(name) > MAX_NAME_CHARS or _CONTROL.search(name):
        abort(400, f"name must be at most {MAX_NAME_CHARS} printable characters")
    name = name.strip()
    history = _ctx()["history"]
    row = history.set_lifter(set_id, name or None) if history is not None and 1 <= set_id <= MAX_SET_ID else None
    if row is None:
        abort(404, f"no set {set_id} in the history: take the id from /api/sets")
    _ctx()["hub"].refresh_sets()
    return json_response({"id": set_id, "lifter": row["lifter"]})


@bp.get("/api/config")
def get_config() -> Response:
    admin = _admin()
    with admin.lock:
        return json_response({"settings": runtime_config.describe(admin.config, admin.saved)})


@bp.patch("/api/config")
@admin_only
def patch_config() -> Response:
    changes = json_body(required=True)
    if not isinstance(changes, dict) or not changes:
        abort(400, 'send the settings to change as {"section.key": value, ...}, e.g. {"web.title": "Platform 2"}')
    admin = _admin()
    with admin.lock:
        try:
            runtime_config.validated(admin.config, changes)
        except ValueError as exc:
            abort(400, str(exc))
        if admin.state_dir is None:
            abort(503, "this station has no state directory to keep settings in")
        try:
            admin.saved = runtime_config.save_overrides(runtime_config.overrides_path(admin.state_dir), changes)
        except StationError as exc:
            abort(503, str(exc))
        live = {k: v for k, v in changes.items() if runtime_config.EDITABLE[k].live}
        admin.config = runtime_config.validated(admin.config, live)
        _apply_live(admin.config)
        settings = runtime_config.describe(admin.config, admin.saved)
    return json_response(
        {"applied": sorted(live), "restart_required": sorted(set(changes) - set(live)), "settings": settings}
    )


def _apply_live(config: Config) -> None:
    ctx = _ctx()
    ctx["settings"] = config.web  # the page, new streams and the camera rate read it per request
    ctx["hub"].set_show_camera(config.web.show_camera)
