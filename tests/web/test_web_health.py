"""Machine health read from /sys-style files: temperature, Pi throttling, disk."""

from __future__ import annotations

from pathlib import Path

from station.web.health import cpu_temperature_c, decode_throttled, system_health, throttling


def test_pi_throttling_word_is_decoded(tmp_path: Path) -> None:
    word = tmp_path / "get_throttled"
    word.write_text("50005\n")  # the firmware's hex: under-voltage and throttled now, both since boot
    assert throttling(word) == ["under-voltage now", "throttled now", "under-voltage since boot", "throttled since boot"]
    word.write_text("0\n")
    assert throttling(word) == []
    assert decode_throttled(1 << 3) == ["soft temperature limit now"]


def test_temperature_in_celsius_and_absent_off_a_pi(tmp_path: Path) -> None:
    zone = tmp_path / "temp"
    zone.write_text("61234\n")
    assert cpu_temperature_c(zone) == 61.2
    assert cpu_temperature_c(tmp_path / "missing") is None


def test_disk_of_a_state_dir_not_yet_created(tmp_path: Path) -> None:
    health = system_health(tmp_path / "not" / "yet")
    assert health["disk_free_mb"] > 0 and 0 <= health["disk_used_pct"] <= 100
