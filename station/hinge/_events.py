"""Turning kernel event records into the station's Event objects (grading each rep once)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from station.hinge._layout import EV_PHASE, EV_REP, EV_SET_ENDED, EV_SET_STARTED, EVENT_COLUMNS, PHASES
from station.hinge.grading import grade_rep
from station.settings.hinge import HingeSettings
from station.types import Event, PhaseChanged, Rep, RepCompleted, SetEnded, SetStarted

F64 = npt.NDArray[np.float64]
COL = {name: i for i, name in enumerate(EVENT_COLUMNS)}


def to_events(record: Sequence[float], trace: Callable[[], F64], settings: HingeSettings) -> list[Event]:
    """Events of one record in the order they happened.

    A set that ends here before a new one starts comes first; when the rep confirmed here
    belongs to the set that ends (end of input, or the lifter left), the set ends last.
    """
    r = record
    bits = int(r[COL["bits"]])
    out: list[Event] = []
    ended: SetEnded | None = None
    if bits & EV_SET_ENDED:
        ended = SetEnded(
            t_s=r[COL["ended_t_end"]], set_n=int(r[COL["ended_set_n"]]),
            reps=int(r[COL["ended_reps"]]), t_start_s=r[COL["ended_t_start"]],
        )  # fmt: skip
        if not (bits & EV_REP and int(r[COL["rep_set_n"]]) == ended.set_n):
            out.append(ended)
            ended = None
    if bits & EV_SET_STARTED:
        out.append(SetStarted(t_s=r[COL["set_t_start"]], set_n=int(r[COL["set_n"]])))
    if bits & EV_REP:
        out.append(RepCompleted(t_s=r[COL["t_s"]], rep=make_rep(r, trace(), settings)))
    if ended is not None:
        out.append(ended)
    if bits & EV_PHASE:
        out.append(PhaseChanged(t_s=r[COL["t_s"]], phase=PHASES[int(r[COL["phase"]])]))
    return out


def make_rep(r: Sequence[float], trace: F64, settings: HingeSettings) -> Rep:
    """The rep of a record, graded on its descent (hinge onset to bottom)."""
    t_start, t_bottom, t_lockout = r[COL["rep_t_start"]], r[COL["rep_t_bottom"]], r[COL["rep_t_lockout"]]
    return Rep(
        n=int(r[COL["rep_n"]]),
        set_n=int(r[COL["rep_set_n"]]),
        t_start_s=float(t_start),
        t_bottom_s=float(t_bottom),
        t_lockout_s=float(t_lockout),
        descent_s=round(float(t_bottom - t_start), 3),
        ascent_s=round(float(t_lockout - t_bottom), 3),
        keys=grade_rep(trace, float(t_start), float(t_bottom), settings),
    )
