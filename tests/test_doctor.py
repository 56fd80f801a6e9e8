"""`station doctor`: each check passes on a good install and names the fix when it does not."""

from __future__ import annotations

import importlib.machinery
import json
import shutil
import sys
import types
from collections import namedtuple
from pathlib import Path
from typing import Any

import pytest

from station.cli import main
from station.commands import doctor as doctor_mod
from station.settings.store import StoreSettings
from station.store import DB_NAME, History

from paths import MODEL_PATH

Usage = namedtuple("Usage", "total used free")


def doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, dict[str, Any]]]:
    status = main(["doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] == (status == 0)
    checks = {c["name"]: c for c in report["checks"]}
    for c in checks.values():
        assert (c["fix"] is not None) == (c["status"] != "ok"), f"{c['name']}: a problem without a fix, or a fix without one"
    return status, checks


@pytest.fixture
def good_model(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STATION_MODEL", str(MODEL_PATH))
    return MODEL_PATH


@pytest.fixture
def on_a_pi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The device tree of a Pi 4, and a directory standing in for /dev's GPIO chips."""
    model = tmp_path / "device-tree-model"
    model.write_bytes(b"Raspberry Pi 4 Model B Rev 1.5\0")
    monkeypatch.setattr(doctor_mod, "DEVICE_TREE_MODEL", model)
    dev = tmp_path / "dev"
    dev.mkdir()
    monkeypatch.setattr(doctor_mod, "GPIO_DEVICE_GLOB", str(dev / "gpiochip*"))
    return dev


def test_a_good_development_install_passes(
    good_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    History(tmp_path / "state", StoreSettings()).close()
    status, checks = doctor(capsys)
    assert status == 0
    assert checks["config"]["status"] == "ok"
    assert checks["model"]["status"] == "ok" and "sha256 matches" in checks["model"]["detail"]
    assert checks["runtime"]["status"] == "ok" and "loads the model" in checks["runtime"]["detail"]
    assert checks["state"] == {"name": "state", "status": "ok", "detail": f"{tmp_path / 'state'} writable, history readable", "fix": None}
    assert checks["disk"]["status"] == "ok"
    # Off a Pi: no camera and no GPIO are warnings that point at the demo and mock pins.
    assert checks["camera"]["status"] == "warn" and "station demo" in checks["camera"]["fix"]
    assert checks["gpio"]["status"] == "warn" and "STATION_PIN_FACTORY=mock" in checks["gpio"]["fix"]


def test_text_output_puts_the_fix_under_the_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 1  # the default model path does not exist here
    lines = capsys.readouterr().out.splitlines()
    model = next(i for i, line in enumerate(lines) if line.startswith("FAIL  model"))
    assert "is missing" in lines[model] and lines[model + 1].strip().startswith("fix: sudo ./setup.sh --model PATH")


def test_missing_truncated_and_corrupt_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / MODEL_PATH.name
    monkeypatch.setenv("STATION_MODEL", str(copy))
    status, checks = doctor(capsys)
    assert status == 1 and checks["model"]["status"] == "fail" and "is missing" in checks["model"]["detail"]
    assert checks["runtime"]["status"] == "warn" and "not tried" in checks["runtime"]["detail"]
    copy.write_bytes(MODEL_PATH.read_bytes()[:1000])
    _, checks = doctor(capsys)
    assert "is truncated: 1,000 bytes" in checks["model"]["detail"]
    data = bytearray(MODEL_PATH.read_bytes())
    data[5000] ^= 0xFF
    copy.write_bytes(bytes(data))
    _, checks = doctor(capsys)
    assert "is corrupt: sha256" in checks["model"]["detail"]


def test_a_configuration_error_fails_but_every_other_check_still_runs(
    good_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[leds]\nrep_pin = 99\n")
    monkeypatch.setenv("STATION_CONFIG", str(bad))
    status, checks = doctor(capsys)
    assert status == 1
    assert checks["config"]["status"] == "fail" and "rep_pin = 99; give a BCM GPIO number" in checks["config"]["detail"]
    assert "station config --defaults" in checks["config"]["fix"]
    assert checks["model"]["status"] == "ok" and len(checks) == 8


def test_state_dir_that_cannot_be_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("STATION_STATE_DIR", str(blocker / "state"))
    _, checks = doctor(capsys)
    assert checks["state"]["status"] == "fail" and "cannot be created" in checks["state"]["detail"]
    assert "STATION_STATE_DIR" in checks["state"]["fix"]
    state = tmp_path / "state2"
    state.mkdir()
    (state / DB_NAME).write_bytes(b"garbage" * 1000)
    monkeypatch.setenv("STATION_STATE_DIR", str(state))
    _, checks = doctor(capsys)
    assert checks["state"]["status"] == "fail" and "is damaged" in checks["state"]["detail"]
    assert "move" in checks["state"]["fix"]


def test_secret_and_config_permissions(good_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "station.toml"  # the conftest's STATION_CONFIG
    config.chmod(0o600)
    secret = tmp_path / "admin.secret"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    _, checks = doctor(capsys)
    assert checks["permissions"]["status"] == "fail" and checks["permissions"]["fix"] == f"chmod 600 {secret}"
    secret.chmod(0o600)
    _, checks = doctor(capsys)
    assert checks["permissions"]["status"] == "ok"
    config.chmod(0o644)
    _, checks = doctor(capsys)
    assert checks["permissions"]["status"] == "warn" and "MQTT password" in checks["permissions"]["fix"]


@pytest.mark.parametrize(("free_mib", "status"), [(100, "fail"), (600, "warn"), (5000, "ok")])
def test_disk_space(free_mib: int, status: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(2**35, 2**35 - free_mib * 2**20, free_mib * 2**20))
    _, checks = doctor(capsys)
    assert checks["disk"]["status"] == status


def test_gpio_with_mock_pins_or_leds_disabled(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STATION_PIN_FACTORY", "mock")
    assert doctor(capsys)[1]["gpio"]["status"] == "ok"
    monkeypatch.delenv("STATION_PIN_FACTORY")
    monkeypatch.setenv("STATION_LEDS__ENABLED", "false")
    assert doctor(capsys)[1]["gpio"]["detail"] == "LEDs disabled ([leds] enabled = false)"


def test_on_a_pi_missing_pieces_are_failures(on_a_pi: Path, good_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, checks = doctor(capsys)
    assert checks["camera"]["status"] == "fail" and "apt install python3-picamera2" in checks["camera"]["fix"]
    assert checks["gpio"]["status"] == "fail" and "no /dev/gpiochip" in checks["gpio"]["detail"]
    (on_a_pi / "gpiochip0").write_text("")
    _, checks = doctor(capsys)
    if not any(doctor_mod.importable(m) for m in ("lgpio", "RPi.GPIO")):
        assert checks["gpio"]["status"] == "fail" and "python3-lgpio" in checks["gpio"]["fix"]
    assert checks["permissions"]["status"] == "warn" and "admin.secret is missing" in checks["permissions"]["detail"]


def test_on_a_pi_a_camera_must_be_listed(on_a_pi: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    cameras: list[dict[str, Any]] = []
    fake = types.ModuleType("picamera2")
    fake.__spec__ = importlib.machinery.ModuleSpec("picamera2", None)
    fake.Picamera2 = type("Picamera2", (), {"global_camera_info": staticmethod(lambda: cameras)})  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "picamera2", fake)
    _, checks = doctor(capsys)
    assert checks["camera"]["status"] == "fail" and "rpicam-hello --list-cameras" in checks["camera"]["fix"]
    cameras.append({"Model": "imx708", "Num": 0})
    _, checks = doctor(capsys)
    assert checks["camera"] == {"name": "camera", "status": "ok", "detail": "1 camera(s): imx708", "fix": None}
