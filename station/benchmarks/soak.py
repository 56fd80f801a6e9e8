"""`station bench soak`: a real `station demo` at 30 fps for a long time; memory slope and dropped frames.

The demo runs as a child process (its own interpreter, as under systemd). Every few seconds
the resident memory, threads and open files come from /proc/PID, and the processed and dropped
frame counts from its `/api/status`. A leak shows as a positive RSS slope (least squares, MB per
hour) after the warm-up; a pipeline that cannot keep up shows as dropped frames.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.errors import StationError, UsageError

START_TIMEOUT_S = 60.0  # the demo prints its URL after imports and the first simulated scenario
WARMUP_SHARE = 0.1  # the first tenth of the run (imports settle, caches fill) is left out of the slope
MIN_WARMUP_S = 5.0
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Sample:
    """One look at the running demo."""

    t_s: float  # seconds since the first sample
    rss_mb: float
    threads: int
    open_files: int
    frames: int
    dropped: int
    reps: int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=30.0, help="how long the demo runs (default 30)")
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second the simulated camera delivers (default 30)")
    parser.add_argument("--sample-s", type=float, default=5.0, help="seconds between samples (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulated lifter (default 1)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    if args.minutes <= 0 or args.fps <= 0 or args.sample_s <= 0:
        raise UsageError("--minutes, --fps and --sample-s must be positive: e.g. --minutes 30 --fps 30")
    with tempfile.TemporaryDirectory(prefix="station-soak-") as state_dir:
        samples, stderr_tail = soak(args.minutes * 60.0, args.fps, args.sample_s, args.seed, Path(state_dir))
    result = summarise(samples, args.fps)
    result["stderr_tail"] = stderr_tail
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


def soak(duration_s: float, fps: float, sample_s: float, seed: int, state_dir: Path) -> tuple[list[Sample], str]:
    """Run the demo for `duration_s`, sampling every `sample_s`; stop it with SIGTERM at the end."""
    env = {**os.environ, "STATION_STATE_DIR": str(state_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("NOTIFY_SOCKET", None)  # the child is not the service, even when the benchmark runs under systemd
    command = [sys.executable, "-m", "station", "demo", "--port", "0", "--fps", str(fps), "--seed", str(seed)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples: list[Sample] = []
    err_tail: deque[str] = deque(maxlen=20)
    readers: list[threading.Thread] = []
    try:
        url = _wait_for_url(proc)
        # The demo logs a line per rep: an unread pipe would fill and stall its pipeline.
        readers += [_drain(proc.stdout, deque(maxlen=1)), _drain(proc.stderr, err_tail)]
        start = time.monotonic()
        while True:
            samples.append(_sample(proc.pid, url, time.monotonic() - start))
            if samples[-1].t_s >= duration_s or proc.poll() is not None:
                break
            time.sleep(max(0.0, min(sample_s, duration_s - (time.monotonic() - start))))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for reader in readers:
            reader.join(5.0)
    err = "".join(err_tail).strip()
    if proc.returncode != 0:
        raise StationError(f"station demo exited with status {proc.returncode} during the soak: {err[-500:]}")
    return samples, "\n".join(err.splitlines()[-3:])


def _drain(stream: Any, keep: deque[str]) -> threading.Thread:
    """Read a child's pipe to its end in a thread, keeping its last lines."""
    thread = threading.Thread(target=lambda: keep.extend(stream), daemon=True)
    thread.start()
    return thread


def _wait_for_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        line = proc.stdout.readline() if ready else ""
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if found:
            return found.group(0)
        if not line and proc.poll() is not None:
            break
    raise StationError(f"station demo did not start its status page within {START_TIMEOUT_S:.0f} s")


def _sample(pid: int, url: str, t_s: float) -> Sample:
    proc_status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(re.search(r"^VmRSS:\s+(\d+) kB", proc_status, re.M).group(1))  # type: ignore[union-attr]
    threads = int(re.search(r"^Threads:\s+(\d+)", proc_status, re.M).group(1))  # type: ignore[union-attr]
    with urllib.request.urlopen(url + "api/status", timeout=10) as response:
        status = json.load(response)
    health = status["health"]
    reps = sum(s["reps"] for s in status["sets_today"])
    return Sample(
        t_s=t_s,
        rss_mb=rss_kb / 1024,
        threads=threads,
        open_files=len(os.listdir(f"/proc/{pid}/fd")),
        frames=int(health.get("frames", 0)),
        dropped=int(health.get("dropped_frames", 0)),
        reps=reps,
    )


