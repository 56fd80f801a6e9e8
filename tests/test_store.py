"""Set history on a real SQLite file: what is kept, across restarts and crashes, and for how long."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from station.config import load_config
from station.errors import ConfigError, StorageError
from station.settings.store import StoreSettings
from station.store import DB_NAME, History
from station.types import KEY_NAMES, KeyGrade, Phase, PhaseChanged, Rep, RepCompleted, SetEnded, SetStarted

DAY_S = 86400.0
NOON = time.mktime((2024, 6, 12, 12, 0, 0, 0, 0, -1))  # a fixed local noon keeps "today" away from midnight


class Clock:
    """Wall clock the test moves by hand."""

    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def rep(n: int, set_n: int = 1, oks: tuple[bool | None, ...] = (True, False, None)) -> RepCompleted:
    keys = {
        name: KeyGrade(ok=ok, value=float(i) + 0.5, cue=f"cue {name}", fault="rounded" if ok is False else None)
        for i, (name, ok) in enumerate(zip(KEY_NAMES, oks))
    }
    t = 10.0 * n
    r = Rep(n=n, set_n=set_n, t_start_s=t, t_bottom_s=t + 1.2, t_lockout_s=t + 2.0, descent_s=1.2, ascent_s=0.8, keys=keys)
    return RepCompleted(t_s=t + 2.0, rep=r)


def one_set(history: History, clock: Clock, set_n: int = 1, reps: int = 3) -> None:
    history.handle(SetStarted(t_s=5.0, set_n=set_n))
    for n in range(1, reps + 1):
        clock.now += 5
        history.handle(rep(n, set_n))
    clock.now += 30
    history.handle(SetEnded(t_s=70.0, set_n=set_n, reps=reps, t_start_s=5.0))


def test_a_set_its_reps_grades_and_tempo(tmp_path: Path) -> None:
    clock = Clock()
    history = History(tmp_path, StoreSettings(state_dir=str(tmp_path)), clock=clock)
    one_set(history, clock)
    history.handle(PhaseChanged(t_s=71.0, phase=Phase.ABSENT))  # ignored
    [s] = history.sets_today()
    assert (s["set_n"], s["reps"], s["t_start_s"], s["t_end_s"], s["interrupted"]) == (1, 3, 5.0, 70.0, 0)
    assert s["started_at"] == NOON and s["ended_at"] == NOON + 45
    assert s["keys"] == {
        "unlock_knees": {"pass": 3, "graded": 3},
        "hips_back_chest_down": {"pass": 0, "graded": 3},
        "knees_after_hips": {"pass": 0, "graded": 0},
    }
    assert s["descent_s"] == pytest.approx(1.2) and s["ascent_s"] == pytest.approx(0.8)
    reps = history.reps_of_set(s["id"])
    assert [r["n"] for r in reps] == [1, 2, 3]
    assert reps[0]["t_bottom_s"] == 11.2 and reps[0]["descent_s"] == 1.2
    assert reps[0]["keys"] == {
        "unlock_knees": {"ok": True, "value": 0.5, "cue": "cue unlock_knees"},
        "hips_back_chest_down": {"ok": False, "value": 1.5, "cue": "cue hips_back_chest_down", "fault": "rounded"},
        "knees_after_hips": {"ok": None, "value": 2.5, "cue": "cue knees_after_hips"},
    }
    history.close()
    assert (tmp_path / DB_NAME).is_file()


def test_history_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    first = History(tmp_path, StoreSettings(), clock=clock)
    one_set(first, clock, reps=2)
    first.close()
    clock.now += 3600
    second = History(tmp_path, StoreSettings(), clock=clock)
    one_set(second, clock, set_n=1, reps=4)  # the detector numbers sets from 1 again after a restart
    recent = second.recent_sets(10)
    assert [(s["set_n"], s["reps"]) for s in recent] == [(1, 4), (1, 2)]
    assert [s["id"] for s in second.sets_today()] == [recent[1]["id"], recent[0]["id"]]
    assert len(second.reps_of_set(recent[1]["id"])) == 2
    assert second.recent_sets(1) == recent[:1]
    second.close()
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    db.close()


def test_each_rep_is_committed_before_handle_returns(tmp_path: Path) -> None:
    history = History(tmp_path, StoreSettings())
    history.handle(SetStarted(t_s=1.0, set_n=1))
    history.handle(rep(1))
    reader = sqlite3.connect(tmp_path / DB_NAME)  # another connection sees only committed data
    try:
        assert reader.execute("SELECT COUNT(*) FROM reps").fetchone() == (1,)
        assert reader.execute("SELECT COUNT(*) FROM grades").fetchone() == (3,)
        assert reader.execute("SELECT reps, ended_at FROM sets").fetchall() == [(1, None)]
    finally:
        reader.close()
        history.close()


def test_reps_survive_a_killed_process_and_the_set_is_closed_as_interrupted(tmp_path: Path) -> None:
    child = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
        from test_store import rep
        from station.settings.store import StoreSettings
        from station.store import History
        from station.types import SetStarted
        h = History(Path({str(tmp_path)!r}), StoreSettings())
        h.handle(SetStarted(t_s=1.0, set_n=1))
        h.handle(rep(1))
        h.handle(rep(2))
        print("written", flush=True)
        os.kill(os.getpid(), 9)  # no close(), no atexit: like a power cut for the process
        """
    )
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9 and proc.stdout == "written\n", proc.stderr
    history = History(tmp_path, StoreSettings())
    [s] = history.recent_sets()
    assert s["reps"] == 2 and s["interrupted"] == 1
    assert s["ended_at"] == max(r["at"] for r in history.reps_of_set(s["id"]))
    history.close()


