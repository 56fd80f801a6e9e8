"""The status page's Flask application: one blueprint, a JSON API and an SSE stream."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, render_template

from station.config import Config
from station.settings.web import WebSettings
from station.status import StatusHub, StreamsFull
from station.types import KEY_NAMES
from station.web import actions, runtime_config, security
from station.web.auth import FailureLimiter
from station.web.png import encode_png
from station.web.security import json_response, query_args
from station.web.sse import event_stream

KEY_TITLES: dict[str, str] = {
    "unlock_knees": "Unlock knees",
    "hips_back_chest_down": "Hips back + chest down",
    "knees_after_hips": "Knees after hips",
}
OPENAPI_PATH = Path(__file__).with_name("openapi.json")
MAX_SETS_LIMIT = 1000
DISABLED_NOTE = "staff actions are off: this station was started without an admin secret"

bp = Blueprint("status", __name__)


def create_app(
    hub: StatusHub,
    history: Any = None,
    settings: WebSettings | None = None,
    metrics_blueprint: Blueprint | None = None,
    extra_blueprints: Sequence[Blueprint] = (),
    *,
    config: Config | None = None,
    admin_secret: str | None = None,
    admin_note: str = DISABLED_NOTE,
    state_dir: Path | None = None,
) -> Flask:
    """Build the page's app around a hub; `history` answers /api/sets; `admin_secret` enables staff actions.

    `config` is the running configuration (its [web] section wins over `settings`); `state_dir`
    keeps settings changed on the page; `admin_note` says why actions are off when there is no secret.
    """
    config = config or Config(web=settings or WebSettings())
    saved: dict[str, Any] = {}
    if state_dir is not None:
        try:
            saved = runtime_config.read_overrides(runtime_config.overrides_path(state_dir))
        except Exception:  # noqa: BLE001 - already reported at start; the page shows nothing pending
            saved = {}
    admin = actions.Admin(
        secret=admin_secret,
        disabled_note=admin_note,
        limiter=FailureLimiter(config.web.auth_failures_per_min),
        config=config,
        state_dir=state_dir,
        saved=saved,
    )
    app = Flask(__name__)
    app.extensions["station"] = {"hub": hub, "history": history, "settings": config.web, "admin": admin}
    security.install(app)
    app.register_blueprint(bp)
    app.register_blueprint(actions.bp)
    for extra in ([metrics_blueprint] if metrics_blueprint else []) + list(extra_blueprints):
        app.register_blueprint(extra)
    if history is not None:
        hub.use_sets_source(lambda: history_sets(history.sets_today()))
    return app


def history_sets(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of `History.sets_today()` in the shape the page and /api/status use, numbered in the day."""
    return [
        {
            "n": row["set_n"],
            "day_n": day_n,
            "reps": row["reps"],
            "t_start": row["started_at"],
            "t_end": row["ended_at"],
            "active": row["ended_at"] is None,
            "keys": row["keys"],
            "descent_s": row.get("descent_s"),
            "ascent_s": row.get("ascent_s"),
            "interrupted": bool(row.get("interrupted")),
            "id": row.get("id"),
            "lifter": row.get("lifter"),
            "discarded": bool(row.get("discarded")),
        }
        for day_n, row in enumerate(rows, start=1)
    ]


def _ctx() -> dict[str, Any]:
    return current_app.extensions["station"]  # type: ignore[no-any-return]


def parse_day(text: str) -> datetime.date:
    if not re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        raise ValueError(f"{text!r} is not a date: write YYYY-MM-DD")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a calendar date: write YYYY-MM-DD") from None


def parse_limit(text: str) -> int:
    if not re.fullmatch(r"\d{1,4}", text) or not 1 <= int(text) <= MAX_SETS_LIMIT:
        raise ValueError(f"{text!r}: give a whole number from 1 to {MAX_SETS_LIMIT}")
    return int(text)


def parse_cache_buster(text: str) -> str:
    if not re.fullmatch(r"\d{1,20}", text):
        raise ValueError("give digits (a time in ms)")
    return text


@bp.get("/")
def index() -> str:
    settings: WebSettings = _ctx()["settings"]
    return render_template(
        "index.html",
        settings=settings,
        keys=[(name, KEY_TITLES.get(name, name)) for name in KEY_NAMES],
        admin_enabled=_ctx()["admin"].secret is not None,
    )


@bp.get("/api/status")
def api_status() -> Response:
    query_args({})
    return json_response(_ctx()["hub"].snapshot())


@bp.get("/api/sets")
def api_sets() -> Response:
    args = query_args({"day": parse_day, "limit": parse_limit})
    today = datetime.date.today()
    day = args.get("day", today)
    history = _ctx()["history"]
    if history is not None:
        sets = history_sets(history.sets_on(day))
    else:
        sets = _ctx()["hub"].sets_today() if day == today else []
    if "limit" in args:
        sets = sets[-args["limit"] :]  # the newest, still numbered in the day
    return json_response({"date": day.isoformat(), "sets": sets})


@bp.get("/api/openapi.json")
def api_openapi() -> Response:
    query_args({})
    return Response(OPENAPI_PATH.read_bytes(), mimetype="application/json")


@bp.get("/api/events")
def api_events() -> Response:
    query_args({})
    hub: StatusHub = _ctx()["hub"]
    settings: WebSettings = _ctx()["settings"]
    try:
        hub.open_stream()
    except StreamsFull as exc:
        response = json_response({"error": f"{exc}; poll /api/status instead", "status": 503}, status=503)
        response.headers["Retry-After"] = "30"
        return response
    response = Response(event_stream(hub, settings.update_hz, settings.keepalive_s), mimetype="text/event-stream")
    response.call_on_close(hub.close_stream)  # runs even if the client leaves before the first byte
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # a reverse proxy must not hold events back
    return response


@bp.get("/api/camera.png")
def api_camera() -> Response:
    query_args({"t": parse_cache_buster})
    image = _ctx()["hub"].camera_image()
    if image is None:
        abort(404, "the camera picture is off ([web] show_camera = false) or no frame has arrived")
    return Response(encode_png(image), mimetype="image/png")


@bp.get("/healthz")
def healthz() -> Response:
    state = _ctx()["hub"].state
    return json_response({"state": state}, status=503 if state in ("fault", "stopped") else 200)
