"""The status page's Flask application: one blueprint, a JSON API and an SSE stream."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, render_template

from station.settings.web import WebSettings
from station.status import StatusHub, StreamsFull
from station.types import KEY_NAMES
from station.web.png import encode_png
from station.web.sse import dumps, event_stream

KEY_TITLES: dict[str, str] = {
    "unlock_knees": "Unlock knees",
    "hips_back_chest_down": "Hips back + chest down",
    "knees_after_hips": "Knees after hips",
}
# Everything the page needs is served from here (no CDN: gyms often have no uplink), so the
# policy can forbid all other origins and all inline code.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)

bp = Blueprint("status", __name__)


def create_app(
    hub: StatusHub,
    history: Any = None,
    settings: WebSettings | None = None,
    metrics_blueprint: Blueprint | None = None,
    extra_blueprints: Sequence[Blueprint] = (),
) -> Flask:
    """Build the page's app around a hub; `history` answers /api/sets when given."""
    app = Flask(__name__)
    app.extensions["station"] = {"hub": hub, "history": history, "settings": settings or WebSettings()}
    app.register_blueprint(bp)
    for extra in ([metrics_blueprint] if metrics_blueprint else []) + list(extra_blueprints):
        app.register_blueprint(extra)
    app.after_request(_security_headers)
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
        }
        for day_n, row in enumerate(rows, start=1)
    ]


def _ctx() -> dict[str, Any]:
    return current_app.extensions["station"]  # type: ignore[no-any-return]


def _json(value: Any, status: int = 200) -> Response:
    response = Response(dumps(value), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


@bp.get("/")
def index() -> str:
    settings: WebSettings = _ctx()["settings"]
    return render_template(
        "index.html", settings=settings, keys=[(name, KEY_TITLES.get(name, name)) for name in KEY_NAMES]
    )


@bp.get("/api/status")
def api_status() -> Response:
    return _json(_ctx()["hub"].snapshot())


@bp.get("/api/sets")
def api_sets() -> Response:
    history = _ctx()["history"]
    sets = history_sets(history.sets_today()) if history is not None else _ctx()["hub"].sets_today()
    return _json({"date": time.strftime("%Y-%m-%d"), "sets": sets})


@bp.get("/api/events")
def api_events() -> Response:
    hub: StatusHub = _ctx()["hub"]
    settings: WebSettings = _ctx()["settings"]
    try:
        hub.open_stream()
    except StreamsFull as exc:
        response = _json({"error": f"{exc}; poll /api/status instead"}, status=503)
        response.headers["Retry-After"] = "30"
        return response
    response = Response(event_stream(hub, settings.update_hz, settings.keepalive_s), mimetype="text/event-stream")
    response.call_on_close(hub.close_stream)  # runs even if the client leaves before the first byte
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # a reverse proxy must not hold events back
    return response


@bp.get("/api/camera.png")
def api_camera() -> Response:
    image = _ctx()["hub"].camera_image()
    if image is None:
        abort(404, "the camera picture is off ([web] show_camera = false) or no frame has arrived")
    response = Response(encode_png(image), mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz() -> Response:
    state = _ctx()["hub"].state
    return _json({"state": state}, status=503 if state in ("fault", "stopped") else 200)
