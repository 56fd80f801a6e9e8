"""`station bench accuracy --by-view / --by-quality`: the key table for kinds of recording apart."""

from __future__ import annotations

import pytest

from station.cli import main
from station.types import KEY_NAMES


def test_accuracy_benchmark_splits_the_key_table_by_view(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "accuracy", "--sets", "4", "--seed", "1000000", "--by-view"]) == 0
    out = capsys.readouterr().out
    head, side_on = out.split("\nside-on (yaw < 5 deg):\n")
    side_on, oblique = side_on.split("\noblique (yaw 5-45 deg):\n")
    for table in (head, side_on, oblique):
        assert all(key in table for key in ("unlock_knees", "hips_back_chest_down", "knees_after_hips"))
    assert "fault recall" in side_on and "good failed" in oblique


def _graded_counts(table: str) -> list[tuple[int, int]]:
    """(faults, good keys) per key row of a key table: its two whole numbers (shares have a decimal point)."""
    rows = [line.split() for line in table.splitlines() if line.split()[:1] and line.split()[0] in KEY_NAMES]
    counts = [[int(word) for word in row if word.isdigit()] for row in rows]
    return [(faults, good) for faults, good in counts]


def test_accuracy_benchmark_splits_the_key_table_by_clip_quality(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "accuracy", "--sets", "6", "--seed", "1000000", "--by-quality"]) == 0
    out = capsys.readouterr().out
    head, rest = out.split("\nclean clip (noise < 0.33):\n")
    clean, rest = rest.split("\ntypical clip (noise 0.33-0.67):\n")
    typical, poor = rest.split("\npoor clip (noise >= 0.67):\n")
    parts = [_graded_counts(table) for table in (clean, typical, poor)]
    total = _graded_counts(head)
    assert len(total) == 3 and sum(good for _, good in total) > 0
    # Every graded key of the whole run lands in exactly one clip quality.
    assert [tuple(map(sum, zip(*column))) for column in zip(*parts)] == total
