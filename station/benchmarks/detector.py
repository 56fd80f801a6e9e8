"""`station bench detector`: per-frame cost of the C and Python detectors, batch throughput.

One run prints, each a median over --repeats runs of the same simulated recording: the cost
per frame of the streaming API for the C kernel and the Python reference and their ratio
(goal: C >= 30x faster), both as the station calls it (`PhaseDetector.update`) and for the
kernel beneath it (`Core.update`, the live frame it wraps, and `Core.step`); the C batch throughput in frames per second over a long
recording (goal: >= 1,000,000 frames/s); and what the per-rep grading, which stays in
Python, costs next to the time a rep takes.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from station.errors import StationError, UsageError

STREAM_GOAL_RATIO = 30.0
BATCH_GOAL_FPS = 1_000_000.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=int, default=7, help="runs per figure; medians are reported (default 7)")
    parser.add_argument("--frames", type=int, default=1_000_000, help="frames in the batch run: the recording repeated (default 1000000)")
    parser.add_argument("--scenario", default="good_deadlift", help="simulated scenario (station.sim.scenario_matrix names)")
    parser.add_argument("--seed", type=int, default=0, help="simulation seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def run(args: argparse.Namespace) -> int:
    from station.hinge._kernel import c_kernel, python_kernel
    from station.sim import scenario_matrix, simulate

    if args.repeats < 1 or args.frames < 1:
        raise UsageError("--repeats and --frames must be at least 1")
    scenarios = {s.name: s for s in scenario_matrix()}
    if args.scenario not in scenarios:
        raise UsageError(f"unknown scenario {args.scenario!r}; choose one of: {', '.join(sorted(scenarios))}")
    try:
        c = c_kernel()
    except ImportError as exc:
        raise StationError(f"the C kernel is not built ({exc}): run `pip install -e .` first") from None
    rec, _ = simulate(scenarios[args.scenario], args.seed)
    py = python_kernel()
    figures: dict[str, Any] = {
        "scenario": args.scenario, "seed": args.seed, "frames": len(rec.t), "repeats": args.repeats,
        "timer_overhead_ns": _timer_overhead_ns(),
    }  # fmt: skip
    for kernel in (c, py):
        figures[kernel.name] = _streaming(kernel, rec, args.repeats, figures["timer_overhead_ns"])
    for level in ("update", "core_update", "step"):
        figures[f"{level}_ratio"] = figures["python"][f"{level}_ns"] / figures["c"][f"{level}_ns"]
    figures["batch"] = _batch(c, py, rec, args.frames, args.repeats)
    figures["grading"] = _grading(c, rec, args.repeats)
    print(json.dumps(figures, indent=2) if args.json else _report(figures))
    return 0


def _median_of(repeats: int, measure: Callable[[], float]) -> float:
    return float(np.median([measure() for _ in range(repeats)]))


def _timer_overhead_ns() -> float:
    """What one perf_counter_ns pair costs: subtracted from every per-frame timing."""
    clock = time.perf_counter_ns
    pairs = [-(clock() - clock()) for _ in range(20000)]
    return float(np.median(pairs))


def _per_frame_ns(call: Callable[[Any, float], Any], frames: list[Any], times: list[float], overhead_ns: float) -> npt.NDArray[np.float64]:
    clock = time.perf_counter_ns
    costs = np.empty(len(frames))
    for i, (kp, t) in enumerate(zip(frames, times)):
        start = clock()
        call(kp, t)
        costs[i] = clock() - start
    return costs - overhead_ns


def _streaming(kernel: Any, rec: Any, repeats: int, overhead_ns: float) -> dict[str, float]:
    """Median cost per frame of PhaseDetector.update, Core.update and Core.step (each run's median, then the median)."""
    import station.hinge as hinge
    from station.hinge._kernel import running
    from station.hinge._layout import pack_params
    from station.settings.hinge import HingeSettings

    frames = [np.ascontiguousarray(kp) for kp in rec.keypoints]  # as the pose model hands them over
    times = rec.t.tolist()
    params = pack_params(HingeSettings())
    update: list[npt.NDArray[np.float64]] = []
    core_update: list[npt.NDArray[np.float64]] = []
    step: list[npt.NDArray[np.float64]] = []
    for _ in range(repeats):
        with running(kernel):
            det = hinge.PhaseDetector(rec.width, rec.height)
        update.append(_per_frame_ns(det.update, frames, times, overhead_ns))
        core_update.append(_per_frame_ns(kernel.Core(params, rec.width, rec.height).update, frames, times, overhead_ns))
        step.append(_per_frame_ns(kernel.Core(params, rec.width, rec.height).step, frames, times, overhead_ns))
    return {
        "update_ns": float(np.median([np.median(u) for u in update])),
        "update_mean_ns": float(np.median([np.mean(u) for u in update])),  # event frames (grading) included
        "core_update_ns": float(np.median([np.median(u) for u in core_update])),
        "step_ns": float(np.median([np.median(s) for s in step])),
    }


def _tiled(rec: Any, n_frames: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]:
    """The recording repeated to n_frames, its times shifted so that they keep increasing."""
    copies = -(-n_frames // len(rec.t))
    period_s = float(rec.t[-1] - rec.t[0]) + 1.0
    t = (rec.t[None, :] + (np.arange(copies) * period_s)[:, None]).ravel()[:n_frames]
    kp = np.ascontiguousarray(np.tile(rec.keypoints, (copies, 1, 1))[:n_frames], dtype=np.float32)
    return kp, np.ascontiguousarray(t)


def _batch(c: Any, py: Any, rec: Any, n_frames: int, repeats: int) -> dict[str, float]:
    """Frames per second: the C batch API on a long recording; the Python one and `analyze` on the recording."""
    import station.hinge as hinge
    from station.hinge._kernel import running
    from station.hinge._layout import pack_params
    from station.settings.hinge import HingeSettings

    params = pack_params(HingeSettings())
    kp, t = _tiled(rec, n_frames)

    def fps(kernel: Any, kp: Any, t: Any) -> float:
        core = kernel.Core(params, rec.width, rec.height)
        start = time.perf_counter()
        kernel.run_batch(core, kp, t)
        return len(t) / (time.perf_counter() - start)

    def analyze_fps(kernel: Any) -> float:
        with running(kernel):
            start = time.perf_counter()
            hinge.analyze(rec)
            return len(rec.t) / (time.perf_counter() - start)

    return {
        "c_fps": _median_of(repeats, lambda: fps(c, kp, t)),
        "c_frames": float(len(t)),
        "python_fps": _median_of(repeats, lambda: fps(py, rec.keypoints, rec.t)),
        "c_analyze_fps": _median_of(repeats, lambda: analyze_fps(c)),
        "python_analyze_fps": _median_of(repeats, lambda: analyze_fps(py)),
    }


def _grading(c: Any, rec: Any, repeats: int) -> dict[str, float]:
    """Per-rep grading (Python) in ms, against the time a rep takes and a frame budget."""
    from station.hinge._layout import EV_REP, EVENT_COLUMNS, pack_params
    from station.hinge.grading import grade_rep
    from station.settings.hinge import HingeSettings

    settings = HingeSettings()
    records, trace = c.run_batch(c.Core(pack_params(settings), rec.width, rec.height), rec.keypoints, rec.t)
    col = {name: i for i, name in enumerate(EVENT_COLUMNS)}
    reps = records[(records[:, col["bits"]].astype(int) & EV_REP) != 0]
    if not len(reps):
        return {"reps": 0.0}

    def per_rep_ms() -> float:
        start = time.perf_counter()
        for r in reps:
            grade_rep(trace, float(r[col["rep_t_start"]]), float(r[col["rep_t_bottom"]]), settings)
        return (time.perf_counter() - start) * 1e3 / len(reps)

    ms = _median_of(repeats, per_rep_ms)
    rep_s = float(np.median(np.diff(reps[:, col["rep_t_lockout"]]))) if len(reps) > 1 else float(rec.t[-1] - rec.t[0])
    return {"reps": float(len(reps)), "ms_per_rep": ms, "rep_s": rep_s, "share_of_time": ms / 1e3 / rep_s}


def _report(f: dict[str, Any]) -> str:
    c, py, b, g = f["c"], f["python"], f["batch"], f["grading"]
    goal_stream = "met" if f["update_ratio"] >= STREAM_GOAL_RATIO else "NOT met"
    goal_batch = "met" if b["c_fps"] >= BATCH_GOAL_FPS else "NOT met"
    lines = [
        f"detector benchmark: '{f['scenario']}' seed {f['seed']}, {f['frames']} frames; medians of {f['repeats']} runs "
        f"(timer overhead {f['timer_overhead_ns']:.0f} ns subtracted)",
        "streaming, median cost per frame:",
        f"  PhaseDetector.update   C {c['update_ns'] / 1e3:7.3f} us   Python {py['update_ns'] / 1e3:7.3f} us   "
        f"ratio {f['update_ratio']:5.1f}x  (goal >= {STREAM_GOAL_RATIO:.0f}x: {goal_stream})",
        f"  Core.update (kernel)   C {c['core_update_ns'] / 1e3:7.3f} us   Python {py['core_update_ns'] / 1e3:7.3f} us   "
        f"ratio {f['core_update_ratio']:5.1f}x",
        f"  Core.step (kernel)     C {c['step_ns'] / 1e3:7.3f} us   Python {py['step_ns'] / 1e3:7.3f} us   "
        f"ratio {f['step_ratio']:5.1f}x",
        f"  update, mean with event and grading frames: C {c['update_mean_ns'] / 1e3:.3f} us, Python {py['update_mean_ns'] / 1e3:.3f} us",
        "batch:",
        f"  C run_batch            {b['c_fps']:12,.0f} frames/s over {b['c_frames']:,.0f} frames "
        f"(goal >= {BATCH_GOAL_FPS:,.0f}: {goal_batch})",
        f"  Python run_batch       {b['python_fps']:12,.0f} frames/s",
        f"  analyze, grading incl. {b['c_analyze_fps']:12,.0f} frames/s with C, {b['python_analyze_fps']:,.0f} with Python",
    ]
    if g.get("reps"):
        lines.append(
            f"grading (Python, once per rep): {g['ms_per_rep']:.2f} ms per rep over {g['reps']:.0f} reps, "
            f"{100 * g['share_of_time']:.3f}% of the {g['rep_s']:.1f} s a rep takes"
        )
    return "\n".join(lines)
