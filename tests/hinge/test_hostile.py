"""Hostile input never crashes the process, and both kernels answer it alike (the same results, or
the same exception with the same message): NaN, inf, huge or negative coordinates, scores outside
[0, 1], time running backwards, wrong shapes and dtypes, bad settings, millions of frames,
concurrent use; through step, update and the batch; no reference or memory leaks."""

from __future__ import annotations

import gc
import pickle
import sys
import threading
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import station.hinge as hinge
from station.config import load_config
from station.errors import ConfigError
from station.hinge._kernel import Kernel, python_kernel, running
from station.hinge._layout import N_PARAMS, POSITIVE, pack_params
from station.recording import Recording
from station.settings.hinge import HingeSettings
from station.sim import scenario_matrix, simulate
from kernels import assert_close, core_state, load_kernel

PARAMS = pack_params(HingeSettings())
W_PX, H_PX = 1280, 720
HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

hostile_float = st.one_of(
    st.floats(width=32, allow_nan=True, allow_infinity=True, allow_subnormal=True),
    st.sampled_from([0.0, -0.0, 0.3, 0.29999998, 1.0, 2.0, -1.0, 1e-45, 1e30, -1e30, 3.4e38, -3.4e38, float("nan")]),
)
hostile_time = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 1e300, -1e300, float("nan"), float("inf"), float("-inf")]),
)


@pytest.fixture(scope="module")
def c() -> Kernel:
    return load_kernel("c")


@lru_cache(maxsize=None)
def lifting() -> Recording:
    """A real-looking recording (two deadlifts sets) for the hostile edits to disturb."""
    return simulate(replace(scenario_matrix()[1], reps_per_set=(3,), walk_in=False), 2)[0]


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", result) or ("raised", (exception type, message)): what a call did, comparable across kernels."""
    try:
        return "ok", fn()
    except Exception as exc:  # the comparison is the point: the same exception from both kernels
        return "raised", (type(exc), str(exc))


def assert_same_outcome(c_out: tuple[str, Any], py_out: tuple[str, Any], where: str) -> None:
    assert c_out[0] == py_out[0], f"{where}: C {c_out} vs Python {py_out}"
    if c_out[0] == "raised":
        assert c_out[1][0] is py_out[1][0], f"{where}: C raised {c_out[1]}, Python {py_out[1]}"
        assert c_out[1][1] == py_out[1][1], f"{where}: C said {c_out[1][1]!r}, Python {py_out[1][1]!r}"
    else:
        assert_close(c_out[1], py_out[1], where)


def both_batches(c: Kernel, kp: Any, t: Any, width: float = W_PX, height: float = H_PX, params: Any = PARAMS) -> None:
    """Both kernels' batch over the same input: the same records and trace, or the same exception."""
    outs = []
    for kernel in (c, python_kernel()):
        core = outcome(lambda: kernel.Core(params, width, height))
        outs.append(core if core[0] == "raised" else outcome(lambda: kernel.run_batch(core[1], kp, t)))
    assert_same_outcome(outs[0], outs[1], "batch")


def both_streams(c: Kernel, frames: list[Any], times: list[Any], method: str = "step") -> None:
    """Both kernels fed frame by frame (Core.step or Core.update): the same bits or exception
    each frame, the same state after (trace and frame count included)."""
    cores = [c.Core(PARAMS, W_PX, H_PX, trace_rows=64), python_kernel().Core(PARAMS, W_PX, H_PX, trace_rows=64)]
    for i, (frame, t) in enumerate(zip(frames, times)):
        outs = [outcome(lambda: getattr(core, method)(frame, t)) for core in cores]
        assert_same_outcome(outs[0], outs[1], f"{method} {i}")
        if outs[0][0] == "raised" and outs[0][1][0] in (ZeroDivisionError, OverflowError):
            return  # raised mid-step: the reference's state is half-updated, not compared
    assert_close(core_state(cores[0]), core_state(cores[1]), "state")


