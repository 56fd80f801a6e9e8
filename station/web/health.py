"""Machine health for the status page: CPU temperature, Pi throttling, disk, uptime."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

THERMAL_PATH = Path("/sys/class/thermal/thermal_zone0/temp")
THROTTLED_PATH = Path("/sys/devices/platform/soc/soc:firmware/get_throttled")
UPTIME_PATH = Path("/proc/uptime")
# Bits of the Pi firmware's get_throttled word (Raspberry Pi documentation, vcgencmd).
THROTTLE_BITS: dict[int, str] = {
    0: "under-voltage now",
    1: "frequency capped now",
    2: "throttled now",
    3: "soft temperature limit now",
    16: "under-voltage since boot",
    17: "frequency capped since boot",
    18: "throttled since boot",
    19: "soft temperature limit since boot",
}


def system_health(disk_path: Path | None = None) -> dict[str, Any]:
    """What the machine reports; a field is None where this machine cannot tell (not a Pi)."""
    out: dict[str, Any] = {"cpu_temp_c": cpu_temperature_c(), "throttled": throttling()}
    try:
        usage = shutil.disk_usage(_existing(disk_path or Path("/")))
        out["disk_free_mb"] = usage.free // 2**20
        out["disk_used_pct"] = round(100 * usage.used / usage.total, 1) if usage.total else None
    except OSError:
        out["disk_free_mb"] = out["disk_used_pct"] = None
    out["system_uptime_s"] = _read_float(UPTIME_PATH, lambda text: float(text.split()[0]))
    return out


def cpu_temperature_c(path: Path = THERMAL_PATH) -> float | None:
    return _read_float(path, lambda text: round(int(text.strip()) / 1000, 1))


def throttling(path: Path = THROTTLED_PATH) -> list[str] | None:
    """Decoded throttling flags ([] = fine); None when this is not a Pi."""
    word = _read_float(path, lambda text: int(text.strip(), 16))
    if word is None and shutil.which("vcgencmd"):
        try:
            done = subprocess.run(["vcgencmd", "get_throttled"], capture_output=True, text=True, timeout=2)
            word = int(done.stdout.strip().partition("=")[2], 16)
        except (OSError, ValueError, subprocess.SubprocessError):
            word = None
    if word is None:
        return None
    return decode_throttled(int(word))


def decode_throttled(word: int) -> list[str]:
    return [text for bit, text in THROTTLE_BITS.items() if word & (1 << bit)]


def _read_float(path: Path, parse: Any) -> Any:
    try:
        return parse(path.read_text())
    except (OSError, ValueError, IndexError):
        return None


def _existing(path: Path) -> Path:
    """The nearest existing parent, so a state dir not yet created still reports its disk."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
