"""`station bench detector` runs end to end and reports its figures (the full run is a command, not CI)."""

from __future__ import annotations

import json

import pytest

from station.cli import main
from kernels import load_kernel


def test_the_benchmark_reports_streaming_costs_ratios_and_batch_throughput(capsys: pytest.CaptureFixture[str]) -> None:
    load_kernel("c")
    assert main(["bench", "detector", "--repeats", "1", "--frames", "20000", "--json"]) == 0
    f = json.loads(capsys.readouterr().out)
    for kernel in ("c", "python"):
        assert f[kernel]["update_ns"] > 0 and f[kernel]["core_update_ns"] > 0 and f[kernel]["step_ns"] > 0
    assert f["update_ratio"] == pytest.approx(f["python"]["update_ns"] / f["c"]["update_ns"])
    assert f["core_update_ratio"] == pytest.approx(f["python"]["core_update_ns"] / f["c"]["core_update_ns"])
    assert f["step_ratio"] > 1.0 and f["batch"]["c_frames"] == 20000 and f["batch"]["c_fps"] > f["batch"]["python_fps"]
    assert f["grading"]["reps"] >= 1 and f["grading"]["ms_per_rep"] > 0


def test_the_text_report_names_both_goals(capsys: pytest.CaptureFixture[str]) -> None:
    load_kernel("c")
    assert main(["bench", "detector", "--repeats", "1", "--frames", "5000", "--scenario", "fps_8"]) == 0
    out = capsys.readouterr().out
    assert "PhaseDetector.update" in out and "Core.update (kernel)" in out and "ratio" in out and "(goal >= 30x" in out
    assert "frames/s over 5,000 frames (goal >= 1,000,000" in out and "grading (Python, once per rep)" in out


@pytest.mark.parametrize("argv", [["--repeats", "0"], ["--scenario", "nope"]])
def test_bad_arguments_are_one_clear_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "detector", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("station bench: error:") and len(err.strip().splitlines()) == 1
