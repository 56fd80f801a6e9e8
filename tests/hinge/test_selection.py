"""Which kernel runs: C when built, Python when asked or (loudly) when C is missing; never the
fallback silently where C is required (the flat-layout trap)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import station.hinge as hinge
from station.hinge import _kernel
from station.recording import save
from station.sim import scenario_matrix, simulate
from kernels import load_kernel

REPO = Path(__file__).resolve().parents[2]


def test_the_c_kernel_runs_where_it_is_required() -> None:
    """CI sets STATION_REQUIRE_C=1: there, the station must be running the C kernel."""
    if not _kernel.flag("STATION_REQUIRE_C"):
        pytest.skip("STATION_REQUIRE_C is not set (CI sets it)")
    from station.hinge import _speedups

    assert hinge.IMPLEMENTATION == "c", "STATION_REQUIRE_C=1 but the detector runs the Python reference"
    assert issubclass(hinge.Core, _speedups.Core) and Path(_speedups.__file__).suffix in (".so", ".pyd")
    assert _speedups.ARRAY_HEAD == 1, "the C kernel reads frames through the buffer protocol: numpy's array layout changed?"


def test_purepython_forces_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATION_PUREPYTHON", "1")
    monkeypatch.setenv("STATION_REQUIRE_C", "1")  # an explicit choice of Python is not a missing build
    assert _kernel.select().name == "python"


def test_c_is_chosen_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    load_kernel("c")
    monkeypatch.delenv("STATION_PUREPYTHON", raising=False)
    assert _kernel.select().name == "c"


def _no_c() -> _kernel.Kernel:
    raise ImportError("No module named 'station.hinge._speedups'")


def test_missing_c_warns_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATION_PUREPYTHON", raising=False)
    monkeypatch.delenv("STATION_REQUIRE_C", raising=False)
    monkeypatch.setattr(_kernel, "c_kernel", _no_c)
    with pytest.warns(RuntimeWarning, match="C kernel is not available.*pip install -e"):
        assert _kernel.select().name == "python"


def test_missing_c_fails_loudly_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATION_PUREPYTHON", raising=False)
    monkeypatch.setenv("STATION_REQUIRE_C", "1")
    monkeypatch.setattr(_kernel, "c_kernel", _no_c)
    with pytest.raises(ImportError, match="STATION_REQUIRE_C=1 but the C kernel"):
        _kernel.select()


@pytest.mark.parametrize(("value", "on"), [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("no", False)])
def test_flags(value: str, on: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATION_PUREPYTHON", value)
    assert _kernel.flag("STATION_PUREPYTHON") is on


def _source_copy(tmp_path: Path, with_extension: bool) -> Path:
    """The package as a source checkout holds it (the flat layout), with or without the built .so."""
    ignore = shutil.ignore_patterns("__pycache__", *(() if with_extension else ("*.so", "*.pyd")))
    shutil.copytree(REPO / "station", tmp_path / "station", ignore=ignore)
    return tmp_path


def _run(cwd: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("STATION_PUREPYTHON", "STATION_REQUIRE_C")}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env={**full_env, **env}, capture_output=True, text=True, timeout=60)


IMPORT = "import station.hinge as h, station.hinge._kernel as k; print(h.IMPLEMENTATION, h.__file__)"


def test_flat_layout_without_the_build_warns(tmp_path: Path) -> None:
    """Run from a checkout whose extension was never built: Python runs, and says so."""
    root = _source_copy(tmp_path, with_extension=False)
    out = _run(root, IMPORT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "python" and out.stdout.split()[1].startswith(str(root))
    assert "RuntimeWarning" in out.stderr and "pip install -e ." in out.stderr


def test_flat_layout_without_the_build_fails_when_required(tmp_path: Path) -> None:
    root = _source_copy(tmp_path, with_extension=False)
    out = _run(root, IMPORT, STATION_REQUIRE_C="1")
    assert out.returncode != 0
    assert "ImportError: STATION_REQUIRE_C=1 but the C kernel station.hinge._speedups did not load" in out.stderr


def test_a_build_from_another_layout_is_refused(tmp_path: Path) -> None:
    """An extension built before a setting it reads was renamed must not run on wrong numbers."""
    load_kernel("c")
    root = _source_copy(tmp_path, with_extension=True)
    settings = root / "station" / "settings" / "hinge.py"
    settings.write_text(settings.read_text().replace("min_score:", "min_keypoint_score:"))
    out = _run(root, IMPORT, STATION_REQUIRE_C="1")
    assert out.returncode != 0 and "reads the setting 'min_score'" in out.stderr and "rebuild" in out.stderr
    assert _run(root, IMPORT).stdout.split()[0] == "python"


@pytest.mark.parametrize(("env", "implementation"), [({}, "c"), ({"STATION_PUREPYTHON": "1"}, "python")])
def test_analyze_json_reports_the_implementation(env: dict[str, str], implementation: str, tmp_path: Path) -> None:
    load_kernel("c")
    rec, _ = simulate(scenario_matrix()[0], 3)
    path = tmp_path / "rec.npz"
    save(path, rec)
    station = Path(sys.executable).with_name("station")
    out = subprocess.run([str(station), "analyze", str(path), "--json"], capture_output=True, text=True, timeout=120,
                         env={**{k: v for k, v in os.environ.items() if k != "STATION_PUREPYTHON"}, **env})  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["implementation"] == implementation and result["frames"] == len(rec.t) and result["reps"]
