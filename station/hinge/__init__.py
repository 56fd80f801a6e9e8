"""The phase detector: counts hinge reps, segments sets and grades the three keys.

`PhaseDetector` streams one frame at a time (the station); `analyze` runs a whole recording
(`station analyze`). Both drive a per-frame kernel `Core` over plain numbers; `_kernel.select`
decides which one (the pure-Python reference, or the C port when it is built). All per-frame
work is one `Core.update` call; Python only builds events on the rare frames that have them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from station.hinge import _kernel
from station.hinge._events import to_events
from station.hinge._reference import awaits_lowering, event_record
from station.hinge._layout import PHASES, pack_params
from station.recording import Recording
from station.settings.hinge import HingeSettings
from station.types import Event, Keypoints, Phase, RepCompleted, SetEnded, SetStarted

Core, run_batch, IMPLEMENTATION = _kernel.select()

__all__ = ["IMPLEMENTATION", "PhaseDetector", "analyze"]


class PhaseDetector:
    """Streaming detector: `update` per frame, `finish` at the end of input; returns events."""

    def __init__(self, width_px: int, height_px: int, settings: HingeSettings | None = None) -> None:
        if width_px <= 0 or height_px <= 0:
            raise ValueError(f"frame size must be positive pixels, got {width_px}x{height_px}")
        self.settings = settings or HingeSettings()
        self._core = Core(pack_params(self.settings), width_px, height_px)

    @property
    def phase(self) -> Phase:
        return PHASES[self._core.phase]

    @property
    def set_n(self) -> int:
        """Number of the current (or last) set, 0 before the first."""
        return int(self._core.set_n)

    @property
    def reps_in_set(self) -> int:
        return int(self._core.reps_in_set)

    def update(self, keypoints: Keypoints, t_s: float) -> list[Event]:
        """One frame: (17, 3) [y, x, score] normalised (NaN or low score = missing) at time t_s.

        A frame whose time does not move forward is skipped; a wrong shape or type raises."""
        bits = self._core.update(keypoints, t_s)
        return self._events(bits, self._core.frames - 1, self._core.t_prev) if bits else []

    def finish(self, t_s: float) -> list[Event]:
        """End of input: a rep waiting for confirmation counts, an open set ends."""
        bits = self._core.finish(t_s)
        return self._events(bits, self._core.frames, float(t_s)) if bits else []

    def _events(self, bits: int, frame: int, t_s: float) -> list[Event]:
        core = self._core
        return to_events(event_record(core, frame, bits, t_s), core.trace, self.settings)


def analyze(recording: Recording, settings: HingeSettings | None = None) -> dict[str, Any]:
    """The result JSON of HINGE_SPEC for a whole recording (frames, duration, reps, sets)."""
    settings = settings or HingeSettings()
    core = Core(pack_params(settings), recording.width, recording.height)
    records, trace = run_batch(core, np.ascontiguousarray(recording.keypoints, dtype=np.float32), recording.t)
    reps: list[dict[str, Any]] = []
    sets: list[dict[str, Any]] = []
    for record in records:
        for event in to_events(tuple(record), lambda: trace, settings):
            if isinstance(event, RepCompleted):
                reps.append(_rounded(event.rep.to_json()))
            elif isinstance(event, SetStarted):
                sets.append({"n": event.set_n, "reps": 0, "t_start": round(event.t_s, 3), "t_end": None})
            elif isinstance(event, SetEnded):
                for entry in sets:
                    if entry["n"] == event.set_n:
                        entry.update(reps=event.reps, t_end=round(event.t_s, 3))
    # A rep from the floor whose bar the recording ended before seeing go back down (or the
    # stand-up after the last was set down): not counted, but said, for a clip cut at a lockout.
    awaiting = core.pend and awaits_lowering(core.pend_floor, settings)
    return {
        "frames": int(recording.keypoints.shape[0]),
        "duration_s": round(recording.duration_s, 3),
        "implementation": IMPLEMENTATION,
        "reps": reps,
        "sets": sets,
        "lockout_not_lowered": round(core.pend_t_lockout, 3) if awaiting else None,
    }


def _rounded(rep: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in rep.items()}
