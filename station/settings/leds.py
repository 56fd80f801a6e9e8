"""[leds] GPIO pins (BCM numbering) and blink patterns of the indicator LEDs.

The default wiring uses the bottom eight-pin corner of the 40-pin header (physical pins
29-40), which no HAT bus needs (I2C, SPI, UART and the ID EEPROM sit elsewhere), and puts
each key's green and red LED on neighbouring pins. README.md ("Wiring") draws the table.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

BCM_PINS = range(0, 28)  # GPIO0..GPIO27 reach the 40-pin header on every Pi since the B+


@dataclass(frozen=True)
class LedSettings:
    """LED wiring and patterns, read by `station.hw.leds.Indicators`."""

    enabled: bool = True  # false on a station built without LEDs: nothing touches GPIO
    # One green (pass) and one red (fail) LED per key of the hinge, in the order of KEY_NAMES.
    unlock_knees_green_pin: int = 5  # header pin 29
    unlock_knees_red_pin: int = 6  # header pin 31
    hips_back_chest_down_green_pin: int = 13  # header pin 33
    hips_back_chest_down_red_pin: int = 19  # header pin 35
    knees_after_hips_green_pin: int = 16  # header pin 36
    knees_after_hips_red_pin: int = 20  # header pin 38
    rep_pin: int = 21  # header pin 40: flashes at each lockout
    status_pin: int = 26  # header pin 37: idle / tracking / fault
    # LED anode on the pin and cathode (through its resistor) to ground: the pin drives it high.
    # Set false for LEDs wired from 3V3 into the pin (sinking), e.g. some ready-made boards.
    active_high: bool = True
    # Three quick flashes at lockout: visible from the platform in peripheral vision, over in
    # under a second so it never overlaps the next rep's lockout (reps take >= ~2 s).
    rep_flash_on_s: float = 0.12
    rep_flash_off_s: float = 0.12
    rep_flashes: int = 3
    # Idle: a short heartbeat every 2 s says "powered and watching" without looking like a fault.
    idle_on_s: float = 0.2
    idle_off_s: float = 1.8
    # Fault: 5 Hz, the conventional "needs attention" rate, unmistakable next to the heartbeat.
    fault_on_s: float = 0.1
    fault_off_s: float = 0.1

    def pins(self) -> dict[str, int]:
        """LED name (field name without `_pin`) -> BCM pin."""
        return {f.name[: -len("_pin")]: getattr(self, f.name) for f in fields(self) if f.name.endswith("_pin")}

    def __post_init__(self) -> None:
        pins = self.pins()
        for name, pin in pins.items():
            if pin not in BCM_PINS:
                raise ValueError(f"{name}_pin = {pin}; give a BCM GPIO number 0..27 (see README 'Wiring')")
        by_pin: dict[int, list[str]] = {}
        for name, pin in pins.items():
            by_pin.setdefault(pin, []).append(f"{name}_pin")
        shared = [names for names in by_pin.values() if len(names) > 1]
        if shared:
            raise ValueError(f"{' and '.join(shared[0])} use the same GPIO; give each LED its own pin")
        times = {f.name: getattr(self, f.name) for f in fields(self) if f.name.endswith("_s")}
        for name, value in times.items():
            if not 0.02 <= value <= 10.0:
                raise ValueError(f"{name} = {value}; give 0.02..10 seconds (shorter is invisible)")
        if not 1 <= self.rep_flashes <= 10:
            raise ValueError(f"rep_flashes = {self.rep_flashes}; give 1..10")
