"""The topic tree of one station and its Home Assistant discovery configs."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from station import __version__
from station.settings.mqtt import STATION_ID_PATTERN, MqttSettings
from station.types import KEY_NAMES

# (object id, entity name, value template over the state JSON, extra config fields)
_SENSORS: tuple[tuple[str, str, str, dict[str, object]], ...] = (
    ("state", "State", "{{ value_json.state }}", {"icon": "mdi:state-machine"}),
    ("phase", "Phase", "{{ value_json.phase }}", {"icon": "mdi:human-handsdown"}),
    ("set", "Set", "{{ value_json.set }}", {"icon": "mdi:counter", "state_class": "measurement"}),
    (
        "reps",
        "Reps in set",
        "{{ value_json.reps_in_set }}",
        {"icon": "mdi:weight-lifter", "unit_of_measurement": "reps", "state_class": "measurement"},
    ),
    (
        "reps_total",
        "Reps since start",
        "{{ value_json.reps_total }}",
        # total_increasing: Home Assistant reads the drop to 0 at a station restart as a reset.
        {"icon": "mdi:sigma", "unit_of_measurement": "reps", "state_class": "total_increasing"},
    ),
)


def default_station_id() -> str:
    """The host name with every character outside [A-Za-z0-9_-] replaced by '_'."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname().split(".")[0]) or "station"


def resolve_station_id(settings: MqttSettings) -> str:
    """The configured station id, else one made from the host name."""
    return settings.station_id or default_station_id()


@dataclass(frozen=True)
class Topics:
    """Every topic the publisher writes or reads, from the settings and the station id."""

    base: str
    station_id: str
    discovery_prefix: str

    @classmethod
    def of(cls, settings: MqttSettings, station_id: str) -> Topics:
        if not STATION_ID_PATTERN.fullmatch(station_id):
            raise ValueError(f"station id {station_id!r} may only hold letters, digits, '_' and '-'")
        return cls(settings.base_topic, station_id, settings.discovery_prefix)

    @property
    def root(self) -> str:
        return f"{self.base}/{self.station_id}"

    @property
    def availability(self) -> str:
        return f"{self.root}/availability"

    @property
    def state(self) -> str:
        return f"{self.root}/state"

    @property
    def rep(self) -> str:
        return f"{self.root}/rep"

    @property
    def set_summary(self) -> str:
        return f"{self.root}/set"

    @property
    def ha_status(self) -> str:
        """Home Assistant's birth/last-will topic: "online" means it (re)started and wants configs."""
        return f"{self.discovery_prefix}/status"

    def discovery(self, object_id: str) -> str:
        return f"{self.discovery_prefix}/sensor/{self.station_id}/{object_id}/config"


def discovery_configs(topics: Topics) -> dict[str, dict[str, object]]:
    """Config topic -> Home Assistant MQTT sensor config, one per entity of the station."""
    device = {
        "identifiers": [f"hinge_station_{topics.station_id}"],
        "name": f"Hinge station {topics.station_id}",
        "manufacturer": "hinge-station",
        "model": "Hip-hinge rep counter",
        "sw_version": __version__,
    }
    sensors = list(_SENSORS)
    for key in KEY_NAMES:
        sensors.append(
            (
                key,
                f"Last grade: {key.replace('_', ' ')}",
                f"{{{{ value_json.last_grades.{key}.grade }}}}",
                {
                    "icon": "mdi:check-decagram",
                    # ok, value, fault and cue of the last rep become the entity's attributes.
                    "json_attributes_topic": topics.state,
                    "json_attributes_template": f"{{{{ value_json.last_grades.{key} | tojson }}}}",
                },
            )
        )
    configs: dict[str, dict[str, object]] = {}
    for object_id, name, template, extra in sensors:
        configs[topics.discovery(object_id)] = {
            "name": name,
            "unique_id": f"hinge_station_{topics.station_id}_{object_id}",
            "state_topic": topics.state,
            "value_template": template,
            "availability_topic": topics.availability,
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": device,
            "origin": {"name": "hinge-station", "sw_version": __version__},
            **extra,
        }
    return configs
