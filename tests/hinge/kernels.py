"""Kernel helpers shared by the detector tests: load either kernel, compare their states."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from station.hinge._kernel import Kernel, c_kernel, flag, python_kernel


def load_kernel(name: str) -> Kernel:
    """The named kernel; the C one skips the test when it is not built, unless STATION_REQUIRE_C=1."""
    if name == "python":
        return python_kernel()
    try:
        return c_kernel()
    except ImportError as exc:
        if flag("STATION_REQUIRE_C"):
            pytest.fail(f"STATION_REQUIRE_C=1 but the C kernel did not load: {exc}")
        pytest.skip(f"the C kernel is not built ({exc}): pip install -e .")


ATOL = 1e-9  # C and Python floats must agree to this (they agree to the bit today)
# Scratch lists of the reference's JointTracks: rewritten before every read, not state.
SCRATCH = {"cand_x", "cand_y", "status", "restart"}


def assert_close(a: Any, b: Any, where: str = "") -> None:
    """Equal structure; floats within ATOL (NaN equals NaN, inf equals inf); all else equal."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, f"{where}: shape {a.shape} != {b.shape}"
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL, equal_nan=True, err_msg=where)
    elif isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), f"{where}: {a!r} != {b!r}"
        same = a == b or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= ATOL
        assert same, f"{where}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            assert_close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{where}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def core_state(core: Any) -> dict[str, Any]:
    """Every field of a core (C members or reference slots), its joint tracks and its kept trace."""
    names = [n for n in python_kernel().Core.__slots__ if n not in ("s", "tracks", "ring")]
    out = {n: getattr(core, n) for n in names}
    out["trace"] = core.trace()
    tracks = core.tracks
    if isinstance(tracks, dict):
        out["tracks"] = tracks
    else:
        out["tracks"] = {n: getattr(tracks, n) for n in type(tracks).__slots__ if n not in SCRATCH}
    return out
