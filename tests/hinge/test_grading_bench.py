"""`station bench accuracy --by-view`: the key table for side-on and oblique recordings apart."""

from __future__ import annotations

import pytest

from station.cli import main


def test_accuracy_benchmark_splits_the_key_table_by_view(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "accuracy", "--sets", "4", "--seed", "1000000", "--by-view"]) == 0
    out = capsys.readouterr().out
    head, side_on = out.split("\nside-on (yaw < 5 deg):\n")
    side_on, oblique = side_on.split("\noblique (yaw 5-45 deg):\n")
    for table in (head, side_on, oblique):
        assert all(key in table for key in ("unlock_knees", "hips_back_chest_down", "knees_after_hips"))
    assert "fault recall" in side_on and "good failed" in oblique
