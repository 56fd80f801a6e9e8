"""`station bench pipeline` runs and reports every stage (its numbers are for people, not asserts on speed)."""

from __future__ import annotations

import re

import pytest

from paths import MODEL_PATH
from posehelpers import needs_model
from station.cli import main

pytestmark = [pytest.mark.model, needs_model]


def test_bench_reports_stages_for_both_thread_counts(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "pipeline", "--model", str(MODEL_PATH), "--frames", "12", "--live-s", "0.5", "--live-speed", "4"]
    assert main(args) == 0
    out = capsys.readouterr().out
    rows = {line[:28].strip(): line[28:].split() for line in out.splitlines() if line[:28].strip()}
    for stage in ("decode + resize", "inference", "detector", "everything else"):
        values = [float(v) for v in rows[stage]]
        assert len(values) == 2 and all(v >= 0 for v in values), (stage, values)
    assert all(float(v) > 0 for v in rows["inference"])
    assert re.search(r"overhead / inference\s+\d+\.\d% +\d+\.\d%", out)
    peak = re.search(r"peak resident memory (\d+) MB", out)
    assert peak is not None and 10 < int(peak.group(1)) < 4000
    live = re.search(r"live \(4x .*: (\d+) processed, (\d+) dropped", out)
    assert live is not None and int(live.group(1)) > 0
