"""The indicator LEDs: per key a green and a red LED, a rep LED and a status LED.

A sink of detector events (``handle``/``close``). After each rep every key shows pass
(green), fail (red) or "could not judge" (both off) until the next rep; the rep LED
flashes at lockout; the status LED (set by the pipeline) tells idle (heartbeat), tracking (steady) and fault
(fast blink) apart. Real gpiozero ``LED`` devices; the pin factory is chosen like
gpiozero does: the argument, else ``STATION_PIN_FACTORY`` (a gpiozero factory name such as
``mock`` or ``lgpio``), else gpiozero's own ``GPIOZERO_PIN_FACTORY`` or auto-detection.
"""

from __future__ import annotations

import os
import threading
from importlib.metadata import entry_points
from typing import Any, Literal

from station.errors import StationError
from station.settings.leds import LedSettings
from station.types import KEY_NAMES, Event, RepCompleted

Status = Literal["idle", "tracking", "fault"]
STATUSES: tuple[Status, ...] = ("idle", "tracking", "fault")
PIN_FACTORY_ENV = "STATION_PIN_FACTORY"


class GpioError(StationError):
    """The LEDs cannot be driven: no GPIO access, a pin taken, an unknown pin factory."""

    exit_status = 69  # EX_UNAVAILABLE, like a missing camera


def make_pin_factory(name: str) -> Any:
    """A gpiozero pin factory by its entry-point name ("mock", "lgpio", "rpigpio", ...)."""
    factories = {ep.name: ep for ep in entry_points(group="gpiozero_pin_factories")}
    entry = factories.get(name) or factories.get(name.lower())
    if entry is None:
        raise GpioError(f"{PIN_FACTORY_ENV}={name!r} is not a gpiozero pin factory; use one of {', '.join(sorted(factories))}")
    try:
        return entry.load()()
    except Exception as exc:  # each factory fails its own way (ImportError, OSError, BadPinFactory)
        raise GpioError(f"pin factory {name!r} cannot start ({exc}); on a Pi install python3-lgpio, elsewhere use 'mock'") from None


class Indicators:
    """Drives the station's LEDs from detector events and the pipeline's status."""

    def __init__(self, settings: LedSettings, pin_factory: Any = None) -> None:
        from gpiozero import LED

        self._settings = settings
        if pin_factory is None and os.environ.get(PIN_FACTORY_ENV):
            pin_factory = make_pin_factory(os.environ[PIN_FACTORY_ENV])
        self._lock = threading.Lock()
        self._leds: dict[str, Any] = {}
        try:
            for name, pin in settings.pins().items():
                self._leds[name] = LED(pin, active_high=settings.active_high, initial_value=False, pin_factory=pin_factory)
        except Exception as exc:  # gpiozero, lgpio and RPi.GPIO each raise their own types
            self.close()
            raise GpioError(
                f"cannot drive the LEDs ({type(exc).__name__}: {exc}); check [leds] pins, that the user is in "
                f"group gpio, or set [leds] enabled = false"
            ) from None
        self._status: Status = "idle"
        self._show_status()

    @property
    def status(self) -> Status:
        return self._status

    def handle(self, event: Event) -> None:
        """Show a rep's grades and flash the rep LED; other events change nothing.

        The status LED is the pipeline's to set (`set_status`): it alone knows about faults.
        """
        if isinstance(event, RepCompleted):
            self._show_rep(event)

    def set_status(self, status: Status) -> None:
        """Switch the status LED pattern: idle heartbeat, steady while tracking, fast blink on fault."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        with self._lock:
            if status == self._status or not self._leds:
                return
            self._status = status
            self._show_status()

    def snapshot(self) -> dict[str, bool]:
        """LED name -> lit right now (what the status page draws)."""
        with self._lock:
            return {name: bool(led.is_lit) for name, led in self._leds.items()}

    def close(self) -> None:
        """Turn everything off and release the pins."""
        with self._lock:
            for led in self._leds.values():
                led.off()  # stops a blink thread and leaves the LED dark, not floating at its last level
                led.close()
            self._leds.clear()

    def _show_rep(self, event: RepCompleted) -> None:
        s = self._settings
        with self._lock:
            if not self._leds:
                return
            for key in KEY_NAMES:
                grade = event.rep.keys.get(key)
                ok = grade.ok if grade is not None else None
                self._leds[f"{key}_green"].value = ok is True
                self._leds[f"{key}_red"].value = ok is False
            self._leds["rep"].blink(on_time=s.rep_flash_on_s, off_time=s.rep_flash_off_s, n=s.rep_flashes, background=True)

    def _show_status(self) -> None:
        s = self._settings
        led = self._leds["status"]
        if self._status == "tracking":
            led.on()
        elif self._status == "idle":
            led.blink(on_time=s.idle_on_s, off_time=s.idle_off_s, background=True)
        else:
            led.blink(on_time=s.fault_on_s, off_time=s.fault_off_s, background=True)
