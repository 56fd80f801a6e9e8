"""`station bench pipeline` runs and reports every stage (its numbers are for people, not asserts on speed)."""

from __future__ import annotations

import re

import pytest

from paths import MODEL_PATH
from posehelpers import needs_model
from station.cli import main

pytestmark = [pytest.mark.model, needs_model]


def test_bench_reports_stages_and_end_to_end_overhead_for_both_thread_counts(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "pipeline", "--model", str(MODEL_PATH), "--frames", "44", "--live-s", "0.5", "--live-speed", "4"]
    assert main(args) == 0
    out = capsys.readouterr().out
    rows = {line[:36].strip(): line[36:].split() for line in out.splitlines() if line[:36].strip()}
    for stage in ("decode (reader thread)", "resize (crop to input)", "decode + resize", "inference", "detector", "everything else"):
        values = [float(v) for v in rows[stage]]
        assert len(values) == 2 and all(v >= 0 for v in values), (stage, values)
    for t in range(2):  # the sum row is the sum of its parts
        parts = float(rows["decode (reader thread)"][t]) + float(rows["resize (crop to input)"][t])
        assert float(rows["decode + resize"][t]) == pytest.approx(parts, abs=0.002)
    assert all(float(v) > 0 for v in rows["inference"] + rows["decode (reader thread)"])
    assert re.search(r"CPU cost / inference, all stages\s+\d+\.\d% +\d+\.\d% +\(informative", out)

    e2e = re.search(r"end to end, median wall ms/frame \((\d+) frames, blocks of 20 alternating\)", out)
    assert e2e is not None and int(e2e.group(1)) == 2 * (20 - 2)  # two blocks, each less its first 2 frames
    alone = [float(v) for v in rows["inference alone"]]
    whole = [float(v) for v in rows["whole pipeline, as replay runs it"]]
    assert len(alone) == len(whole) == 2 and all(a > 0 for a in alone)
    overhead = re.search(r"pipeline overhead over inference \(wall clock, decode overlapped\)\n\s+(-?\d+\.\d)% +(-?\d+\.\d)% +\(goal <= 10%; 1: (met|NOT met), 2: (met|NOT met)\)", out)
    assert overhead is not None, out
    for t in range(2):  # the printed overhead is whole / alone - 1 of the printed medians
        share = float(overhead.group(1 + t)) / 100
        assert share == pytest.approx(whole[t] / alone[t] - 1, abs=0.002)
        if abs(share - 0.10) > 0.001:  # the verdict uses the unrounded figure
            assert (overhead.group(3 + t) == "met") == (share <= 0.10)

    peak = re.search(r"peak resident memory (\d+) MB", out)
    assert peak is not None and 10 < int(peak.group(1)) < 4000
    live = re.search(r"live \(4x .*: (\d+) processed, (\d+) dropped", out)
    assert live is not None and int(live.group(1)) > 0
