"""The detector over the simulator's matrix of situations, on both kernels.

Counts must be exact, every fault must fail its own key, good reps must pass, distractors
count nothing, and the count must not move when frames drop, points vanish, the rate
changes or the keypoints jitter. Seeds here are < 1000; `station bench accuracy` uses
fresh ones from 1_000_000 and reports the statistics.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pytest

from station.hinge import PhaseDetector, analyze
from station.recording import Recording
from station.settings.hinge import HingeSettings
from station.sim import FAULT_KEY, SimTruth, scenario_matrix, simulate, station_settings
from station.types import RepCompleted

MATRIX = {s.name: s for s in scenario_matrix()}
SEEDS = (2, 3, 4)
SINGLE_FAULTS = [n for n, s in MATRIX.items() if len(s.faults) == 1 and s.faults[0] in FAULT_KEY and not s.yaw_deg]
DISTRACTORS = [n for n, s in MATRIX.items() if s.distractor is not None and not s.reps_per_set]
GOOD_SIDE_ON = ["good_rdl", "good_deadlift", "rdl_facing_left", "rdl_portrait", "noise_clean", "fps_8", "fps_60"]


@lru_cache(maxsize=None)
def sim(name: str, seed: int) -> tuple[Recording, SimTruth]:
    return simulate(MATRIX[name], seed)


def matched(result: dict[str, Any], truth: SimTruth) -> list[tuple[Any, dict[str, Any]]]:
    """(true rep, detected rep) pairs, matched on the bottom within 1.5 s."""
    pairs = []
    unused = list(result["reps"])
    for true_rep in truth.reps:
        near = [r for r in unused if abs(r["t_bottom"] - true_rep.t_bottom_s) <= 1.5]
        if near:
            rep = min(near, key=lambda r: abs(r["t_bottom"] - true_rep.t_bottom_s))
            unused.remove(rep)
            pairs.append((true_rep, rep))
    return pairs


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_every_scenario_is_counted_exactly(use_kernel: Any, name: str) -> None:
    for seed in SEEDS:
        recording, truth = sim(name, seed)
        result = analyze(recording, station_settings(MATRIX[name], HingeSettings()))
        assert [s["reps"] for s in result["sets"]] == [s.reps for s in truth.sets], f"seed {seed}"
        assert [r["set"] for r in result["reps"]] == [r.set_n for r in truth.reps], f"seed {seed}"


@pytest.mark.parametrize("name", SINGLE_FAULTS)
def test_every_fault_fails_its_own_key(use_kernel: Any, name: str) -> None:
    hits = total = 0
    for seed in SEEDS:
        recording, truth = sim(name, seed)
        for true_rep, rep in matched(analyze(recording), truth):
            for key, fault in true_rep.faults.items():
                if fault is not None:
                    total += 1
                    grade = rep["keys"][key]
                    hits += grade["ok"] is False and grade.get("fault") == fault
    assert total >= 12 and hits / total >= 0.9, f"{hits}/{total} faults caught with their name"


def test_good_reps_pass_all_three_keys(use_kernel: Any) -> None:
    passed = total = 0
    for name in GOOD_SIDE_ON:
        for seed in SEEDS:
            recording, truth = sim(name, seed)
            for true_rep, rep in matched(analyze(recording), truth):
                assert all(f is None for f in true_rep.faults.values())
                total += 1
                passed += all(g["ok"] is True for g in rep["keys"].values())
    assert total >= 90 and passed / total >= 0.9, f"{passed}/{total} good reps passed every key"


def test_front_view_counts_but_does_not_grade(use_kernel: Any) -> None:
    for name in ("rdl_front_view", "deadlift_front_view"):
        recording, truth = sim(name, 2)
        result = analyze(recording)
        assert not truth.gradable and len(result["reps"]) == len(truth.reps)
        assert all(g["ok"] is None and "side" in g["reason"] for r in result["reps"] for g in r["keys"].values())


@pytest.mark.parametrize("name", DISTRACTORS)
def test_distractors_count_nothing(use_kernel: Any, name: str) -> None:
    for seed in SEEDS:
        result = analyze(sim(name, seed)[0])
        assert result["reps"] == [] and result["sets"] == [], f"seed {seed}"


def _count(recording: Recording) -> int:
    return len(analyze(recording)["reps"])


@pytest.mark.parametrize("name", ["good_deadlift", "good_rdl"])
def test_count_survives_dropouts_jitter_and_rate_changes(use_kernel: Any, name: str) -> None:
    recording, truth = sim(name, 2)
    kp, t, w, h = recording.keypoints, recording.t, recording.width, recording.height
    n = len(truth.reps)
    assert _count(recording) == n
    rng = np.random.default_rng(11)
    keep = np.sort(rng.choice(len(t), size=int(0.6 * len(t)), replace=False))
    assert _count(Recording(kp[keep], t[keep], w, h)) == n  # 40 % of frames dropped at random
    for step in (2, 4):  # 30 fps -> 15 and 7.5 fps
        assert _count(Recording(kp[::step], t[::step], w, h)) == n
    faint = kp.copy()
    faint[rng.random(faint.shape[:2]) < 0.25, 2] = 0.1  # a quarter of the points scored below 0.3
    assert _count(Recording(faint, t, w, h)) == n
    shaky = kp.copy()
    shaky[..., :2] += rng.normal(0.0, 4.0, shaky[..., :2].shape) / np.array([h, w])  # +-4 px more jitter
    assert _count(Recording(shaky.astype(np.float32), t, w, h)) == n


def test_streaming_with_nan_frames_counts_the_same(use_kernel: Any) -> None:
    recording, truth = sim("good_deadlift", 3)
    kp = recording.keypoints.copy()
    rng = np.random.default_rng(5)
    kp[rng.random(len(kp)) < 0.15] = np.nan  # whole frames lost
    kp[rng.random(kp.shape[:2]) < 0.1] = np.nan  # and single points
    det = PhaseDetector(recording.width, recording.height)
    events = [e for i in range(len(kp)) for e in det.update(kp[i], float(recording.t[i]))]
    events += det.finish(float(recording.t[-1]))
    assert sum(isinstance(e, RepCompleted) for e in events) == len(truth.reps)


def test_accuracy_benchmark_runs_and_reports_the_three_figures(capsys: pytest.CaptureFixture[str]) -> None:
    from station.cli import main

    assert main(["bench", "accuracy", "--sets", "3", "--seed", "1000000"]) == 0
    out = capsys.readouterr().out
    assert "sets counted exactly" in out and "goal >= 99 %" in out
    for key in ("unlock_knees", "hips_back_chest_down", "knees_after_hips"):
        assert key in out
    assert "fault recall >= 95 %, good failed <= 3 %" in out
