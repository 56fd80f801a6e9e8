"""Configuration layering and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.cli import main
from station.config import Config, dump_toml, load_config
from station.errors import ConfigError


def test_defaults_when_nothing_is_given(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert load_config(empty, env={}) == Config()


def test_layers_file_then_env_then_flags(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text("[web]\nport = 9000\nhost = '127.0.0.1'\n[pose]\nthreads = 1\n")
    config = load_config(path, env={"STATION_WEB__PORT": "9001"}, flags={"pose.threads": 3})
    assert config.web.port == 9001
    assert config.web.host == "127.0.0.1"
    assert config.pose.threads == 3


def test_env_names_reach_mixed_case_keys() -> None:
    config = load_config(None, env={"STATION_HINGE__WALK_L": "0.25", "STATION_HINGE__CONFIRM_S": "1.0"})
    assert config.hinge.walk_L == 0.25 and config.hinge.confirm_s == 1.0


def test_env_shortcuts(tmp_path: Path) -> None:
    config = load_config(None, env={"STATION_MODEL": "/m/x.tflite"})
    assert config.pose.model == "/m/x.tflite"


def test_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text("[web]\nprot = 9000\n")
    with pytest.raises(ConfigError, match=r"unknown key 'prot' in \[web\] \(.*station.toml\)"):
        load_config(path, env={})


def test_unknown_section(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text("[webb]\nport = 9000\n")
    with pytest.raises(ConfigError, match=r"unknown section \[webb\]"):
        load_config(path, env={})


def test_wrong_type_names_key_and_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"web.port = 'eighty' in environment has the wrong type"):
        load_config(None, env={"STATION_WEB__PORT": "eighty"})


def test_invalid_toml_says_fix(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text("[web\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, env={})


def test_dump_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text(dump_toml(Config()))
    assert load_config(path, env={}) == Config()


def test_cli_reports_config_error_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[leds]\nbogus = 1\n")
    monkeypatch.setenv("STATION_CONFIG", str(path))
    assert main(["config"]) == ConfigError.exit_status
    err = capsys.readouterr().err
    assert "unknown key 'bogus' in [leds]" in err and "Traceback" not in err


def test_hinge_values_no_kernel_can_run_on_are_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[hinge\] side_window_s must be positive"):
        load_config(None, env={"STATION_HINGE__SIDE_WINDOW_S": "0"})
