"""[web] the staff status page."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WebSettings:
    """Status-page settings; filled in by the web code."""

    host: str = "0.0.0.0"  # the page is meant to be opened from phones on the gym network
    port: int = 8080
