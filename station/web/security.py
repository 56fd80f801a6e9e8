"""Security for the status page: headers on every response, errors as JSON without internals,
and the checks every state-changing request passes (same site, JSON, bounded size).
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, request
from werkzeug.exceptions import HTTPException

from station.errors import StationError

# Everything the page needs is served from here (no CDN: gyms often have no uplink), so the
# policy can forbid all other origins and all inline code. The camera picture is a same-origin
# PNG and the stick figure a canvas: no data: or blob: images needed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
MAX_BODY_BYTES = 16 * 1024  # the largest real body (a settings change) is well under 1 KiB
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAME_SITE_FETCH = frozenset({"same-origin", "none"})  # "none": typed into the address bar, a bookmark, curl
INTERNAL_ERROR = "internal error: the station logged the details (journalctl -u station); try again or restart it"


def install(app: Flask) -> None:
    """Headers on every response, a body size cap, and JSON for every error status."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.after_request(_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(StationError, _station_error)
    app.register_error_handler(Exception, _internal_error)


def json_response(value: Any, status: int = 200) -> Response:
    """JSON that is never cached (the station's state changes every second)."""
    from station.web.sse import dumps

    return Response(dumps(value), status=status, mimetype="application/json")


def _headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/") or request.path == "/healthz":
        response.headers["Cache-Control"] = "no-store"
    return response


def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    description = exc.description if code < 500 or code in (501, 503) else INTERNAL_ERROR
    response = json_response({"error": description, "status": code}, status=code)
    for name, value in exc.get_headers():  # Allow on 405, Retry-After on 429 and 503, WWW-Authenticate on 401
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def _station_error(exc: StationError) -> Response:
    """A known trouble (history not writable, ...): its message already says what to do."""
    return json_response({"error": str(exc), "status": 503}, status=503)


def _internal_error(exc: Exception) -> Response:
    """A bug: the traceback goes to the journal, the client gets a sentence and nothing else."""
    _log(exc)
    return json_response({"error": INTERNAL_ERROR, "status": 500}, status=500)


def _log(exc: BaseException) -> None:
    print(f"station: {request.method} {request.path} failed:", file=sys.stderr)
    traceback.print_exception(exc, file=sys.stderr)


def check_same_site() -> None:
    """403 for a state-changing request made by another site's page (a second line behind the header auth)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in SAME_SITE_FETCH:
        abort(403, f"refused a {fetch_site} request: change settings from the station's own page")
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        abort(403, f"refused a request from {origin[:100]}: change settings from the station's own page")


def json_body(required: bool) -> Any:
    """The request's JSON body (415 unless sent as application/json, 400 unless it parses); {} when empty and optional."""
    if request.mimetype != "application/json":
        abort(415, "send the body as JSON with 'Content-Type: application/json'")
    raw = request.get_data(cache=True)  # 413 beyond MAX_BODY_BYTES
    if not raw.strip():
        if required:
            abort(400, "the request needs a JSON body")
        return {}
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        abort(400, "the request body is not valid JSON")
    if not _encodable(value):
        abort(400, "the request body holds text that is not valid Unicode (a lone surrogate escape)")
    return value


def _encodable(value: Any) -> bool:
    """False for a string anywhere in it that UTF-8 cannot hold (JSON allows "\\ud800"; SQLite and TOML do not)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
    elif isinstance(value, dict):
        return all(_encodable(k) and _encodable(v) for k, v in value.items())
    elif isinstance(value, list):
        return all(_encodable(v) for v in value)
    return True


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_QUERY_VALUE = re.compile(r"[\x20-\x7e]{0,100}")


def query_args(parsers: dict[str, Callable[[str], Any]]) -> dict[str, Any]:
    """Validated query parameters: 400 naming the parameter for an unknown, repeated or bad one."""
    values: dict[str, Any] = {}
    for name in request.args:
        if name not in parsers:
            known = ", ".join(sorted(parsers)) or "none"
            abort(400, f"unknown query parameter '{name[:40]}'; this endpoint takes: {known}")
        given = request.args.getlist(name)
        if len(given) > 1:
            abort(400, f"query parameter '{name}' is given {len(given)} times; give it once")
        if not _QUERY_VALUE.fullmatch(given[0]):
            abort(400, f"query parameter '{name}' holds unexpected characters")
        try:
            values[name] = parsers[name](given[0])
        except ValueError as exc:
            abort(400, f"query parameter '{name}': {exc}")
    return values
