"""Which per-frame kernel runs: the one place that chooses (the C port plugs in here)."""

from __future__ import annotations

from typing import Any


def select() -> tuple[Any, Any, str]:
    """(Core type, run_batch function, IMPLEMENTATION name).

    Only the pure-Python reference exists so far; the C kernel (`_speedups`) will be tried
    here first, with STATION_PUREPYTHON=1 forcing Python and STATION_REQUIRE_C=1 failing
    loudly when the extension is missing.
    """
    from station.hinge._reference import Core, run_batch

    return Core, run_batch, "python"