def test_a_rep_without_a_set_start_opens_one(tmp_path: Path) -> None:
    history = History(tmp_path, StoreSettings())
    history.handle(rep(1, set_n=3))
    history.handle(SetEnded(t_s=30.0, set_n=3, reps=1, t_start_s=10.0))
    history.handle(SetEnded(t_s=90.0, set_n=4, reps=0, t_start_s=80.0))  # an end with nothing before it
    sets = history.recent_sets()
    assert sorted((s["set_n"], s["reps"], s["ended_at"] is not None) for s in sets) == [(3, 1, True), (4, 0, True)]
    history.close()


def test_retention_prunes_old_sets_with_their_reps(tmp_path: Path) -> None:
    clock = Clock(NOON - 40 * DAY_S)
    history = History(tmp_path, StoreSettings(retention_days=30), clock=clock)
    one_set(history, clock)
    clock.now = NOON - 10 * DAY_S
    one_set(history, clock, reps=1)
    history.close()
    clock.now = NOON
    history = History(tmp_path, StoreSettings(retention_days=30), clock=clock)
    assert [s["reps"] for s in history.recent_sets()] == [1]
    assert history.sets_today() == []  # ten days ago is not today
    history.close()
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        assert db.execute("SELECT COUNT(*) FROM reps").fetchone() == (1,)  # cascaded
        assert db.execute("SELECT COUNT(*) FROM grades").fetchone() == (3,)
    db.close()
    keep_all = History(tmp_path, StoreSettings(retention_days=0), clock=Clock(NOON + 1000 * DAY_S))
    assert len(keep_all.recent_sets()) == 1
    keep_all.close()


def test_web_threads_read_while_the_pipeline_writes(tmp_path: Path) -> None:
    history = History(tmp_path, StoreSettings())
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                for s in history.recent_sets(5):
                    history.reps_of_set(s["id"])
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    for set_n in range(1, 6):
        history.handle(SetStarted(t_s=0.0, set_n=set_n))
        for n in range(1, 4):
            history.handle(rep(n, set_n))
        history.handle(SetEnded(t_s=40.0, set_n=set_n, reps=3, t_start_s=0.0))
    stop.set()
    reader.join()
    assert errors == []
    assert [s["reps"] for s in history.recent_sets(10)] == [3] * 5
    history.close()


def test_unusable_places_are_clear_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match=r"cannot open .*: make .* writable by this user or set STATION_STATE_DIR"):
        History(blocker / "state", StoreSettings())
    (tmp_path / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="is not a usable history database .*move it aside"):
        History(tmp_path, StoreSettings())
    newer = tmp_path / "newer"
    newer.mkdir()
    db = sqlite3.connect(newer / DB_NAME)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    db.execute("INSERT INTO schema_version VALUES (99)")
    db.commit()
    db.close()
    with pytest.raises(StorageError, match="schema version 99 is newer"):
        History(newer, StoreSettings())


def test_state_dir_from_the_environment_and_config_errors(tmp_path: Path) -> None:
    assert load_config(None, env={"STATION_STATE_DIR": "/srv/station"}).store.state_dir == "/srv/station"
    assert load_config(None, env={}).store.state_dir == "/var/lib/station"
    with pytest.raises(ConfigError, match=r"state_dir = 'var'; give an absolute path"):
        load_config(None, env={"STATION_STATE_DIR": "var"})
    path = tmp_path / "station.toml"
    path.write_text("[store]\nretention_days = -1\n")
    with pytest.raises(ConfigError, match=r"invalid \[store\] settings .*retention_days = -1"):
        load_config(path, env={})
