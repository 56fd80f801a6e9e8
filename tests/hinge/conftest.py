"""Fixtures of the detector tests: both kernels (C and the Python reference) in one run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kernels import load_kernel

from station.hinge._kernel import Kernel, running


@pytest.fixture(params=["c", "python"])
def kernel(request: pytest.FixtureRequest) -> Kernel:
    """Each kernel in turn: its Core, run_batch and name."""
    return load_kernel(request.param)


@pytest.fixture
def use_kernel(kernel: Kernel) -> Iterator[Kernel]:
    """PhaseDetector and analyze running on `kernel` (as `_kernel.select()` would have chosen it)."""
    with running(kernel):
        yield kernel
