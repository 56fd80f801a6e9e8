"""The optional fleet feed: MQTT publisher with Home Assistant discovery.

Topics (base = [mqtt] base_topic, id = the station id):
  <base>/<id>/availability  "online" / "offline" (retained; "offline" is also the last will)
  <base>/<id>/state         retained JSON: state, phase, set, reps_in_set, reps_total, last_grades
  <base>/<id>/rep           one JSON per rep: the result JSON's rep object + station, time
  <base>/<id>/set           one JSON per finished set: n, reps, t_start, t_end, keys counts
  <discovery_prefix>/sensor/<id>/<object>/config   Home Assistant discovery (retained)
"""

from station.publish.publisher import MqttPublisher, PublisherStatus, publisher_from_settings
from station.publish.topics import Topics, default_station_id, discovery_configs, resolve_station_id

__all__ = [
    "MqttPublisher",
    "PublisherStatus",
    "Topics",
    "default_station_id",
    "discovery_configs",
    "publisher_from_settings",
    "resolve_station_id",
]
