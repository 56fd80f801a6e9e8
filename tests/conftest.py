"""Shared fixtures: every test runs with an empty configuration file and its own state directory."""

from __future__ import annotations

from pathlib import Path

import pytest



@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the machine's /etc/station or write to /var/lib/station."""
    empty_config = tmp_path / "station.toml"
    empty_config.write_text("")
    monkeypatch.setenv("STATION_CONFIG", str(empty_config))
    monkeypatch.setenv("STATION_STATE_DIR", str(tmp_path / "state"))
