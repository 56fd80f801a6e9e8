"""sd_notify(3) without dependencies: readiness, status, watchdog pings to systemd.

systemd sets ``NOTIFY_SOCKET`` for a ``Type=notify`` service; each message is one AF_UNIX
datagram of ``KEY=value`` lines. A name starting with ``@`` is in the abstract namespace.
Outside systemd (a shell, the tests, `station demo`) every function does nothing, so
callers never need to ask whether they run under systemd.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

_MAX_STATUS_CHARS = 200  # `systemctl status` shows one line; longer text only costs a bigger datagram


def notify(message: str, env: Mapping[str, str] | None = None) -> bool:
    """Send one notification; True if it was sent, False without NOTIFY_SOCKET."""
    env = os.environ if env is None else env
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.sendto(message.encode("utf-8"), address)
        except OSError:
            # systemd gone (shutdown) or the socket not ours: the service must keep running.
            return False
    return True


def notify_ready(status: str | None = None) -> bool:
    """Tell systemd start-up is done (after the model loaded and the camera started)."""
    return notify("READY=1" + (f"\nSTATUS={_one_line(status)}" if status else ""))


def notify_status(text: str) -> bool:
    """Set the line `systemctl status station` shows, e.g. 'set 2, rep 4'."""
    return notify(f"STATUS={_one_line(text)}")


def notify_watchdog() -> bool:
    """Ping the watchdog: the pipeline calls this once per processed frame."""
    return notify("WATCHDOG=1")


def notify_stopping() -> bool:
    """Tell systemd a clean shutdown has begun, so a slow stop is not a hang."""
    return notify("STOPPING=1")


def watchdog_period_s(env: Mapping[str, str] | None = None) -> float | None:
    """WatchdogSec= in seconds when systemd watches this process, else None."""
    env = os.environ if env is None else env
    pid = env.get("WATCHDOG_PID")
    if pid and pid.strip() != str(os.getpid()):
        return None  # inherited by a child: the watchdog belongs to the parent
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1e6 if usec > 0 else None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:_MAX_STATUS_CHARS]