def slope_per_hour(xs_s: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of ys against xs, per hour; None with fewer than 3 points."""
    n = len(xs_s)
    if n < 3:
        return None
    mean_x, mean_y = sum(xs_s) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs_s)
    if sxx == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs_s, ys, strict=True)) / sxx * 3600.0


def summarise(samples: list[Sample], fps: float) -> dict[str, Any]:
    """The soak's figures: RSS start/end/peak and slopes, frames processed and dropped, leaks of threads/files."""
    if len(samples) < 2:
        raise StationError("the soak ended before two samples were taken: run it longer (--minutes)")
    first, last = samples[0], samples[-1]
    warmup_s = max(MIN_WARMUP_S, WARMUP_SHARE * last.t_s)
    steady = [s for s in samples if s.t_s >= warmup_s] or samples[-3:]
    late = [s for s in samples if s.t_s >= last.t_s / 2] or samples[-3:]  # a leak keeps its slope; a cache filling up flattens
    frames = last.frames - first.frames
    dropped = last.dropped - first.dropped
    elapsed_s = last.t_s - first.t_s
    return {
        "duration_s": round(last.t_s, 1),
        "samples": len(samples),
        "fps_asked": fps,
        "fps_processed": round(frames / elapsed_s, 2) if elapsed_s > 0 else None,
        "frames_processed": frames,
        "frames_dropped": dropped,
        "dropped_pct": round(100.0 * dropped / (frames + dropped), 3) if frames + dropped else 0.0,
        "reps_counted": last.reps,
        "rss_start_mb": round(first.rss_mb, 1),
        "rss_end_mb": round(last.rss_mb, 1),
        "rss_peak_mb": round(max(s.rss_mb for s in samples), 1),
        "rss_slope_mb_per_h": _rounded(slope_per_hour([s.t_s for s in samples], [s.rss_mb for s in samples])),
        "rss_slope_after_warmup_mb_per_h": _rounded(slope_per_hour([s.t_s for s in steady], [s.rss_mb for s in steady])),
        "rss_slope_second_half_mb_per_h": _rounded(slope_per_hour([s.t_s for s in late], [s.rss_mb for s in late])),
        "warmup_s": round(warmup_s, 1),
        "threads_start_end": [first.threads, last.threads],
        "rss_by_minute_mb": _by_minute(samples),
        "open_files_start_end": [first.open_files, last.open_files],
    }


def _by_minute(samples: list[Sample]) -> list[float]:
    """The RSS at each whole minute (the first sample at or after it): the shape of the curve, for --json."""
    series: list[float] = []
    for s in samples:
        if s.t_s >= 60.0 * len(series):
            series.append(round(s.rss_mb, 1))
    return series


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def report(result: dict[str, Any]) -> str:
    """The soak's figures as an aligned table."""
    rows = [
        ("duration", f"{result['duration_s']:.0f} s ({result['samples']} samples)"),
        ("frames processed", f"{result['frames_processed']} ({result['fps_processed']} fps of {result['fps_asked']:g} asked)"),
        ("frames dropped", f"{result['frames_dropped']} ({result['dropped_pct']} %)"),
        ("reps counted", str(result["reps_counted"])),
        ("RSS start / end / peak", f"{result['rss_start_mb']} / {result['rss_end_mb']} / {result['rss_peak_mb']} MB"),
        ("RSS slope, whole run", f"{result['rss_slope_mb_per_h']} MB/h"),
        (f"RSS slope after {result['warmup_s']:.0f} s", f"{result['rss_slope_after_warmup_mb_per_h']} MB/h"),
        ("RSS slope, second half", f"{result['rss_slope_second_half_mb_per_h']} MB/h"),
        ("threads start / end", "{} / {}".format(*result["threads_start_end"])),
        ("open files start / end", "{} / {}".format(*result["open_files_start_end"])),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
