"""Events arrive in the order they happened: a set's reps lie between its start and its end."""

from __future__ import annotations

import pytest

from station.hinge import PhaseDetector
from station.sim import scenario_matrix, simulate
from station.types import Event, RepCompleted, SetEnded, SetStarted

SCENARIOS = {s.name: s for s in scenario_matrix()}


def _stream(name: str, seed: int, cut_after_last_lockout_s: float | None) -> list[Event]:
    recording, truth = simulate(SCENARIOS[name], seed)
    n = len(recording.t)
    if cut_after_last_lockout_s is not None:  # input ends while the last rep awaits confirmation
        n = int((recording.t <= truth.reps[-1].t_lockout_s + cut_after_last_lockout_s).sum())
    det = PhaseDetector(recording.width, recording.height)
    events = [e for kp, t in zip(recording.keypoints[:n], recording.t[:n]) for e in det.update(kp, float(t))]
    return events + det.finish(float(recording.t[n - 1]))


@pytest.mark.parametrize("cut_s", [None, 0.3])
@pytest.mark.parametrize("name", ["good_deadlift", "good_rdl", "rest_between_sets", "deadlift_rest_walk_off"])
def test_every_rep_lies_inside_its_set(name: str, cut_s: float | None) -> None:
    open_set: int | None = None
    reps_seen: dict[int, int] = {}
    ended: set[int] = set()
    for event in _stream(name, seed=7, cut_after_last_lockout_s=cut_s):
        if isinstance(event, SetStarted):
            assert open_set is None, f"set {event.set_n} started while set {open_set} was open"
            open_set = event.set_n
        elif isinstance(event, RepCompleted):
            assert event.rep.set_n == open_set, f"rep {event.rep.n} of set {event.rep.set_n} outside its set"
            reps_seen[open_set] = reps_seen.get(open_set, 0) + 1
        elif isinstance(event, SetEnded):
            assert event.set_n == open_set, f"set {event.set_n} ended but set {open_set} was open"
            assert event.reps == reps_seen.get(event.set_n, 0)
            ended.add(event.set_n)
            open_set = None
    assert open_set is None, "finish() must end the open set"
    assert ended and sum(reps_seen.values()) > 0
