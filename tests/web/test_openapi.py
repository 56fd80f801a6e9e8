"""The OpenAPI description matches the app: every /api route is described and every described path exists."""

from __future__ import annotations

import json
import re
from typing import Any

from station.status import StatusHub
from station.web import create_app
from station.web.app import OPENAPI_PATH
from station.web.runtime_config import EDITABLE

IGNORED_METHODS = {"HEAD", "OPTIONS"}  # answered by Flask for every route


def described() -> dict[str, Any]:
    return json.loads(OPENAPI_PATH.read_text())  # type: ignore[no-any-return]


def app_routes() -> set[tuple[str, str]]:
    app = create_app(StatusHub())
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule == "/healthz":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(path, method.lower()) for method in (rule.methods or set()) - IGNORED_METHODS}
    return routes


def test_every_api_route_is_described_and_nothing_else() -> None:
    doc = described()
    in_doc = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert app_routes() == in_doc


def test_the_description_is_served_and_is_openapi_3() -> None:
    client = create_app(StatusHub()).test_client()
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == described() and described()["openapi"].startswith("3.")


def test_staff_operations_declare_the_secret_and_public_ones_do_not() -> None:
    doc = described()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            secured = op.get("security") == [{"bearerAuth": []}]
            changes = method in ("post", "put", "patch", "delete")
            assert secured == (changes or path == "/api/admin"), (method, path)
            if secured:
                assert {"401", "403", "429"} <= set(op["responses"]), (method, path)


def test_the_settings_schema_is_the_whitelist() -> None:
    schema = described()["components"]["schemas"]["ConfigChange"]
    assert set(schema["properties"]) == set(EDITABLE) and schema["additionalProperties"] is False
    for key, editable in EDITABLE.items():
        prop = schema["properties"][key]
        assert prop["type"] == editable.kind, key
        assert (prop.get("minimum"), prop.get("maximum"), prop.get("maxLength")) == (
            editable.minimum, editable.maximum, editable.max_length
        ), key  # fmt: skip
