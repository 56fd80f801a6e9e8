"""[hinge] thresholds of the phase detector and the three keys (see HINGE_SPEC.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HingeSettings:
    """Filled in by the hinge engine; every field documents its default and why."""

    min_score: float = 0.3  # HINGE_SPEC: never trust a keypoint scored below ~0.3
