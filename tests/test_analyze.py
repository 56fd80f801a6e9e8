"""`station analyze`: the table, the exact result JSON, and one-line errors for bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from station.cli import main
from station.recording import Recording, save

sys.path.insert(0, str(Path(__file__).parent / "hinge"))
from stick import H_PX, W_PX, rdl_knots, timeline  # noqa: E402

REP_KEYS = {"n", "set", "t_start", "t_bottom", "t_lockout", "descent_s", "ascent_s", "keys"}
KEYS = ("unlock_knees", "hips_back_chest_down", "knees_after_hips")


@pytest.fixture
def recording_path(tmp_path: Path) -> Path:
    kp, t = timeline(rdl_knots(3, fault="rounded"), 30.0)
    path = tmp_path / "lift.npz"
    save(path, Recording(kp, t, W_PX, H_PX))
    return path


def check_result_schema(result: dict) -> None:
    """The result JSON contract of HINGE_SPEC (more fields may be added)."""
    assert {"frames", "duration_s", "implementation", "reps", "sets"} <= set(result)
    assert isinstance(result["frames"], int) and isinstance(result["duration_s"], float)
    assert result["implementation"] in ("c", "python")
    for rep in result["reps"]:
        assert REP_KEYS <= set(rep)
        assert rep["t_start"] <= rep["t_bottom"] <= rep["t_lockout"]
        assert set(rep["keys"]) == set(KEYS)
        for grade in rep["keys"].values():
            assert grade["ok"] in (True, False, None)
            assert grade["value"] is None or isinstance(grade["value"], float)
            assert isinstance(grade["cue"], str) and grade["cue"]
    key2 = [rep["keys"]["hips_back_chest_down"] for rep in result["reps"]]
    assert all(g.get("fault") in ("arched", "rounded") for g in key2 if g["ok"] is False)
    for s in result["sets"]:
        assert {"n", "reps", "t_start", "t_end"} <= set(s)
    assert sum(s["reps"] for s in result["sets"]) == len(result["reps"])


def test_json_output_is_the_result_contract(recording_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(recording_path), "--json"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out)
    check_result_schema(result)
    assert result["frames"] == 495 and len(result["reps"]) == 3
    assert all(rep["keys"]["hips_back_chest_down"]["fault"] == "rounded" for rep in result["reps"])
    assert result["sets"][0]["reps"] == 3


def test_table_output(recording_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(recording_path)]) == 0
    out = capsys.readouterr().out
    assert "495 frames" in out and "set 1: 3 reps" in out
    assert out.count("FAIL") == 3 and "(rounded)" in out and "Karate chop" in out


def _write(path: Path, **arrays: object) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


GOOD_T = np.arange(5, dtype=np.float64) / 30.0
GOOD_KP = np.full((5, 17, 3), 0.5, dtype=np.float32)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"keypoints": np.zeros((5, 17, 2), np.float32), "t": GOOD_T, "width": 640, "height": 480}, "shape"),
        ({"keypoints": np.where(np.arange(5)[:, None, None] == 3, np.nan, GOOD_KP), "t": GOOD_T, "width": 640, "height": 480}, "NaN"),
        ({"keypoints": GOOD_KP, "t": GOOD_T[::-1].copy(), "width": 640, "height": 480}, "increasing"),
        ({"keypoints": GOOD_KP, "t": GOOD_T, "width": 640}, "missing"),
        ({"keypoints": GOOD_KP, "t": GOOD_T[:4], "width": 640, "height": 480}, "match"),
    ],
    ids=["wrong-shape", "nan", "time-backwards", "missing-height", "length-mismatch"],
)  # fmt: skip
def test_malformed_files_get_one_line_and_status_2(tmp_path: Path, arrays: dict, message: str) -> None:
    path = _write(tmp_path / "bad.npz", **arrays)
    proc = subprocess.run(
        [sys.executable, "-m", "station", "analyze", str(path), "--json"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr


def test_not_a_zip_and_no_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a recording")
    assert main(["analyze", str(junk)]) == 2
    assert main(["analyze", str(tmp_path / "absent.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "junk.npz" in err[0] and "no such file" in err[1]
