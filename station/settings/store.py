"""[store] where the station keeps its state and how long the set history lasts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoreSettings:
    """History settings, read by `station.store.History`; STATION_STATE_DIR sets `state_dir`."""

    # systemd's StateDirectory=station: created and owned for the service user, kept across
    # upgrades. Holds history.sqlite3 and models/. A development install points it at ./var.
    state_dir: str = "/var/lib/station"
    # A year of history lets staff compare seasons: ~50 sets a day of 5 reps is ~10 MB a year.
    # 0 keeps everything.
    retention_days: int = 365

    def __post_init__(self) -> None:
        if not self.state_dir or not self.state_dir.startswith("/"):
            raise ValueError(f"state_dir = {self.state_dir!r}; give an absolute path (e.g. /var/lib/station)")
        if self.retention_days < 0:
            raise ValueError(f"retention_days = {self.retention_days}; give 0 (keep all) or a number of days")
