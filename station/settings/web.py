"""[web] the staff status page."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WebSettings:
    """Status-page settings: where it listens, how it pushes, what it may show."""

    enabled: bool = True  # a station without a page still counts, grades and lights LEDs
    host: str = "0.0.0.0"  # the page is meant to be opened from phones on the gym network
    port: int = 8080  # above 1024 so the service needs no root; 0 picks a free port
    title: str = "Hinge station"  # shown in the header: name the platform when a gym has several
    # OctoPrint's push model: coalesce changes to at most 2 pushes a second; a phone on gym
    # Wi-Fi keeps up, and the stick figure interpolates between pushes so it still moves smoothly.
    update_hz: float = 2.0
    # A comment line every 15 s keeps proxies and waitress's 120 s channel timeout from
    # closing an idle stream (e.g. overnight on a wall screen).
    keepalive_s: float = 15.0
    # Each live page holds one server thread; 8 covers a front desk, a wall screen and a few
    # phones on a Pi's 4 cores. Beyond it the page falls back to polling /api/status.
    max_streams: int = 8
    # Gym members' privacy: no camera picture leaves the station unless the owner turns it on.
    show_camera: bool = False
    camera_hz: float = 1.0  # picture refreshes a second when shown: enough to check placement
    # Staff actions (end or reset a set, name a lifter, change settings) need this secret as
    # "Authorization: Bearer <secret>". setup.sh writes it once, mode 0600; STATION_ADMIN_SECRET_FILE
    # points elsewhere. No readable file: the page stays read-only (`station demo` makes one up).
    admin_secret_file: str = "/etc/station/admin.secret"
    # Wrong secrets allowed per client address per minute before it gets 429s: a person mistyping
    # never meets it, a guesser gets ~14,000 tries a day against a 256-bit secret.
    auth_failures_per_min: int = 10

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0..65535, got {self.port}")
        if self.update_hz <= 0 or self.keepalive_s <= 0 or self.camera_hz <= 0:
            raise ValueError("update_hz, keepalive_s and camera_hz must be positive")
        if self.max_streams < 1:
            raise ValueError(f"max_streams must be at least 1, got {self.max_streams}")
        if self.auth_failures_per_min < 1:
            raise ValueError(f"auth_failures_per_min must be at least 1, got {self.auth_failures_per_min}")
        if not self.title.strip() or len(self.title) > 60 or any(ord(c) < 32 or ord(c) == 127 for c in self.title):
            raise ValueError("title must be 1-60 printable characters")
