"""The numbers every kernel shares: params order, codes, bits and columns stay put."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import station.settings.hinge as hinge_settings

from station.config import load_config
from station.hinge import _layout as L
from station.hinge._reference import Core
from station.settings.hinge import HingeSettings
from station.types import Phase


def test_params_follow_the_settings_fields_in_order() -> None:
    names = tuple(f.name for f in dataclasses.fields(HingeSettings))
    assert L.PARAM_NAMES == names and L.N_PARAMS == len(names)
    packed = L.pack_params(HingeSettings(top_deg=17.5))
    assert len(packed) == L.N_PARAMS and packed[names.index("top_deg")] == 17.5


def test_every_setting_is_a_float_with_a_reason() -> None:
    source = Path(hinge_settings.__file__).read_text()
    for f in dataclasses.fields(HingeSettings):
        assert isinstance(f.default, float), f.name
        line = next(line for line in source.splitlines() if line.strip().startswith(f"{f.name}:"))
        assert "#" in line and len(line.split("#", 1)[1].strip()) > 20, f"{f.name} lacks a justification"


def test_config_layers_reach_the_core() -> None:
    config = load_config(env={"STATION_HINGE__BOTTOM_MIN_DEG": "45"})
    core = Core(L.pack_params(config.hinge), 640, 480)
    assert core.s.bottom_min_deg == 45.0
    with pytest.raises(ValueError, match="params"):
        Core([1.0, 2.0], 640, 480)


def test_codes_and_columns() -> None:
    assert [p.value for p in L.PHASES] == [p.value for p in Phase]
    assert (L.PH_ABSENT, L.PH_TOP, L.PH_ASCENT) == (0, 1, 5)
    assert (L.EV_SET_ENDED, L.EV_SET_STARTED, L.EV_REP, L.EV_PHASE) == (1, 2, 4, 8)
    assert L.TRACE_COLUMNS == ("t_s", "phase", "trunk_deg", "knee_deg", "travel_L", "ok")
    assert L.EVENT_COLUMNS[:4] == ("frame", "bits", "t_s", "phase") and len(L.EVENT_COLUMNS) == 15
