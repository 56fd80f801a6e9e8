"""The C kernel is the Python reference: same events, grades, trace and state (floats within
1e-9) on every simulated scenario, on random scenarios, frame by frame (step and update) and
through the station's own entry points (PhaseDetector, analyze)."""

from __future__ import annotations

import dataclasses
import math
from functools import lru_cache
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import station.hinge as hinge
from station.hinge._kernel import Kernel, python_kernel, running
from station.hinge._layout import EVENT_COLUMNS, pack_params
from station.recording import Recording
from station.settings.hinge import HingeSettings
from station.sim import random_scenario, scenario_matrix, simulate
from kernels import assert_close, core_state, load_kernel

MATRIX = {s.name: s for s in scenario_matrix()}
PARAMS = pack_params(HingeSettings())


@pytest.fixture(scope="module")
def c() -> Kernel:
    return load_kernel("c")


@lru_cache(maxsize=None)
def recording(name: str, seed: int = 7) -> Recording:
    return simulate(MATRIX[name], seed)[0]


def batch(kernel: Kernel, rec: Recording) -> tuple[np.ndarray, np.ndarray]:
    core = kernel.Core(PARAMS, rec.width, rec.height)
    return kernel.run_batch(core, rec.keypoints, rec.t)


def event_dicts(events: list[Any]) -> list[dict[str, Any]]:
    return [{"type": type(e).__name__, **dataclasses.asdict(e)} for e in events]


def stream(kernel: Kernel, rec: Recording) -> list[dict[str, Any]]:
    with running(kernel):
        det = hinge.PhaseDetector(rec.width, rec.height)
        events = [e for i in range(len(rec.t)) for e in det.update(rec.keypoints[i], float(rec.t[i]))]
        events += det.finish(float(rec.t[-1]))
    return event_dicts(events)


def analyzed(kernel: Kernel, rec: Recording) -> dict[str, Any]:
    with running(kernel):
        return hinge.analyze(rec)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_batch_records_and_trace_match_on_the_matrix(name: str, c: Kernel) -> None:
    rec = recording(name)
    c_records, c_trace = batch(c, rec)
    py_records, py_trace = batch(python_kernel(), rec)
    assert c_records.shape[1] == len(EVENT_COLUMNS)
    assert_close(c_records, py_records, f"{name} records")
    assert_close(c_trace, py_trace, f"{name} trace")


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_analyze_results_match_on_the_matrix(name: str, c: Kernel) -> None:
    rec = recording(name)
    c_result, py_result = analyzed(c, rec), analyzed(python_kernel(), rec)
    assert (c_result.pop("implementation"), py_result.pop("implementation")) == ("c", "python")
    assert_close(c_result, py_result, name)


@pytest.mark.parametrize("name", ["good_deadlift", "rdl_mixed", "bad_clip", "rest_between_sets", "distractor_plate_pickup"])
def test_streaming_events_match(name: str, c: Kernel) -> None:
    rec = recording(name)
    c_events, py_events = stream(c, rec), stream(python_kernel(), rec)
    assert any(e["type"] == "RepCompleted" for e in py_events) or name.startswith("distractor")
    assert_close(c_events, py_events, name)


@pytest.mark.parametrize("name", ["good_rdl", "rdl_oblique_30", "deadlift_front_view", "bad_clip", "fps_8", "distractor_second_person"])
def test_every_field_matches_frame_by_frame(name: str, c: Kernel) -> None:
    rec = recording(name, seed=11)
    c_core, py_core = c.Core(PARAMS, rec.width, rec.height), python_kernel().Core(PARAMS, rec.width, rec.height)
    assert_close(core_state(c_core), core_state(py_core), f"{name} initial state")
    for i in range(len(rec.t)):
        t = float(rec.t[i])
        assert c_core.step(rec.keypoints[i], t) == py_core.step(rec.keypoints[i], t), f"{name} bits at frame {i}"
        assert_close(core_state(c_core), core_state(py_core), f"{name} frame {i}")
    assert c_core.finish(0.0) == py_core.finish(0.0)
    assert_close(core_state(c_core), core_state(py_core), f"{name} after finish")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_random_scenarios_match(seed: int, c: Kernel) -> None:
    rng = np.random.default_rng(seed)
    rec, _ = simulate(random_scenario(rng), seed)
    c_records, c_trace = batch(c, rec)
    py_records, py_trace = batch(python_kernel(), rec)
    assert_close(c_records, py_records, f"seed {seed} records")
    assert_close(c_trace, py_trace, f"seed {seed} trace")


