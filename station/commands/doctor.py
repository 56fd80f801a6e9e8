"""`station doctor`: check camera, model, runtime, GPIO, permissions, disk and configuration.

Each check reports ok, warn or fail, and every problem comes with the one thing to do about
it. The exit status is 1 when any check fails, so setup.sh and scripts can rely on it.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import shutil
import sqlite3
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

DEVICE_TREE_MODEL = Path("/proc/device-tree/model")
GPIO_DEVICE_GLOB = "/dev/gpiochip*"
DISK_FAIL_BYTES = 200 * 2**20  # SQLite needs room for its WAL and the journal for logs: below this, writes fail
DISK_WARN_BYTES = 1024 * 2**20  # a year of history is ~10 MB; under 1 GB something else is filling the card
NOT_A_PI_HINT = "use `station demo` or `station run --source FILE`"
SETUP_HINT = "run `sudo ./setup.sh` again (it puts files, owners and modes right)"

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """One check's outcome; `fix` says what to do when it is not ok."""

    name: str
    status: Status
    detail: str
    fix: str | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML file instead of /etc/station/station.toml")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")


def run(args: argparse.Namespace) -> int:
    checks = run_checks(args.config)
    if args.json:
        print(json.dumps({"ok": not any(c.status == "fail" for c in checks), "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        for c in checks:
            print(f"{c.status.upper() if c.status != 'ok' else 'ok':5} {c.name:12} {c.detail}")
            if c.fix:
                print(f"{'':18} fix: {c.fix}")
    return 1 if any(c.status == "fail" for c in checks) else 0


def importable(module: str) -> bool:
    """True if `module` can be imported, without importing it (picamera2 touches libcamera on import)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module without a spec
        return False


def is_raspberry_pi() -> bool:
    """True on a Raspberry Pi, from the device tree the firmware passes to the kernel."""
    try:
        return "Raspberry Pi" in DEVICE_TREE_MODEL.read_bytes().decode("ascii", "replace")
    except OSError:
        return False


def run_checks(config_path: Path | None = None) -> list[Check]:
    """Every check, in the order a person would fix them; one failing never stops the others."""
    from station.config import Config, load_config
    from station.errors import ConfigError

    try:
        config = load_config(config_path)
        checks = [Check("config", "ok", f"{_config_file(config_path) or 'packaged defaults'} loaded")]
    except ConfigError as exc:
        try:  # go on with the environment's settings (STATION_MODEL...) over the defaults
            config = load_config(Path(os.devnull))
        except ConfigError:
            config = Config()
        checks = [Check("config", "fail", str(exc), "fix the file; `station config --defaults` lists every key")]
    pi = is_raspberry_pi()
    model_ok, model_check = _check_model(config)
    checks += [
        _check_camera(pi),
        model_check,
        _check_runtime(config, model_ok),
        _check_gpio(config, pi),
        _check_state_dir(Path(config.store.state_dir)),
        _check_secrets(config_path, pi),
        _check_disk(Path(config.store.state_dir)),
    ]
    return checks


def _config_file(config_path: Path | None) -> Path | None:
    from station.config import SYSTEM_CONFIG_PATH

    if config_path is not None:
        return config_path
    if "STATION_CONFIG" in os.environ:
        return Path(os.environ["STATION_CONFIG"])
    return SYSTEM_CONFIG_PATH if SYSTEM_CONFIG_PATH.exists() else None


def _check_camera(pi: bool) -> Check:
    if not importable("picamera2"):
        if not pi:
            return Check("camera", "warn", "no camera (not a Raspberry Pi)", NOT_A_PI_HINT)
        return Check(
            "camera", "fail", "picamera2 is not importable",
            "sudo apt install python3-picamera2, in a venv made with --system-site-packages (setup.sh does both)",
        )  # fmt: skip
    try:
        from picamera2 import Picamera2  # lazy: touches libcamera

        cameras = Picamera2.global_camera_info()
    except Exception as exc:  # noqa: BLE001 - libcamera fails in many ways
        return Check("camera", "fail", f"libcamera cannot list cameras ({exc})", "check `rpicam-hello --list-cameras`")
    if not cameras:
        status: Status = "fail" if pi else "warn"
        return Check("camera", status, "no camera detected", f"check the ribbon cable and `rpicam-hello --list-cameras`; or {NOT_A_PI_HINT}")
    names = ", ".join(str(c.get("Model", "?")) for c in cameras)
    return Check("camera", "ok", f"{len(cameras)} camera(s): {names}")


def _check_model(config: Any) -> tuple[bool, Check]:
    from station.errors import ModelError
    from station.models import verify_model

    path = Path(config.pose.model).expanduser()
    try:
        entry = verify_model(path)
    except ModelError as exc:
        return False, Check("model", "fail", str(exc), "sudo ./setup.sh --model PATH installs a checked copy")
    if entry is None:
        return True, Check("model", "warn", f"{path}: no checksum recorded for this variant, loaded unverified",
                           "prefer the default model listed in models/manifest.toml")  # fmt: skip
    return True, Check("model", "ok", f"{path} ({entry.name}, sha256 matches the manifest)")


def _check_runtime(config: Any, model_ok: bool) -> Check:
    from station.errors import ModelError
    from station.hw.runtime import INSTALL_HELP, RUNTIME_ORDER, make_interpreter

    if not model_ok:
        found = [name for name in RUNTIME_ORDER if importable(name)]
        if not found:
            return Check("runtime", "fail", "no TFLite runtime installed", INSTALL_HELP)
        return Check("runtime", "warn", f"{', '.join(found)} installed, not tried (no usable model file)", "fix the model first")
    try:
        _, name = make_interpreter(str(Path(config.pose.model).expanduser()), 1, config.pose.runtime)
    except ModelError as exc:
        return Check("runtime", "fail", str(exc), INSTALL_HELP)
    return Check("runtime", "ok", f"{name} loads the model")


def _check_gpio(config: Any, pi: bool) -> Check:
    from station.hw.leds import PIN_FACTORY_ENV

    if not config.leds.enabled:
        return Check("gpio", "ok", "LEDs disabled ([leds] enabled = false)")
    factory = os.environ.get(PIN_FACTORY_ENV) or os.environ.get("GPIOZERO_PIN_FACTORY")
    if factory == "mock":
        return Check("gpio", "ok", "mock pins: the LEDs are simulated")
    if not pi:
        return Check("gpio", "warn", "no GPIO (not a Raspberry Pi)", f"set {PIN_FACTORY_ENV}=mock to simulate the LEDs")
    chips = sorted(glob.glob(GPIO_DEVICE_GLOB))
    if not chips:
        return Check("gpio", "fail", "no /dev/gpiochip* device", "update Raspberry Pi OS (the kernel provides them)")
    denied = [c for c in chips if not os.access(c, os.R_OK | os.W_OK)]
    if denied:
        return Check("gpio", "fail", f"no read/write access to {', '.join(denied)}",
                     "add the user to group gpio: sudo usermod -aG gpio $USER, then log in again")  # fmt: skip
    if not any(importable(m) for m in ("lgpio", "RPi.GPIO")):
        return Check("gpio", "fail", "no GPIO library for gpiozero", "sudo apt install python3-lgpio (setup.sh does)")
    return Check("gpio", "ok", f"{len(chips)} GPIO chip(s) accessible")


def _check_state_dir(state_dir: Path) -> Check:
    from station.store import DB_NAME

    if not state_dir.is_dir():
        parent = next((p for p in state_dir.parents if p.exists()), Path("/"))
        if parent.is_dir() and os.access(parent, os.W_OK):
            return Check("state", "ok", f"{state_dir} will be created at start")
        return Check("state", "fail", f"{state_dir} does not exist and cannot be created", SETUP_HINT + ", or set STATION_STATE_DIR")
    try:
        with tempfile.TemporaryFile(dir=state_dir):
            pass
    except OSError as exc:
        return Check("state", "fail", f"{state_dir} is not writable ({exc.strerror})", SETUP_HINT + ", or set STATION_STATE_DIR")
    db_path = state_dir / DB_NAME
    if db_path.exists():
        try:
            db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
            try:
                result = db.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                db.close()
        except sqlite3.Error as exc:
            result = str(exc)
        if result != "ok":
            return Check("state", "fail", f"{db_path} is damaged ({result})", f"stop the station and move {db_path} aside")
    return Check("state", "ok", f"{state_dir} writable" + (", history readable" if db_path.exists() else ""))


def _check_secrets(config_path: Path | None, pi: bool) -> Check:
    """The admin secret (beside the config file) must be 0600; the config should be (it may hold an MQTT password)."""
    config_file = _config_file(config_path)
    if config_file is None:
        if not pi:
            return Check("permissions", "ok", "no configuration file (development install)")
        return Check("permissions", "fail", "no configuration file in /etc/station", SETUP_HINT)
    secret = config_file.parent / "admin.secret"
    if secret.exists() and secret.stat().st_mode & 0o077:
        return Check("permissions", "fail", f"{secret} is readable by others (mode {secret.stat().st_mode & 0o777:o})",
                     f"chmod 600 {secret}")  # fmt: skip
    if pi and not secret.exists():
        return Check("permissions", "warn", f"{secret} is missing: the page's admin actions are locked", SETUP_HINT)
    if config_file.exists() and config_file.stat().st_mode & 0o077:
        return Check("permissions", "warn", f"{config_file} is readable by others (mode {config_file.stat().st_mode & 0o777:o})",
                     f"chmod 600 {config_file} (it may hold the MQTT password)")  # fmt: skip
    return Check("permissions", "ok", f"{config_file.parent}: configuration and secret readable by their owner only")


def _check_disk(state_dir: Path) -> Check:
    where = next((p for p in (state_dir, *state_dir.parents) if p.exists()), Path("/"))
    free = shutil.disk_usage(where).free
    text = f"{free / 2**30:.1f} GiB free on {where}"
    if free < DISK_FAIL_BYTES:
        return Check("disk", "fail", text, "free space: delete old files, or `journalctl --vacuum-size=100M`")
    if free < DISK_WARN_BYTES:
        return Check("disk", "warn", text, "free some space before the history stops being written")
    return Check("disk", "ok", text)
