"""The indicator LEDs on gpiozero's MockFactory: what each event lights, and the blink timing."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from station.config import load_config
from station.errors import ConfigError
from station.hw.leds import GpioError, Indicators
from station.settings.leds import LedSettings
from station.types import KEY_NAMES, KeyGrade, Phase, PhaseChanged, Rep, RepCompleted, SetEnded

DEFAULTS = LedSettings()


@pytest.fixture
def factory() -> MockFactory:
    return MockFactory()


@pytest.fixture
def leds(factory: MockFactory) -> Iterator[Indicators]:
    ind = Indicators(DEFAULTS, pin_factory=factory)
    yield ind
    ind.close()


def pin(factory: MockFactory, number: int) -> MockPin:
    return factory.pin(number)  # type: ignore[no-any-return]


def rep_event(n: int, oks: tuple[bool | None, bool | None, bool | None]) -> RepCompleted:
    keys = {name: KeyGrade(ok=ok, value=1.0, cue="cue") for name, ok in zip(KEY_NAMES, oks)}
    rep = Rep(n=n, set_n=1, t_start_s=n, t_bottom_s=n + 0.5, t_lockout_s=n + 1.0, descent_s=0.5, ascent_s=0.5, keys=keys)
    return RepCompleted(t_s=n + 1.0, rep=rep)


def durations(p: MockPin, lit: bool) -> list[float]:
    """How long each completed period in state `lit` lasted (MockPin stamps each change with the time since the last)."""
    return [later.timestamp for earlier, later in zip(p.states, p.states[1:]) if earlier.state == lit]


def assert_near(values: list[float], expected_s: float, tol_s: float) -> None:
    assert values, "no complete period was recorded"
    assert abs(statistics.median(values) - expected_s) <= tol_s, (values, expected_s)
    assert all(abs(v - expected_s) <= 2 * tol_s for v in values), (values, expected_s)


def key_states(factory: MockFactory, settings: LedSettings = DEFAULTS) -> dict[str, tuple[bool, bool]]:
    pins = settings.pins()
    return {k: (pin(factory, pins[f"{k}_green"]).state, pin(factory, pins[f"{k}_red"]).state) for k in KEY_NAMES}


def test_every_led_is_an_output_on_its_configured_pin(factory: MockFactory) -> None:
    settings = LedSettings(unlock_knees_green_pin=17, unlock_knees_red_pin=27, rep_pin=22, status_pin=4)
    ind = Indicators(settings, pin_factory=factory)
    try:
        for number in (17, 27, 22, 4, 13, 19, 16, 20):
            assert pin(factory, number).function == "output"
        assert set(ind.snapshot()) == {f"{k}_{c}" for k in KEY_NAMES for c in ("green", "red")} | {"rep", "status"}
    finally:
        ind.close()
    assert pin(factory, 17).function == "input"  # released


def test_each_key_shows_pass_fail_or_nothing_until_the_next_rep(factory: MockFactory, leds: Indicators) -> None:
    assert key_states(factory) == {k: (False, False) for k in KEY_NAMES}
    leds.handle(rep_event(1, (True, False, None)))
    expected = {"unlock_knees": (True, False), "hips_back_chest_down": (False, True), "knees_after_hips": (False, False)}
    assert key_states(factory) == expected
    # Held through the rest of the rep's events and past the rep flash.
    leds.handle(PhaseChanged(t_s=2.5, phase=Phase.TOP))
    leds.handle(SetEnded(t_s=40.0, set_n=1, reps=1, t_start_s=1.0))
    time.sleep(DEFAULTS.rep_flashes * (DEFAULTS.rep_flash_on_s + DEFAULTS.rep_flash_off_s) + 0.2)
    assert key_states(factory) == expected
    snap = leds.snapshot()
    assert snap["unlock_knees_green"] and snap["hips_back_chest_down_red"] and not snap["knees_after_hips_green"]
    leds.handle(rep_event(2, (False, True, True)))
    assert key_states(factory) == {
        "unlock_knees": (False, True),
        "hips_back_chest_down": (True, False),
        "knees_after_hips": (True, False),
    }


def test_rep_led_flashes_at_lockout_then_goes_dark(factory: MockFactory, leds: Indicators) -> None:
    rep_pin = pin(factory, DEFAULTS.rep_pin)
    assert not rep_pin.state
    leds.handle(rep_event(1, (True, True, True)))
    assert leds.snapshot()["rep"]  # the flash starts at once
    time.sleep(DEFAULTS.rep_flashes * (DEFAULTS.rep_flash_on_s + DEFAULTS.rep_flash_off_s) + 0.3)
    assert [s.state for s in rep_pin.states] == [False] + [True, False] * DEFAULTS.rep_flashes
    assert_near(durations(rep_pin, True), DEFAULTS.rep_flash_on_s, 0.05)
    assert_near(durations(rep_pin, False)[1:], DEFAULTS.rep_flash_off_s, 0.05)  # [0]: dark before the rep
    assert not rep_pin.state


def test_idle_is_a_slow_heartbeat(factory: MockFactory, leds: Indicators) -> None:
    status_pin = pin(factory, DEFAULTS.status_pin)
    time.sleep(DEFAULTS.idle_on_s * 2 + DEFAULTS.idle_off_s + 0.15)
    assert leds.status == "idle"
    assert_near(durations(status_pin, True), DEFAULTS.idle_on_s, 0.06)
    assert_near(durations(status_pin, False)[1:], DEFAULTS.idle_off_s, 0.12)


def test_tracking_is_steady_and_fault_is_a_fast_blink(factory: MockFactory, leds: Indicators) -> None:
    status_pin = pin(factory, DEFAULTS.status_pin)
    leds.set_status("tracking")
    assert leds.status == "tracking"
    status_pin.clear_states()
    time.sleep(0.5)
    assert status_pin.state and len(status_pin.states) == 1  # on, and not one change in 0.5 s

    leds.set_status("fault")
    status_pin.clear_states()
    time.sleep(10 * (DEFAULTS.fault_on_s + DEFAULTS.fault_off_s) + 0.05)
    on, off = durations(status_pin, True), durations(status_pin, False)
    assert len(on) >= 8 and len(off) >= 8
    assert_near(on[1:], DEFAULTS.fault_on_s, 0.04)  # on[0] is the tail of the steady light
    assert_near(off, DEFAULTS.fault_off_s, 0.04)


def test_only_set_status_changes_the_status_led(factory: MockFactory, leds: Indicators) -> None:
    leds.set_status("fault")
    leds.handle(PhaseChanged(t_s=1.0, phase=Phase.HINGE))  # events never override the pipeline's word
    leds.handle(rep_event(1, (True, True, True)))
    assert leds.status == "fault"
    leds.set_status("idle")
    leds.handle(PhaseChanged(t_s=2.0, phase=Phase.HINGE))
    assert leds.status == "idle"
    with pytest.raises(ValueError, match="status must be one of"):
        leds.set_status("busy")  # type: ignore[arg-type]


def test_close_turns_off_and_later_events_are_ignored(factory: MockFactory) -> None:
    ind = Indicators(DEFAULTS, pin_factory=factory)
    ind.handle(rep_event(1, (True, True, True)))
    ind.set_status("fault")
    ind.close()
    assert not any(pin(factory, n).state for n in DEFAULTS.pins().values())
    ind.handle(rep_event(2, (False, False, False)))
    ind.set_status("tracking")
    assert ind.snapshot() == {}
    ind.close()  # twice is harmless


def test_active_low_wiring_inverts_the_pins(factory: MockFactory) -> None:
    ind = Indicators(LedSettings(active_high=False), pin_factory=factory)
    try:
        ind.handle(rep_event(1, (True, None, None)))
        assert pin(factory, DEFAULTS.unlock_knees_green_pin).state is False  # sinking: low = lit
        assert pin(factory, DEFAULTS.unlock_knees_red_pin).state is True
        assert ind.snapshot()["unlock_knees_green"]
    finally:
        ind.close()


def test_pin_factory_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATION_PIN_FACTORY", "mock")
    ind = Indicators(DEFAULTS)
    try:
        ind.handle(rep_event(1, (False, None, None)))
        assert ind.snapshot()["unlock_knees_red"]
    finally:
        ind.close()
    monkeypatch.setenv("STATION_PIN_FACTORY", "bogus")
    with pytest.raises(GpioError, match="'bogus' is not a gpiozero pin factory; use one of .*mock"):
        Indicators(DEFAULTS)


def test_a_pin_already_taken_is_a_clear_error(factory: MockFactory, leds: Indicators) -> None:
    with pytest.raises(GpioError, match="cannot drive the LEDs .*enabled = false"):
        Indicators(DEFAULTS, pin_factory=factory)
    # The failed attempt released what it had claimed and left the first set working.
    leds.handle(rep_event(1, (True, True, True)))
    assert leds.snapshot()["knees_after_hips_green"]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("rep_pin = 40", r"rep_pin = 40; give a BCM GPIO number 0\.\.27"),
        ("status_pin = 5", r"unlock_knees_green_pin and status_pin use the same GPIO"),
        ("fault_on_s = 0.001", r"fault_on_s = 0\.001; give 0\.02\.\.10 seconds"),
        ("rep_flashes = 0", r"rep_flashes = 0; give 1\.\.10"),
        ("rep_pin = 'GPIO21'", r"leds\.rep_pin = 'GPIO21' in .* has the wrong type: expected int"),
        ("colour = 'red'", r"unknown key 'colour' in \[leds\]"),
    ],
)
def test_configuration_errors_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "station.toml"
    path.write_text(f"[leds]\n{toml}\n")
    with pytest.raises(ConfigError, match=message):
        load_config(path, env={})


def test_default_wiring_matches_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name, number in DEFAULTS.pins().items():
        assert f"| `{name}_pin` | GPIO{number} |" in readme, f"README 'Wiring' lacks {name}_pin = GPIO{number}"
