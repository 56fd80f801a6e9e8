"""Server-Sent Events in OctoPrint's push model: a full snapshot, then coalesced updates.

The first event carries the whole snapshot; later `update` events carry only the top-level
fields that changed, at most `update_hz` times a second however fast frames arrive; a
comment line every `keepalive_s` keeps idle connections open; a `stopped` event says the
station is shutting down.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from typing import Any

from station.status import StatusHub

RECONNECT_MS = 3000  # EventSource retry delay: a restarted station is back within seconds


def dumps(value: Any) -> str:
    """Compact JSON that browsers accept: NaN and infinity become null."""
    return json.dumps(_finite(value), separators=(",", ":"), allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def sse_event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {dumps(data)}\n\n".encode()


def event_stream(hub: StatusHub, update_hz: float, keepalive_s: float) -> Iterator[bytes]:
    """Yield the bytes of one client's stream until the hub closes or the client leaves."""
    min_interval_s = 1.0 / update_hz
    yield f"retry: {RECONNECT_MS}\n\n".encode()
    last = hub.snapshot()
    yield sse_event("snapshot", last)
    sent_at = time.monotonic()
    while True:
        version = hub.wait(last["version"], keepalive_s)
        if hub.closed:
            yield sse_event("stopped", {"state": "stopped"})
            return
        if version == last["version"]:
            yield b": keep-alive\n\n"
            continue
        wait_s = sent_at + min_interval_s - time.monotonic()
        if wait_s > 0 and hub.wait_closed(wait_s):
            continue  # the loop's next turn sends "stopped"
        snap = hub.snapshot()
        changed = {key: value for key, value in snap.items() if last.get(key) != value}
        last = snap
        sent_at = time.monotonic()
        yield sse_event("update", changed)
