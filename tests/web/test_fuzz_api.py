"""Schemathesis fuzzes the JSON API from its OpenAPI description against the real station parts
(pipeline and detector on the simulated lifter, SQLite history, waitress on loopback): valid and
invalid requests, with and without the admin secret. No 5xx, and every response as described.

Bounded for CI: a few dozen examples per operation (`FUZZ_EXAMPLES`), well under a minute in all.
The live stream (/api/events) never ends, so it is left to test_web_sse.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from webhelpers import SECRET, serving

from station.config import load_config
from station.hinge import PhaseDetector
from station.pipeline import Paced, Pipeline
from station.settings.store import StoreSettings
from station.sim import live_lifter
from station.status import StatusHub
from station.store import History
from station.web import create_app
from station.web.app import OPENAPI_PATH

FUZZ_EXAMPLES = 100
schema = schemathesis.openapi.from_dict(json.loads(OPENAPI_PATH.read_text())).exclude(path="/api/events")
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every CI run: a failure reproduces
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture(scope="module")
def station_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state_dir: Path = tmp_path_factory.mktemp("fuzz-state")
    hub = StatusHub()
    history = History(state_dir, StoreSettings())
    pipeline = Pipeline(Paced(live_lifter(5, fps=15.0), speed=4), PhaseDetector, hub, [history])
    config = load_config(flags={"web.auth_failures_per_min": 1_000_000})  # the anonymous run must not lock out the staff run
    app = create_app(hub, history=history, config=config, admin_secret=SECRET, state_dir=state_dir)
    with serving(app) as server:
        pipeline.start()
        yield f"http://127.0.0.1:{server.port}"
        pipeline.stop()
        hub.close()
    history.close()


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_without_the_secret(case: schemathesis.Case, station_url: str) -> None:
    for name in [k for k in case.headers or {} if k.lower() == "authorization"]:
        del case.headers[name]  # schemathesis may add one for the declared bearer scheme
    response = case.call_and_validate(base_url=station_url)
    if case.operation.definition.raw.get("security") and case.method.upper() != "OPTIONS":  # Flask's OPTIONS only lists methods
        assert response.status_code >= 400, (case.method, response.text)  # nothing changes without the secret


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_with_the_secret(case: schemathesis.Case, station_url: str) -> None:
    response = case.call_and_validate(base_url=station_url, headers={"Authorization": f"Bearer {SECRET}"})
    assert response.status_code < 500 or response.status_code == 503 and "error" in response.json()
