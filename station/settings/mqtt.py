"""[mqtt] the optional fleet feed: an MQTT publisher with Home Assistant discovery."""

from __future__ import annotations

import re
from dataclasses import dataclass

# MQTT wildcards and HA's node/object id alphabet: a station id becomes part of both.
STATION_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class MqttSettings:
    """MQTT publisher settings; off by default (a station works alone)."""

    enabled: bool = False
    host: str = "localhost"  # a broker on the station or the gym LAN; set it to the fleet broker
    port: int = 1883  # IANA's MQTT port; brokers serve TLS on 8883 by convention: set both together
    station_id: str = ""  # empty: the host name; names the station in topics and in Home Assistant
    client_id: str = ""  # empty: "hinge-station-<station_id>"; must be unique or the broker kicks the twin
    username: str = ""  # empty: connect anonymously
    password: str = ""  # prefer password_file: station.toml is world-readable
    password_file: str = ""  # a file holding only the password, mode 0600, owned by the station user
    tls: bool = False  # off like the broker's own default listener; turn on for any broker off the LAN
    ca_file: str = ""  # empty: the system's CA store (a public broker); set for a private CA
    cert_file: str = ""  # client certificate, for brokers that authenticate by certificate
    key_file: str = ""  # its private key; set both or neither
    tls_insecure: bool = False  # skips only the host-name check (the chain is still verified); tests only
    base_topic: str = "hinge-station"  # topics are <base_topic>/<station_id>/...; one tree for the fleet
    discovery: bool = True  # Home Assistant ignores the config topics if it is not there: harmless
    discovery_prefix: str = "homeassistant"  # Home Assistant's default discovery prefix
    keepalive_s: int = 30  # the broker sends our last will ~45 s (1.5x) after a power cut; one ping per 30 s
    # A rep takes >= ~2 s, so 5000 messages hold > 2.5 h of nonstop lifting (~3 MB of JSON) while the
    # broker is down; the oldest are dropped (and counted) beyond that. The SQLite history keeps every rep.
    buffer_size: int = 5000
    reconnect_min_s: int = 1  # first retry after a second: a broker restart is back almost at once
    reconnect_max_s: int = 60  # doubling stops at a minute: a long outage costs one attempt a minute

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port {self.port} is not a TCP port (1-65535)")
        if self.station_id and not STATION_ID_PATTERN.fullmatch(self.station_id):
            raise ValueError(f"station_id {self.station_id!r} may only hold letters, digits, '_' and '-'")
        if self.password and self.password_file:
            raise ValueError("set password or password_file, not both")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("set cert_file and key_file together (a client certificate needs its key)")
        for name in ("base_topic", "discovery_prefix"):
            topic = getattr(self, name)
            if not topic or topic.startswith("/") or topic.endswith("/") or any(c in topic for c in "+#\0"):
                raise ValueError(f"{name} {topic!r} must be a non-empty topic without '+', '#' or edge '/'")
        if self.keepalive_s < 5:
            raise ValueError(f"keepalive_s {self.keepalive_s} is too short: use 5 s or more")
        if self.buffer_size < 1:
            raise ValueError(f"buffer_size {self.buffer_size} must be at least 1")
        if not 0 < self.reconnect_min_s <= self.reconnect_max_s:
            raise ValueError("need 0 < reconnect_min_s <= reconnect_max_s")
