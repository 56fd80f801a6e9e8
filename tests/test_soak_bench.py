"""`station bench soak` works end to end on a short run (the 30-minute run is a command, not CI)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from station.benchmarks.soak import slope_per_hour


def test_a_short_soak_samples_a_real_demo_and_reports_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "station", "bench", "soak", "--minutes", "0.2", "--sample-s", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert 11.5 <= result["duration_s"] <= 20 and result["samples"] >= 6
    assert result["frames_processed"] >= 0.5 * 30 * result["duration_s"]  # the demo really ran at ~30 fps
    assert 0 <= result["frames_dropped"] <= result["frames_processed"]
    assert 20 < result["rss_start_mb"] <= result["rss_peak_mb"] < 500  # a Python process's RSS, read from /proc
    assert isinstance(result["rss_slope_mb_per_h"], float) and isinstance(result["rss_slope_after_warmup_mb_per_h"], float)
    assert result["rss_by_minute_mb"] == [result["rss_start_mb"]]  # a 12 s run has one whole minute: its start
    assert min(result["threads_start_end"]) > 3 and min(result["open_files_start_end"]) >= 3
    assert "stopped after" in result["stderr_tail"]  # the demo was stopped cleanly by SIGTERM


def test_the_slope_is_least_squares_per_hour() -> None:
    times_s = [0.0, 600.0, 1200.0, 1800.0]
    assert slope_per_hour(times_s, [50.0 + 5.0 * t / 3600 for t in times_s]) == pytest.approx(5.0)
    assert slope_per_hour(times_s, [50.0, 52.0, 48.0, 50.0]) == pytest.approx(-2.4)  # noise: least squares, not end minus start (0)
    assert slope_per_hour([0.0, 1.0], [1.0, 2.0]) is None  # two points are not a trend


def test_bad_arguments_are_a_one_line_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "station", "bench", "soak", "--minutes", "0"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2 and "must be positive" in done.stderr and "Traceback" not in done.stderr
