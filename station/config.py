"""Configuration: packaged defaults < /etc/station/station.toml < STATION_* env < flags.

Every section is a frozen dataclass in `station.settings`. An unknown key or a value of
the wrong type is a `ConfigError` that names the key and where it came from.
Environment: ``STATION_<SECTION>__<KEY>=<toml value>`` (double underscore), plus the
shortcuts in `ENV_SHORTCUTS`. ``STATION_CONFIG`` names another TOML file.
"""

from __future__ import annotations

import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from station.errors import ConfigError
from station.settings.camera import CameraSettings
from station.settings.hinge import HingeSettings
from station.settings.leds import LedSettings
from station.settings.mqtt import MqttSettings
from station.settings.pose import PoseSettings
from station.settings.store import StoreSettings
from station.settings.web import WebSettings

SYSTEM_CONFIG_PATH = Path("/etc/station/station.toml")
ENV_PREFIX = "STATION_"
ENV_SHORTCUTS: dict[str, tuple[str, str]] = {
    "STATION_MODEL": ("pose", "model"),
    "STATION_STATE_DIR": ("store", "state_dir"),
    "STATION_ADMIN_SECRET_FILE": ("web", "admin_secret_file"),
}
# Variables that are not configuration keys (read elsewhere by design).
ENV_NOT_KEYS = {"STATION_CONFIG", "STATION_PUREPYTHON", "STATION_REQUIRE_C", "STATION_PIN_FACTORY"}


@dataclass(frozen=True)
class Config:
    """The whole station configuration, one attribute per TOML section."""

    hinge: HingeSettings = field(default_factory=HingeSettings)
    camera: CameraSettings = field(default_factory=CameraSettings)
    pose: PoseSettings = field(default_factory=PoseSettings)
    leds: LedSettings = field(default_factory=LedSettings)
    web: WebSettings = field(default_factory=WebSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    mqtt: MqttSettings = field(default_factory=MqttSettings)


SECTIONS: dict[str, type] = {f.name: f.default_factory for f in fields(Config)}  # type: ignore[misc]

Overrides = dict[str, dict[str, tuple[Any, str]]]  # section -> key -> (value, where it came from)


def load_config(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Config:
    """Build the configuration from all layers. `flags` maps "section.key" to a value."""
    env = os.environ if env is None else env
    overrides: Overrides = {}
    file_path = path or (Path(env["STATION_CONFIG"]) if "STATION_CONFIG" in env else None)
    if file_path is None and SYSTEM_CONFIG_PATH.exists():
        file_path = SYSTEM_CONFIG_PATH
    if file_path is not None:
        _merge(overrides, _read_toml(file_path), str(file_path))
    _merge(overrides, _env_layer(env), "environment")
    for dotted, value in (flags or {}).items():
        section, _, key = dotted.partition(".")
        overrides.setdefault(section, {})[key] = (value, f"flag {dotted}")
    config = _build(overrides)
    from station.hinge._layout import pack_params  # the kernels' own checks (positive time constants)

    pack_params(config.hinge)
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist: create it or unset STATION_CONFIG") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}): fix the file") from None


def _merge(overrides: Overrides, layer: Mapping[str, Any], where: str) -> None:
    for section, table in layer.items():
        if section not in SECTIONS:
            raise ConfigError(f"unknown section [{section}] in {where}; known: {', '.join(SECTIONS)}")
        if not isinstance(table, Mapping):
            raise ConfigError(f"[{section}] in {where} must be a table of keys")
        for key, value in table.items():
            overrides.setdefault(section, {})[key] = (value, where)


def _env_layer(env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    layer: dict[str, dict[str, Any]] = {}
    for name, raw in env.items():
        if name in ENV_SHORTCUTS:
            section, key = ENV_SHORTCUTS[name]
            layer.setdefault(section, {})[key] = parse_value(raw)
        elif name.startswith(ENV_PREFIX) and "__" in name:
            section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
            layer.setdefault(section, {})[_env_key(section, key)] = parse_value(raw)
    return layer


def _env_key(section: str, key: str) -> str:
    """The field a lower-cased variable name means (environment names are upper case, `walk_L` is not)."""
    cls = SECTIONS.get(section)
    names = [f.name for f in fields(cls)] if cls is not None else []
    return next((n for n in names if n.lower() == key), key)


def parse_value(raw: str) -> Any:
    """A value given as text (STATION_* variables, `--set`): TOML syntax, else a bare string."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw  # a bare string such as a path


def _build(overrides: Overrides) -> Config:
    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        given = overrides.get(name, {})
        hints = typing.get_type_hints(cls)
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, (value, where) in given.items():
            if key not in known:
                raise ConfigError(
                    f"unknown key '{key}' in [{name}] ({where}); known keys: {', '.join(sorted(known))}"
                )
            kwargs[key] = _coerce(value, hints[key], f"{name}.{key}", where)
        try:
            sections[name] = cls(**kwargs)
        except (TypeError, ValueError) as exc:
            where = ", ".join(sorted({w for _, w in given.values()})) or "defaults"
            raise ConfigError(f"invalid [{name}] settings ({where}): {exc}") from None
    return Config(**sections)


def _coerce(value: Any, hint: Any, dotted: str, where: str) -> Any:
    """Check a value against its field's type; ints are accepted where floats are."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if origin is tuple and isinstance(value, list):
        return tuple(_coerce(v, args[0], dotted, where) for v in value) if args else tuple(value)
    expected = origin or hint
    if isinstance(expected, type) and isinstance(value, expected) and not (
        expected is int and isinstance(value, bool)
    ):
        return value
    raise ConfigError(
        f"{dotted} = {value!r} in {where} has the wrong type: expected {getattr(hint, '__name__', hint)}"
    )


def dump_toml(config: Config) -> str:
    """The configuration as TOML text (used to write /etc/station/station.toml)."""
    lines: list[str] = []
    for name in SECTIONS:
        lines.append(f"[{name}]")
        for key, value in asdict(getattr(config, name)).items():
            if value is not None:
                lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
