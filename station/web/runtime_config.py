"""Settings staff may change from the page, kept in ``<state_dir>/overrides.toml``.

Only a whitelist: the page's own look and the coaching thresholds. Nothing that names a file,
a port, a host or a credential can be changed over the network. A change is validated by the
same rules as station.toml (types, each section's checks), saved, and applied at once where it
can be; the rest applies at the next start. At start the file is layered between the
environment and the command-line flags: defaults < station.toml < STATION_* < page < flags.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.config import Config, _coerce, _toml_value, load_config
from station.errors import ConfigError, StorageError

OVERRIDES_NAME = "overrides.toml"


@dataclass(frozen=True)
class Editable:
    """One setting the page may change: its JSON type, bounds, and whether it applies at once."""

    kind: str  # JSON Schema type: "string", "number", "boolean"
    live: bool  # True: applied at once; False: saved, applied at the next start
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None

    def check(self, dotted: str, value: Any) -> None:
        """Bounds beyond the type (the section's own checks run afterwards)."""
        if self.minimum is not None and self.maximum is not None and not self.minimum <= value <= self.maximum:
            raise ValueError(f"{dotted} = {value!r}; give {self.minimum:g} to {self.maximum:g}")
        if self.max_length is not None and not (value.strip() and len(value) <= self.max_length):
            raise ValueError(f"{dotted} must be 1 to {self.max_length} characters, not only spaces")


# Live: the page reads these per request or per stream. Restart: the detector is built with its
# thresholds and never changed under a running set (it lives on the pipeline thread).
EDITABLE: dict[str, Editable] = {
    "web.title": Editable("string", True, max_length=60),
    "web.update_hz": Editable("number", True, 0.2, 10.0),
    "web.camera_hz": Editable("number", True, 0.1, 5.0),
    "web.show_camera": Editable("boolean", True),
    "hinge.set_rest_s": Editable("number", False, 5.0, 600.0),
    "hinge.set_leave_s": Editable("number", False, 1.0, 120.0),
    "hinge.floor_lowered_within_s": Editable("number", False, 0.0, 60.0),
    "hinge.unlock_min_deg": Editable("number", False, 0.0, 45.0),
    "hinge.sync_max_gap": Editable("number", False, 0.05, 1.0),
    "hinge.min_wall_trunk_deg": Editable("number", False, 0.0, 80.0),
    "hinge.early_knee_deg": Editable("number", False, 1.0, 60.0),
    "hinge.back_reach_deg": Editable("number", False, 1.0, 60.0),
    "hinge.leave_wall_L": Editable("number", False, 0.01, 0.5),
}


def overrides_path(state_dir: Path) -> Path:
    return Path(state_dir) / OVERRIDES_NAME


def read_overrides(path: Path) -> dict[str, Any]:
    """Dotted key -> value from the overrides file ({} when there is none); ConfigError naming the file."""
    try:
        with path.open("rb") as fh:
            tables = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the page's settings {path} ({exc}): fix or delete the file") from None
    flat: dict[str, Any] = {}
    for section, table in tables.items():
        for key, value in (table.items() if isinstance(table, Mapping) else [(None, table)]):
            dotted = f"{section}.{key}"
            if dotted not in EDITABLE:
                raise ConfigError(f"{path}: {dotted} cannot be set from the page: delete it there and set it in station.toml")
            flat[dotted] = value
    return flat


def load_with_overrides(path: Path | None, flags: Mapping[str, Any]) -> Config:
    """`load_config` plus the page's saved settings, which flags still beat."""
    config = load_config(path, flags=flags)
    file = overrides_path(Path(config.store.state_dir))
    saved = read_overrides(file)
    if not saved:
        return config
    try:
        validated(config, saved)
    except ValueError as exc:
        raise ConfigError(f"{file}: {exc}: fix or delete the file") from None
    return load_config(path, flags={**saved, **flags})


def validated(config: Config, changes: Mapping[str, Any]) -> Config:
    """`config` with the changes, checked by the settings' own rules; ValueError says what is wrong."""
    by_section: dict[str, dict[str, Any]] = {}
    for dotted, value in changes.items():
        editable = EDITABLE.get(dotted)
        if editable is None:
            raise ValueError(f"{dotted} cannot be changed from the page; changeable: {', '.join(EDITABLE)}")
        section, _, key = dotted.partition(".")
        hint = typing.get_type_hints(type(getattr(config, section)))[key]
        try:
            value = _coerce(value, hint, dotted, "the request")
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        editable.check(dotted, value)
        by_section.setdefault(section, {})[key] = value.strip() if isinstance(value, str) else value
    try:
        return dataclasses.replace(
            config, **{name: dataclasses.replace(getattr(config, name), **kw) for name, kw in by_section.items()}
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc)) from None


def save_overrides(path: Path, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `changes` into the file atomically (a power cut leaves the old or the new file); all saved values."""
    merged = {**read_overrides(path), **changes}
    sections: dict[str, list[str]] = {}
    for dotted, value in sorted(merged.items()):
        section, _, key = dotted.partition(".")
        sections.setdefault(section, []).append(f"{key} = {_toml_value(value)}")
    text = "# Settings changed on the status page (PATCH /api/config). Delete a line to undo it.\n"
    text += "".join(f"\n[{section}]\n" + "\n".join(lines) + "\n" for section, lines in sections.items())
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageError(f"cannot save the settings to {path} ({exc.strerror or exc}): check free space and permissions") from None
    return merged


def describe(config: Config, saved: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each editable setting: its value now, the saved value waiting for a restart, and how it applies."""
    out = []
    for dotted, editable in EDITABLE.items():
        section, _, key = dotted.partition(".")
        value = getattr(getattr(config, section), key)
        entry: dict[str, Any] = {"key": dotted, "value": value, "type": editable.kind, "applies": "live" if editable.live else "restart"}
        if editable.minimum is not None:
            entry.update(minimum=editable.minimum, maximum=editable.maximum)
        if editable.max_length is not None:
            entry["max_length"] = editable.max_length
        if not editable.live and dotted in saved and saved[dotted] != value:
            entry["pending"] = saved[dotted]
        out.append(entry)
    return out
