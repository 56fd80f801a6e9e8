"""The simulated lifter: its truth matches its motion, its output looks like MoveNet's and round-trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from station.recording import Recording, load, save
from station.sim import FAULT_KEY, Scenario, SimTruth, random_scenario, scenario_matrix, simulate
from station.types import KEY_NAMES

SCENARIOS = {s.name: s for s in scenario_matrix()}


def run(name: str, seed: int = 1) -> tuple[Recording, SimTruth]:
    return simulate(SCENARIOS[name], seed)


def test_matrix_names_are_unique_and_cover_the_cases() -> None:
    names = [s.name for s in scenario_matrix()]
    assert len(names) == len(set(names))
    kinds = {(s.lift, f) for s in scenario_matrix() for pool in s.faults for f in pool.split("+")}
    for fault in FAULT_KEY:
        assert ("deadlift", fault) in kinds
    assert {s.distractor for s in scenario_matrix()} >= {"standing", "walk_in_out", "plate_pickup", "crossing"}
    assert {s.fps for s in scenario_matrix()} >= {8.0, 15.0, 30.0, 60.0}
    assert any(not s.gradable for s in scenario_matrix())


@pytest.mark.parametrize("name", ["good_rdl", "deadlift_mixed", "fps_8", "distractor_plate_pickup"])
def test_recording_validates_and_round_trips(name: str, tmp_path: Path) -> None:
    rec, _ = run(name)
    path = tmp_path / "r.npz"
    save(path, rec)
    back = load(path)
    assert back.keypoints.shape == rec.keypoints.shape and back.keypoints.dtype == np.float32
    np.testing.assert_array_equal(back.keypoints, rec.keypoints)
    np.testing.assert_array_equal(back.t, rec.t)
    assert (back.width, back.height) == (rec.width, rec.height)
    assert rec.keypoints.min() >= 0.0 and rec.keypoints.max() <= 1.0


def test_same_seed_same_recording_other_seed_differs() -> None:
    a, ta = run("deadlift_mixed", 7)
    b, tb = run("deadlift_mixed", 7)
    c, _ = run("deadlift_mixed", 8)
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    assert ta.reps == tb.reps
    assert a.keypoints.shape != c.keypoints.shape or not np.array_equal(a.keypoints, c.keypoints)


def test_truth_faults_name_every_key() -> None:
    _, truth = run("deadlift_mixed")
    for rep in truth.reps:
        assert set(rep.faults) == set(KEY_NAMES)
        for key, fault in rep.faults.items():
            assert fault is None or FAULT_KEY[fault] == key