@settings(max_examples=150, deadline=None, suppress_health_check=HEALTH)
@given(
    kp=hnp.arrays(np.float32, st.tuples(st.integers(0, 40), st.just(17), st.just(3)), elements=hostile_float),
    t=st.lists(hostile_time, min_size=40, max_size=40),
    size=st.sampled_from([(1, 1), (640, 480), (720, 1280), (10**9, 3)]),
)
def test_random_garbage_frames(kp: np.ndarray, t: list[float], size: tuple[int, int], c: Kernel) -> None:
    n = kp.shape[0]
    ts = np.asarray(t[:n], dtype=np.float64)
    both_batches(c, kp, ts, *size)
    both_streams(c, list(kp), ts.tolist())
    both_streams(c, list(kp), list(t[:n]), "update")


@st.composite
def disturbed(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """A window of a real recording with hostile values and timestamps written into it."""
    rec = lifting()
    start = draw(st.integers(0, len(rec.t) - 50))
    stop = draw(st.integers(start + 1, min(start + 400, len(rec.t))))
    kp, t = rec.keypoints[start:stop].copy(), rec.t[start:stop].copy()
    n = len(t)
    for _ in range(draw(st.integers(0, 30))):
        kp[draw(st.integers(0, n - 1)), draw(st.integers(0, 16)), draw(st.integers(0, 2))] = draw(hostile_float)
    for _ in range(draw(st.integers(0, 3))):  # whole frames gone, or scaled far off the image
        i = draw(st.integers(0, n - 1))
        with np.errstate(all="ignore"):
            kp[i, :, : draw(st.integers(1, 3))] *= draw(st.sampled_from([np.nan, np.inf, -1.0, 1e6, 0.0]))
    for _ in range(draw(st.integers(0, 5))):
        i = draw(st.integers(0, n - 1))
        t[i] = draw(st.one_of(hostile_time, st.just(float(t[max(i - 1, 0)])), st.just(float(t[i]) - 5.0)))
    return kp, t


@settings(max_examples=120, deadline=None, suppress_health_check=HEALTH)
@given(case=disturbed())
def test_disturbed_recordings(case: tuple[np.ndarray, np.ndarray], c: Kernel) -> None:
    kp, t = case
    both_batches(c, kp, t)
    both_streams(c, list(kp), t.tolist())
    with np.errstate(over="ignore"):
        t32 = t.astype(np.float32)
    both_streams(c, list(kp), [t32[i] if i % 2 else t[i] for i in range(len(t))], "update")  # float32 and float64 scalars


@settings(max_examples=40, deadline=None, suppress_health_check=HEALTH)
@given(case=disturbed())
def test_phase_detector_on_disturbed_recordings(case: tuple[np.ndarray, np.ndarray], c: Kernel) -> None:
    """Through the station's own streaming API (grading included): the same events or error."""
    kp, t = case

    def run() -> list[str]:
        det = hinge.PhaseDetector(W_PX, H_PX)
        events = [e for i in range(len(t)) for e in det.update(kp[i], float(t[i]))] + det.finish(float(t[-1]))
        return [repr(e) for e in events]

    outs = []
    for kernel in (c, python_kernel()):
        with running(kernel):
            outs.append(outcome(run))
    assert_same_outcome(outs[0], outs[1], "PhaseDetector")


@settings(max_examples=60, deadline=None, suppress_health_check=HEALTH)
@given(values=st.lists(st.one_of(hostile_time, st.sampled_from([0.0, -0.0, -1.0, 1e-320])), min_size=N_PARAMS, max_size=N_PARAMS))
def test_hostile_settings(values: list[float], c: Kernel) -> None:
    """Zero, negative or NaN thresholds: the same results, or the same ZeroDivisionError/OverflowError."""
    rec = lifting()
    base = list(PARAMS)
    mixed = [v if i % 3 == 0 else base[i] for i, v in enumerate(values)]  # some sane, some not
    for params in (values, mixed):
        both_batches(c, rec.keypoints[:300], rec.t[:300], params=params)


@pytest.mark.parametrize("name", sorted(POSITIVE))
@pytest.mark.parametrize("value", [0.0, -0.5, float("nan")])
def test_settings_no_kernel_can_run_on_are_a_config_error(name: str, value: float, use_kernel: Kernel) -> None:
    """A zero or negative time constant (or divisor) is refused when the detector is built, naming
    the setting and how to fix it, not a ZeroDivisionError on some later frame."""
    settings = replace(HingeSettings(), **{name: value})
    with pytest.raises(ConfigError, match=rf"^\[hinge\] {name} (must be positive|is NaN).*STATION_HINGE__{name.upper()}"):
        hinge.PhaseDetector(W_PX, H_PX, settings)
    with pytest.raises(ConfigError, match=name):
        hinge.analyze(lifting(), settings)


def test_a_config_layer_with_a_zero_window_is_refused_at_construction(use_kernel: Kernel) -> None:
    refused = r"top_base_s must be positive \(the time constant of the lockout angle"
    with pytest.raises(ConfigError, match=refused):
        load_config(env={"STATION_HINGE__TOP_BASE_S": "0"})  # refused when the configuration loads
    with pytest.raises(ConfigError, match=refused):
        hinge.PhaseDetector(W_PX, H_PX, replace(HingeSettings(), top_base_s=0.0))  # and by the detector itself
    ok = replace(HingeSettings(), top_base_s=1e-6, set_rest_s=float("inf"))  # tiny but positive, or infinite: valid
    assert len(pack_params(ok)) == N_PARAMS
    with pytest.raises(ConfigError, match="min_score must be a number, got 'high'"):
        pack_params(replace(HingeSettings(), min_score="high"))  # type: ignore[arg-type]


def _frame(**kw: Any) -> np.ndarray:
    return np.ascontiguousarray(lifting().keypoints[40], **kw)


def _object_frame(index: tuple[int, int], value: Any) -> np.ndarray:
    out = _frame().astype(object)
    out[index] = value
    return out


BAD_FRAMES: dict[str, Callable[[], Any]] = {
    "list": lambda: _frame().tolist(),
    "none": lambda: None,
    "too short": lambda: _frame()[:5],
    "scalar": lambda: np.float32(0.5),
    "17x4": lambda: np.concatenate([_frame(), np.ones((17, 1), np.float32)], axis=1),
    "flat 51": lambda: _frame().ravel(),
    "transposed": lambda: _frame().T,
    "fortran order": lambda: np.asfortranarray(_frame()),
    "strided": lambda: np.repeat(_frame(), 2, axis=0)[::2],
    "float64": lambda: _frame(dtype=np.float64),
    "float16": lambda: _frame(dtype=np.float16),
    "big-endian": lambda: _frame(dtype=">f4"),
    "int64": lambda: (_frame() * 1000).astype(np.int64),
    "bool": lambda: _frame() > 0.5,
    "complex": lambda: _frame(dtype=np.complex128),
    "strings": lambda: _frame().astype(str),
    "None in a score": lambda: _object_frame((11, 2), None),
    "None in an eye": lambda: _object_frame((1, 0), None),
    "floats as objects": lambda: _frame().astype(object),
    "0-d": lambda: np.array(0.5, np.float32),
    "3 frames": lambda: lifting().keypoints[40:43],
    "matrix-like subclass": lambda: _frame().view(np.recarray),
    "memoryview": lambda: _frame().data,
    "unpickled": lambda: pickle.loads(pickle.dumps(_frame())),  # its float32 dtype is a copy
    "float32 with metadata": lambda: _frame(dtype=np.dtype(np.float32, metadata={"unit": "1"})),
    "unaligned": lambda: np.frombuffer(b"x" + _frame().tobytes(), np.float32, offset=1).reshape(17, 3),
    "read-only": lambda: np.frombuffer(_frame().tobytes(), np.float32).reshape(17, 3),
    "broadcast": lambda: np.broadcast_to(_frame()[11], (17, 3)),
    "reversed rows": lambda: _frame()[::-1],
}


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
@pytest.mark.parametrize("t", [10.0, float("nan"), -1e300, "soon", "10.5", None, np.float32(10.0), 10])
@pytest.mark.parametrize("method", ["step", "update"])
def test_wrong_frames(name: str, t: Any, method: str, c: Kernel) -> None:
    """Odd frames and times among good ones: read alike (converted exactly) or refused alike, with
    the reference's message, and nothing stepped by a refused frame."""
    frame = BAD_FRAMES[name]()
    rec = lifting()
    warm = list(rec.keypoints[:40]) + [frame, rec.keypoints[40]]
    times = rec.t[:40].tolist() + [t, 11.0]
    both_streams(c, warm, times, method)


@pytest.mark.parametrize("name", ["17x4", "too short", "list", "complex", "fortran order", "float16", "int64"])
def test_phase_detector_reads_or_refuses_frames_alike(name: str, c: Kernel) -> None:
    rec = lifting()
    outs = []
    for kernel in (c, python_kernel()):
        with running(kernel):
            det = hinge.PhaseDetector(rec.width, rec.height)
        for i in range(40):
            det.update(rec.keypoints[i], float(rec.t[i]))
        outs.append(outcome(lambda: (det.update(BAD_FRAMES[name](), 10.0), core_state(det._core))))
    assert_same_outcome(outs[0], outs[1], name)


def test_wrong_shapes_are_one_clear_line(kernel: Kernel) -> None:
    core = kernel.Core(PARAMS, W_PX, H_PX)
    for method in (core.step, core.update):
        with pytest.raises(ValueError, match=r"^keypoints must have shape \(17, 3\) .*got \(17, 4\)$"):
            method(BAD_FRAMES["17x4"](), 1.0)
        with pytest.raises(ValueError, match=r"got \(5, 3\)$"):
            method(BAD_FRAMES["too short"](), 1.0)
        with pytest.raises(TypeError, match="^keypoints must be a numpy array of shape \\(17, 3\\), got list$"):
            method(BAD_FRAMES["list"](), 1.0)
        with pytest.raises(TypeError, match="^keypoints must hold real numbers .*got dtype complex128$"):
            method(BAD_FRAMES["complex"](), 1.0)
    with pytest.raises(ValueError, match=r"^keypoints must have shape \(N, 17, 3\), got \(3, 17, 4\)$"):
        kernel.run_batch(core, np.zeros((3, 17, 4), np.float32), np.arange(3.0))
    with pytest.raises(ValueError, match=r"^t must have shape \(3,\) to match keypoints, got \(2,\)$"):
        kernel.run_batch(core, np.zeros((3, 17, 3), np.float32), np.arange(2.0))
    assert core.t_prev == -1e300 and core.frames == 0  # nothing was stepped


BAD_BATCHES: dict[str, Callable[[Recording], tuple[Any, Any]]] = {
    "lists": lambda r: (r.keypoints.tolist(), r.t.tolist()),
    "5 keypoints": lambda r: (r.keypoints[:, :5], r.t),
    "17x4": lambda r: (np.concatenate([r.keypoints, r.keypoints[:, :, :1]], axis=2), r.t),
    "flat 51": lambda r: (r.keypoints.reshape(len(r.t), 51), r.t),
    "int keypoints": lambda r: ((r.keypoints * 500).astype(np.int32), r.t),
    "float16": lambda r: (r.keypoints.astype(np.float16), r.t),
    "float64": lambda r: (r.keypoints.astype(np.float64), r.t),
    "every other frame": lambda r: (r.keypoints[::2], r.t[::2]),
    "object": lambda r: (r.keypoints.astype(object), r.t),
    "t too short": lambda r: (r.keypoints, r.t[:-3]),
    "t too long": lambda r: (r.keypoints, np.concatenate([r.t, r.t[-1:] + 1.0])),
    "t int": lambda r: (r.keypoints, (r.t * 1000).astype(np.int64)),
    "t float32": lambda r: (r.keypoints, r.t.astype(np.float32)),
    "t column": lambda r: (r.keypoints, r.t[:, None]),
    "t backwards": lambda r: (r.keypoints, r.t[::-1].copy()),
    "t constant": lambda r: (r.keypoints, np.zeros_like(r.t)),
    "empty": lambda r: (r.keypoints[:0], r.t[:0]),
}


@pytest.mark.parametrize("name", sorted(BAD_BATCHES))
def test_wrong_batches(name: str, c: Kernel) -> None:
    rec = lifting()
    small = Recording(rec.keypoints[:200], rec.t[:200], rec.width, rec.height)
    kp, t = BAD_BATCHES[name](small)
    both_batches(c, kp, t)


@pytest.mark.parametrize(
    ("params", "width", "height"),
    [(PARAMS[:-1], 640, 480), (None, 640, 480), (["x"] * N_PARAMS, 640, 480), (PARAMS, "640", "480"),
     (PARAMS, None, 480), (PARAMS, "wide", 480), (list(PARAMS), 0, 0), (tuple(PARAMS), -5, float("nan"))],
)  # fmt: skip
def test_wrong_constructor_arguments(params: Any, width: Any, height: Any, c: Kernel) -> None:
    rec = lifting()
    both_batches(c, rec.keypoints[:100], rec.t[:100], width, height, params=params)


def test_the_c_batch_call_rejects_bad_buffers_clearly(c: Kernel) -> None:
    rec = lifting()
    kp, t = np.ascontiguousarray(rec.keypoints[:100]), np.ascontiguousarray(rec.t[:100])
    core = c.Core(PARAMS, W_PX, H_PX)
    trace = np.empty((100, 6))
    cases: list[tuple[tuple[Any, ...], type[Exception], str]] = [
        ((kp[:, :5].copy(), t, trace), ValueError, r"shape \(N, 17, 3\), got \(100, 5, 3\)"),
        ((kp.astype(np.int32), t, trace), TypeError, "float32 or float64"),
        ((kp[::2], t[::2], trace[:50]), ValueError, "C-contiguous"),
        ((kp.tolist(), t, trace), TypeError, "numpy array"),
        ((kp, t[:99], trace), ValueError, r"t must have shape \(100,\)"),
        ((kp, t.astype(np.float32), trace), TypeError, "t must be float64"),
        ((kp, t, np.empty((100, 5))), ValueError, r"trace must be .* \(100, 6\)"),
        ((kp, t, np.empty((100, 6), np.float32)), ValueError, "trace must be"),
        ((kp, t, np.broadcast_to(np.empty(6), (100, 6))), ValueError, "trace must be"),
        ((kp, t), TypeError, "3 arguments"),
    ]
    for args, error, message in cases:
        with pytest.raises(error, match=message):
            core.run(*args)
    with pytest.raises(TypeError, match="2 arguments"):
        core.step(kp[0])
    with pytest.raises(TypeError, match=r"^update\(\) takes 2 arguments \(keypoints, t\), got 3$"):
        core.update(kp[0], 1.0, 2.0)
    assert core.t_prev == -1e300  # nothing was stepped by the refused calls


def test_millions_of_frames(c: Kernel) -> None:
    """A 1.2M-frame recording in one batch and 2M frames streamed: no crash, consistent output."""
    rec = lifting()
    reps = 1_200_000 // len(rec.t) + 1
    kp = np.tile(rec.keypoints, (reps, 1, 1))
    t = (rec.t[None, :] + (np.arange(reps) * (rec.t[-1] + 1.0))[:, None]).ravel()
    records, trace = c.run_batch(c.Core(PARAMS, rec.width, rec.height), kp, t)
    assert len(t) > 1_200_000 and trace.shape == (len(t), 6)
    np.testing.assert_array_equal(trace[:, 0], t)
    first, _ = c.run_batch(c.Core(PARAMS, rec.width, rec.height), rec.keypoints, rec.t)
    reps_once = int(first[:, 4].max())
    assert reps_once >= 2 and int(records[:, 4].max()) >= reps * reps_once * 0.9  # rep_n keeps counting
    noise = np.random.default_rng(0).uniform(-2.0, 2.0, (1_000_000, 17, 3)).astype(np.float32)
    noise[::7] = np.nan
    c.run_batch(c.Core(PARAMS, W_PX, H_PX), noise, np.arange(1_000_000) / 30.0)
    frames = list(noise[:1000])
    core = c.Core(PARAMS, W_PX, H_PX)
    step = core.step
    for i in range(1_000_000):
        step(frames[i % 1000], i * 0.01)
    assert core.t_prev == pytest.approx(999_999 * 0.01)
    core = c.Core(PARAMS, W_PX, H_PX, trace_rows=1000)
    update = core.update
    for i in range(1_000_000):
        update(frames[i % 1000], i * 0.01)
    assert core.frames == 1_000_000 and core.trace()[0, 0] == pytest.approx(999_000 * 0.01)


def test_a_batch_releases_the_gil_and_guards_its_core(c: Kernel) -> None:
    rec = lifting()
    kp = np.tile(rec.keypoints, (1_500_000 // len(rec.t) + 1, 1, 1))
    t = np.arange(len(kp)) / 30.0
    core = c.Core(PARAMS, W_PX, H_PX)
    started, result = threading.Event(), {}

    def work() -> None:
        started.set()
        result["out"] = c.run_batch(core, kp, t)

    worker = threading.Thread(target=work)
    worker.start()
    started.wait()
    refused = 0
    while worker.is_alive():
        for method in (core.step, core.update):
            try:
                method(kp[0], -1e300)  # a stale time: changes nothing if the batch has not begun
            except RuntimeError as exc:
                assert "batch in another thread" in str(exc)
                refused += 1
    worker.join()
    assert refused > 0, "the main thread never ran while the batch did (GIL held?) or the core was not guarded"
    assert result["out"][1].shape == (len(t), 6)


def _churn(c: Kernel, rec: Recording, odd: list[Any]) -> None:
    """Every C entry point once, the error paths included (`odd`: frames read the slow ways)."""
    core = c.Core(PARAMS, rec.width, rec.height, trace_rows=64)
    for i in range(120):
        core.update(rec.keypoints[i], rec.t[i])
        core.update(rec.keypoints[i], np.float32(rec.t[i]))  # stale: skipped
        core.step(odd[i % len(odd)], float(rec.t[i]) + 0.01)
    assert core.trace().shape == (64, 6) and isinstance(core.tracks, dict)
    core.finish(None)
    c.run_batch(c.Core(PARAMS, rec.width, rec.height), rec.keypoints[:300], rec.t[:300])
    c.run_batch(c.Core(PARAMS, rec.width, rec.height), rec.keypoints[:30].astype(np.float16), rec.t[:30])
    for bad in (None, [1.0, 2.0], rec.keypoints[0, :5], rec.keypoints[0].astype(object)):
        for method in (core.step, core.update):
            try:
                method(bad, 1e9)
            except (TypeError, ValueError):
                pass
    for bad_t in ("soon", None):
        try:
            core.update(rec.keypoints[0], bad_t)
        except (TypeError, ValueError):
            pass
    for args in ((rec.keypoints[:10, :5], rec.t[:10], np.empty((10, 6))), (rec.keypoints[:10], rec.t[:9], np.empty((10, 6)))):
        try:
            core.run(*args)
        except ValueError:
            pass
    for bad_params in (PARAMS[:3], ["x"] * N_PARAMS):
        try:
            c.Core(bad_params, 1, 1)
        except ValueError:
            pass


def test_no_reference_or_memory_leaks(c: Kernel) -> None:
    """Hundreds of rounds through every C path: refcounts, live blocks and traced bytes stay flat.
    (A leak of one object or buffer per call would add hundreds; caches warm up first.)"""
    rec = lifting()
    odd = [rec.keypoints[50].astype(np.float16), np.asfortranarray(rec.keypoints[51]), pickle.loads(pickle.dumps(rec.keypoints[52]))]
    watched = (rec.keypoints, rec.t, PARAMS, c.Core, *odd)
    for _ in range(300):
        _churn(c, rec, odd)
    gc.collect()
    refs = [sys.getrefcount(x) for x in watched]
    blocks = sys.getallocatedblocks()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(400):
            _churn(c, rec, odd)
        gc.collect()
        grown_bytes = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    gc.collect()
    assert [sys.getrefcount(x) for x in watched] == refs
    assert sys.getallocatedblocks() - blocks < 200, "Python objects leak"
    assert grown_bytes < 64 * 1024, f"{grown_bytes} bytes more after 400 rounds: C buffers leak"


def test_phase_detector_rejects_a_wrong_shape_with_either_kernel(kernel: Kernel, use_kernel: Kernel) -> None:
    det = hinge.PhaseDetector(W_PX, H_PX)
    with pytest.raises(ValueError, match=r"^keypoints must have shape \(17, 3\) .*got \(17, 2\)$"):
        det.update(np.zeros((17, 2), np.float32), 1.0)
    assert det.update(np.full((17, 3), np.nan, np.float32), float("nan")) == []
    assert det.update(np.full((17, 3), np.inf, np.float32), 1.0) == []
