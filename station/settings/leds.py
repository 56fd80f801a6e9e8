"""[leds] GPIO pins of the indicator LEDs (BCM numbering)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LedSettings:
    """LED wiring; filled in by the indicator code."""

    enabled: bool = True
