"""systemd/station.service: `systemd-analyze verify` accepts it unchanged, and it says what the appliance needs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from station.errors import ConfigError, ModelError

from paths import REPO_DIR

UNIT = REPO_DIR / "systemd" / "station.service"
SYSTEM_UNITS = next(p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir())


def directives(text: str) -> dict[str, dict[str, str]]:
    """Section -> key -> value; only Environment= may repeat (its lines are joined with newlines)."""
    out: dict[str, dict[str, str]] = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            out[section] = {}
            continue
        key, _, value = line.partition("=")
        if key in out[section]:
            assert key == "Environment", f"{key} set twice in [{section}]"
            value = out[section][key] + "\n" + value
        out[section][key] = value
    return out


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A root directory holding the real unit, the system's units it depends on, and its ExecStart."""
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: install the systemd package (setup.sh does)"
    (tmp_path / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(SYSTEM_UNITS, tmp_path / "usr/lib/systemd/system", symlinks=True)
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT, tmp_path / "etc/systemd/system/station.service")
    exec_path = directives(UNIT.read_text())["Service"]["ExecStart"].split()[0]
    binary = tmp_path / exec_path.lstrip("/")
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    return tmp_path


def analyze(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", *args, f"--root={root}", "/etc/systemd/system/station.service"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_systemd_analyze_verify_accepts_the_unit_without_a_warning(root: Path) -> None:
    assert (root / "etc/systemd/system/station.service").read_bytes() == UNIT.read_bytes()
    result = analyze(root, "verify")
    assert result.returncode == 0 and result.stderr == "" and result.stdout == "", result.stderr


def test_verify_would_catch_a_broken_unit(root: Path) -> None:
    """The check above can fail: a typo and a missing binary are both reported."""
    unit = root / "etc/systemd/system/station.service"
    unit.write_text(unit.read_text().replace("Type=notify", "Type=notfy"))
    assert "Failed to parse service type" in analyze(root, "verify").stderr
    shutil.rmtree(root / "opt")
    result = analyze(root, "verify")
    assert result.returncode != 0 and "is not executable" in result.stderr


def test_hardening_keeps_exposure_low(root: Path) -> None:
    result = analyze(root, "security", "--offline=yes")
    match = re.search(r"Overall exposure level for station.service: ([\d.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 3.0, result.stdout


def test_the_unit_says_what_the_appliance_needs() -> None:
    unit = directives(UNIT.read_text())
    service = unit["Service"]
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert int(service["WatchdogSec"]) >= 5  # a Pi 3 at 8 fps still pings many times within it
    assert service["Restart"] == "on-failure"
    assert int(unit["Unit"]["StartLimitBurst"]) >= 3 and int(unit["Unit"]["StartLimitIntervalSec"]) > 0
    # A configuration or model error must not restart-loop.
    assert service["RestartPreventExitStatus"].split() == [str(ConfigError.exit_status)] == [str(ModelError.exit_status)]
    assert service["User"] == "station"
    assert set(service["SupplementaryGroups"].split()) == {"video", "gpio"}
    assert service["StateDirectory"] == "station" and service["ConfigurationDirectory"] == "station"
    assert "STATION_STATE_DIR=/var/lib/station" in service["Environment"].splitlines()
    assert service["ExecStart"].endswith("/bin/station run")
    # Hardening that would hide the camera or the GPIO pins is absent.
    for hides_devices in ("PrivateDevices", "DevicePolicy", "DeviceAllow", "ProtectClock", "PrivateUsers"):
        assert hides_devices not in service, f"{hides_devices}= hides /dev/video*, /dev/media* or /dev/gpiochip*"
    assert service["ProtectSystem"] == "strict" and service["NoNewPrivileges"] == "yes"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
