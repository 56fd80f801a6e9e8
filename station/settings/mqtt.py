"""[mqtt] the optional fleet feed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MqttSettings:
    """MQTT publisher settings; off by default (a station works alone)."""

    enabled: bool = False
