"""The admin secret: where it comes from, how a request proves it, and the brake on guessing.

Staff send the secret from setup (``/etc/station/admin.secret``) as ``Authorization: Bearer
<secret>``. A header, unlike a cookie, is never attached by the browser on its own, so another
site cannot make a visitor's browser act with it (no CSRF); `station.web.security` also turns
away cross-site requests outright.
"""

from __future__ import annotations

import hmac
import secrets
import stat
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MIN_SECRET_CHARS = 16  # setup.sh writes 43 (token_urlsafe(32)); anything much shorter is guessable
WINDOW_S = 60.0
MAX_TRACKED_CLIENTS = 4096  # a flood from many addresses cannot grow the table without bound


@dataclass(frozen=True)
class SecretSource:
    """The secret (None: staff actions are off) and a one-line account of where it came from."""

    secret: str | None
    note: str


def read_admin_secret(path: Path) -> SecretSource:
    """The secret in `path`, or None with the reason and the fix when it is missing or unsafe."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return SecretSource(None, f"staff actions are off: no admin secret at {path} (run setup.sh, or set STATION_ADMIN_SECRET_FILE)")
    except (OSError, UnicodeDecodeError) as exc:
        return SecretSource(None, f"staff actions are off: cannot read {path} ({exc}): make it readable by the station user only")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return SecretSource(None, f"staff actions are off: {path} is readable by others: chmod 600 {path}")
    if len(text) < MIN_SECRET_CHARS:
        return SecretSource(None, f"staff actions are off: the secret in {path} is shorter than {MIN_SECRET_CHARS} characters: write a longer one (setup.sh makes 43)")
    return SecretSource(text, f"staff actions use the admin secret in {path}")


def demo_admin_secret(path: Path) -> SecretSource:
    """For `station demo`: the configured secret when there is one, else a fresh one for this run."""
    found = read_admin_secret(path)
    if found.secret is not None:
        return found
    made = secrets.token_urlsafe(24)
    return SecretSource(made, f"staff actions need the admin secret {made} (made up for this run; {path} has none)")


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def secret_matches(given: str | None, secret: str) -> bool:
    """Constant-time comparison: the time taken says nothing about how much of a guess was right."""
    return given is not None and hmac.compare_digest(given.encode("utf-8", "surrogatepass"), secret.encode("utf-8"))


class FailureLimiter:
    """Counts wrong secrets per client address over a sliding minute; too many and it says wait."""

    def __init__(self, per_window: int, window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._per_window = per_window
        self._window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after_s(self, client: str) -> int:
        """0 when the client may try; else whole seconds until its oldest counted failure expires."""
        now = self._clock()
        with self._lock:
            times = self._recent(client, now)
            if times is None or len(times) < self._per_window:
                return 0
            return max(1, int(times[0] + self._window_s - now + 0.999))

    def failed(self, client: str) -> None:
        now = self._clock()
        with self._lock:
            times = self._recent(client, now)
            if times is None:
                times = self._failures[client] = deque()
                while len(self._failures) > MAX_TRACKED_CLIENTS:
                    self._failures.popitem(last=False)
            times.append(now)
            self._failures.move_to_end(client)

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        while times and now - times[0] >= self._window_s:
            times.popleft()
        return times
