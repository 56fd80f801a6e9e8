"""Helpers shared by the fault, durability and pipeline tests: polling with a deadline, the
page's JSON, and a stand-in for systemd's notify socket."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
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


@dataclass
class Notifications:
    """What reached the stand-in for systemd's notify socket: messages, and with arrival times."""

    seen: list[tuple[float, str]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def pings(self, after: float = float("-inf"), before: float = float("inf")) -> list[float]:
        return [t for t, m in list(self.seen) if m == "WATCHDOG=1" and after <= t <= before]


@contextmanager
def notify_listener(path: Path) -> Iterator[Notifications]:
    """An AF_UNIX datagram socket at `path` (to be NOTIFY_SOCKET), drained in a thread."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.1)
    notes = Notifications()
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            try:
                message = sock.recv(4096).decode()
            except TimeoutError:
                continue
            notes.seen.append((time.monotonic(), message))
            notes.messages.append(message)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        yield notes
    finally:
        stop.set()
        reader.join()
        sock.close()
