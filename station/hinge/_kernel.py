"""Which per-frame kernel runs: the one place that chooses (the C port, or the Python reference).

The C extension `_speedups` is used when it is built. `STATION_PUREPYTHON=1` forces the
pure-Python reference; without the extension the reference runs with a RuntimeWarning, unless
`STATION_REQUIRE_C=1` (CI, appliances) turns that into an ImportError: from a source checkout,
Python would otherwise import the fallback silently.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from station.hinge import _reference
from station.hinge._layout import EVENT_COLUMNS, TRACE_COLUMNS

F64 = npt.NDArray[np.float64]
ON = ("1", "true", "yes", "on")


class Kernel(NamedTuple):
    """A kernel: its Core type, its batch runner, its name."""

    Core: Any
    run_batch: Any
    name: str


def flag(name: str) -> bool:
    """Whether an on/off environment variable is on ("1", "true", "yes", "on")."""
    return os.environ.get(name, "").strip().lower() in ON


def python_kernel() -> Kernel:
    """The pure-Python reference: the specification."""
    return Kernel(_reference.Core, _reference.run_batch, "python")


@lru_cache(maxsize=1)
def c_kernel() -> Kernel:
    """The C port; ImportError when it is not built (or was built from another layout)."""
    from station.hinge import _speedups

    class Core(_speedups.Core):
        """The C core, its kept trace read back as an array like the reference's."""

        __slots__ = ()

        def trace(self) -> F64:
            return np.frombuffer(self.trace_rows(), dtype=np.float64).reshape(-1, len(TRACE_COLUMNS))

    def run_batch(core: Any, keypoints: Any, t: Any) -> tuple[F64, F64]:
        """The whole recording in one C call, over input checked and converted as the reference does."""
        kp, ts = _reference.batch_arrays(keypoints, t)
        trace = np.empty((kp.shape[0], len(TRACE_COLUMNS)), dtype=np.float64)
        records = np.frombuffer(core.run(kp, ts, trace), dtype=np.float64).reshape(-1, len(EVENT_COLUMNS))
        return records, trace

    return Kernel(Core, run_batch, "c")


def select() -> Kernel:
    """The kernel this process uses (see the module docstring for the environment variables)."""
    if flag("STATION_PUREPYTHON"):
        return python_kernel()
    try:
        return c_kernel()
    except ImportError as exc:
        if flag("STATION_REQUIRE_C"):
            raise ImportError(
                f"STATION_REQUIRE_C=1 but the C kernel station.hinge._speedups did not load ({exc}); "
                "build it with `pip install -e .` (needs gcc and the Python headers), or unset STATION_REQUIRE_C"
            ) from exc
        warnings.warn(
            f"station.hinge: the C kernel is not available ({exc}); using the pure-Python reference, "
            "which is much slower. Build it with `pip install -e .` (set STATION_PUREPYTHON=1 to choose Python "
            "without this warning).",
            RuntimeWarning,
            stacklevel=2,
        )
        return python_kernel()


@contextmanager
def running(kernel: Kernel) -> Iterator[Kernel]:
    """PhaseDetector and analyze built on `kernel` within the block (benchmarks and tests compare kernels)."""
    import station.hinge as hinge

    names = ("Core", "run_batch", "IMPLEMENTATION")
    saved = [getattr(hinge, name) for name in names]
    for name, value in zip(names, (kernel.Core, kernel.run_batch, kernel.name)):
        setattr(hinge, name, value)
    try:
        yield kernel
    finally:
        for name, value in zip(names, saved):
            setattr(hinge, name, value)
