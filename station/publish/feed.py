"""What the fleet feed says: the station's state JSON and the rep and set payloads."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

from station.types import KEY_NAMES, Event, KeyGrade, PhaseChanged, Rep, RepCompleted, SetEnded, SetStarted

GRADES = ("pass", "fail", "ungraded")


def grade_name(grade: KeyGrade) -> str:
    """"pass", "fail" or "ungraded" (ok is None: could not judge)."""
    return "ungraded" if grade.ok is None else "pass" if grade.ok else "fail"


def encode(payload: object) -> bytes:
    """Compact JSON; NaN and infinities become null so every consumer can parse it."""
    return json.dumps(_finite(payload), separators=(",", ":"), allow_nan=False).encode()


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class FeedState:
    """The station's latest state, updated from events; not thread-safe (the publisher locks it)."""

    def __init__(self, station_id: str) -> None:
        self.station_id = station_id
        self.state = "running"  # the feed exists only while the station runs; set_state refines it
        self.phase: str | None = None
        self.set_n = 0
        self.reps_in_set = 0
        self.reps_total = 0
        self.last_keys: dict[str, dict[str, object]] = {}
        self._set_counts: dict[int, dict[str, dict[str, int]]] = {}

    def apply(self, event: Event) -> dict[str, object] | None:
        """Update the state; return the rep or set-summary payload the event makes, if any."""
        if isinstance(event, PhaseChanged):
            self.phase = event.phase.value
        elif isinstance(event, SetStarted):
            self.set_n, self.reps_in_set = event.set_n, 0
        elif isinstance(event, RepCompleted):
            return self._rep(event.rep)
        elif isinstance(event, SetEnded):
            return self._set_summary(event)
        return None

    def _rep(self, rep: Rep) -> dict[str, object]:
        if rep.set_n != self.set_n:  # the rep opened a set whose SetStarted we did not see
            self.set_n, self.reps_in_set = rep.set_n, 0
        self.reps_in_set += 1
        self.reps_total += 1
        counts = self._set_counts.setdefault(rep.set_n, {k: dict.fromkeys(GRADES, 0) for k in KEY_NAMES})
        for name, grade in rep.keys.items():
            counts.setdefault(name, dict.fromkeys(GRADES, 0))[grade_name(grade)] += 1
            self.last_keys[name] = {"grade": grade_name(grade), **grade.to_json()}
        return {**rep.to_json(), "station": self.station_id, "time": _now_iso()}

    def _set_summary(self, event: SetEnded) -> dict[str, object]:
        counts = self._set_counts.pop(event.set_n, {k: dict.fromkeys(GRADES, 0) for k in KEY_NAMES})
        return {
            "n": event.set_n,
            "reps": event.reps,
            "t_start": event.t_start_s,
            "t_end": event.t_s,
            "keys": counts,
            "station": self.station_id,
            "time": _now_iso(),
        }

    def snapshot(self) -> dict[str, object]:
        """The retained state JSON that every Home Assistant entity reads."""
        empty = {"grade": None, "ok": None, "value": None, "cue": None}
        return {
            "station": self.station_id,
            "state": self.state,
            "phase": self.phase,
            "set": self.set_n,
            "reps_in_set": self.reps_in_set,
            "reps_total": self.reps_total,
            "last_grades": {k: self.last_keys.get(k, empty) for k in KEY_NAMES},  # not "keys": a dict method in Jinja
            "time": _now_iso(),
        }