def live_times(rec: Recording, seed: int) -> list[Any]:
    """The recording's times as a live source may hand them over: Python, numpy float64 and
    float32 scalars, with repeated, backward, NaN and -inf stamps among them (update skips those)."""
    rng = np.random.default_rng(seed)
    out: list[Any] = []
    for i, t in enumerate(rec.t.tolist()):
        kind = rng.integers(0, 12)
        if kind == 0 and i:
            t = out[-1]  # repeated
        elif kind == 1:
            t = t - 0.5  # backward
        elif kind == 2:
            t = float("nan") if i % 2 else float("-inf")
        out.append([t, np.float64(t), np.float32(t)][i % 3])
    return out


@pytest.mark.parametrize("name", ["good_rdl", "rdl_oblique_30", "bad_clip", "fps_8", "distractor_second_person", "rest_between_sets"])
def test_update_matches_frame_by_frame(name: str, c: Kernel) -> None:
    """Core.update, the station's whole per-frame call: same bits, state, frame count and kept
    trace after every frame, whatever the timestamps."""
    rec = recording(name, seed=5)
    times = live_times(rec, seed=len(name))
    cores = [k.Core(PARAMS, rec.width, rec.height, trace_rows=200) for k in (c, python_kernel())]
    for i, t in enumerate(times):
        bits = [core.update(rec.keypoints[i], t) for core in cores]
        assert bits[0] == bits[1], f"{name} bits at frame {i}"
        assert_close(core_state(cores[0]), core_state(cores[1]), f"{name} frame {i}")
    skipped = len(times) - cores[0].frames
    assert skipped > 0 and cores[0].frames > 200 and cores[0].trace().shape == (200, 6)
    assert cores[0].finish(0.0) == cores[1].finish(0.0)


def test_update_skips_time_that_does_not_move_forward(kernel: Kernel) -> None:
    rec = recording("good_deadlift")
    core = kernel.Core(PARAMS, rec.width, rec.height)
    assert core.frames == 0 and core.trace().shape == (0, 6)
    core.update(rec.keypoints[0], 10.0)
    before = core_state(core)
    for stale in (10.0, 9.0, float("nan"), float("-inf"), -1e300, np.float32(10.0), np.float64(9.5)):
        assert core.update(rec.keypoints[1], stale) == 0
    assert_close(core_state(core), before, "after stale frames")
    core.update(rec.keypoints[1], 10.05)
    assert core.frames == 2 and core.t_prev == 10.05 and core.trace()[:, 0].tolist() == [10.0, 10.05]


def test_float32_timestamps_are_read_as_python_floats(kernel: Kernel) -> None:
    """A float32 time is converted with float(): under numpy 2 it would otherwise make part of
    the reference's arithmetic float32 and the kernels would drift apart."""
    rec = recording("good_rdl")
    t32 = rec.t.astype(np.float32)
    as32, as_float = (kernel.Core(PARAMS, rec.width, rec.height) for _ in range(2))
    stepped = kernel.Core(PARAMS, rec.width, rec.height)
    for i in range(len(t32)):
        assert as32.update(rec.keypoints[i], t32[i]) == as_float.update(rec.keypoints[i], float(t32[i]))
        stepped.step(rec.keypoints[i], t32[i])
    assert type(as32.t_prev) is float and type(as32.trunk_deg) is float and type(stepped.knee_deg) is float
    state, want = core_state(as32), core_state(as_float)
    assert state == {**want, "trace": state["trace"], "tracks": state["tracks"]} and state["tracks"] == want["tracks"]
    np.testing.assert_array_equal(state["trace"], want["trace"])
    assert {k: v for k, v in core_state(stepped).items() if k not in ("frames", "trace")} == {
        k: v for k, v in want.items() if k not in ("frames", "trace")
    }


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=finite_or_not, y=finite_or_not)
def test_hypot_is_pythons_to_the_last_bit(x: float, y: float, c: Kernel) -> None:
    from station.hinge import _speedups

    got, want = _speedups.hypot(x, y), math.hypot(x, y)
    assert got == want or (math.isnan(got) and math.isnan(want)), (x, y, got, want)


def test_hypot_on_random_magnitudes(c: Kernel) -> None:
    from station.hinge import _speedups

    rng = np.random.default_rng(5)
    xs = np.ldexp(rng.random(20000), rng.integers(-1074, 1024, 20000))
    ys = xs * np.ldexp(rng.random(20000), rng.integers(-80, 1, 20000))
    pixels = rng.normal(0.0, 500.0, (20000, 2))
    for x, y in list(zip(xs.tolist(), ys.tolist())) + pixels.tolist():
        assert _speedups.hypot(x, y) == math.hypot(x, y), (x, y)
