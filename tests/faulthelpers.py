"""Helpers shared by the fault and durability tests: polling with a deadline, the page's JSON."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll until `predicate()` is truthy and return its value; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return value


def get_json(url: str) -> dict[str, Any]:
    """GET a JSON document from the status page (10 s: a page read may wait on a locked history)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)  # type: ignore[no-any-return]
