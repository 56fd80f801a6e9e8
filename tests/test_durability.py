"""Nothing counted is lost: a locked database, a full disk, a process killed mid-set.

Real SQLite files, a real lock held by another connection, a real full filesystem (a tiny
tmpfs; SQLite's max_page_count where mounting is not allowed), real `station` processes
killed with SIGKILL, and the status page over HTTP.
"""

from __future__ import annotations

import errno
import json
import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from faulthelpers import get_json, wait_for
from station.recording import save
from station.settings.store import StoreSettings
from station.sim import scenario_matrix, simulate
from station.status import StatusHub
from station.store import DB_NAME, History
from station.store_buffer import BufferedHistory
from station.types import KEY_NAMES, KeyGrade, Rep, RepCompleted, SetEnded, SetStarted

SHOWN = re.compile(r": set (\d+) rep (\d+) shown")


def rep(n: int, set_n: int = 1) -> RepCompleted:
    keys = {name: KeyGrade(ok=True, value=1.0, cue="good") for name in KEY_NAMES}
    t = 10.0 * n
    return RepCompleted(t_s=t + 2, rep=Rep(n, set_n, t, t + 1, t + 2, 1.0, 1.0, keys))


def stored(path: Path) -> tuple[list[tuple[int, int, bool, int]], list[tuple[int, int]]]:
    """(set_n, reps, ended, interrupted) per set and (set_n, n) per rep, in the order written, read by another connection."""
    with sqlite3.connect(path) as db:
        sets = [(s, r, e is not None, i) for s, r, e, i in db.execute("SELECT set_n, reps, ended_at, interrupted FROM sets ORDER BY id")]
        reps = db.execute("SELECT s.set_n, r.n FROM reps r JOIN sets s ON s.id = r.set_id ORDER BY r.id").fetchall()
    return sets, reps


class Station:
    """A real `station` process; its stdout lines are collected by a thread."""

    def __init__(self, args: list[str], state_dir: Path) -> None:
        env = {**os.environ, "STATION_STATE_DIR": str(state_dir), "STATION_PIN_FACTORY": "mock", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "station", *args, "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        first = self._read_line(30)
        found = re.search(r"http://127\.0\.0\.1:\d+/", first)
        if not found:
            self.proc.kill()
            raise AssertionError(f"no URL from station: {first!r} {self.proc.communicate()[1][-2000:]}")
        self.url = found.group(0)

    def _read_line(self, timeout_s: float) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        line = self.proc.stdout.readline() if ready else ""
        if line:
            self.lines.append(line)
        return line

    def shown(self) -> list[tuple[int, int]]:
        return [(int(m[1]), int(m[2])) for line in self.lines if (m := SHOWN.search(line))]

    def read_until(self, predicate: Callable[[], bool], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            assert time.monotonic() < deadline and self.proc.poll() is None, f"station ended or timed out: {self.lines}"
            self._read_line(deadline - time.monotonic())

    def kill(self) -> None:
        """SIGKILL, as a power cut to the process; lines it printed before dying are still read."""
        self.proc.send_signal(signal.SIGKILL)
        out, _ = self.proc.communicate(timeout=10)
        self.lines += out.splitlines(keepends=True)
        assert self.proc.returncode == -signal.SIGKILL

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        self.lines += out.splitlines(keepends=True)
        assert self.proc.returncode == 0 and "Traceback" not in err, err
        return err


def test_a_rep_shown_survives_sigkill_mid_set_and_a_restart(tmp_path: Path) -> None:
    scenario = replace(scenario_matrix()[0], reps_per_set=(8,), walk_in=False, walk_out=False)
    recording, _ = simulate(scenario, 3)
    save(tmp_path / "set.npz", recording)
    state = tmp_path / "state"
    station = Station(["run", "--source", str(tmp_path / "set.npz"), "--speed", "3"], state)
    station.read_until(lambda: len(station.shown()) >= 4, 60)
    station.kill()  # the instant the 4th rep's line is out: its LEDs are lit, and nothing is flushed on exit
    shown = station.shown()
    assert shown[:4] == [(1, 1), (1, 2), (1, 3), (1, 4)] and len(shown) < 8  # killed mid-set
    sets, reps = stored(state / DB_NAME)
    assert reps[: len(shown)] == shown and len(reps) <= len(shown) + 1  # every rep shown is on disk, in order
    assert sets == [(1, len(reps), False, 0)]  # the set is still open: nobody closed it

    restarted = Station(["demo"], state)  # the next boot
    status = get_json(restarted.url + "api/status")
    restarted.stop()
    sets, reps_after = stored(state / DB_NAME)
    assert reps_after[: len(reps)] == reps and sets[0] == (1, len(reps), True, 1)  # kept, closed as interrupted
    assert status["sets_today"][0]["reps"] == len(reps)  # and the page lists it


def test_a_locked_database_keeps_reps_in_memory_and_the_page_says_so(tmp_path: Path) -> None:
    state = tmp_path / "state"
    station = Station(["demo", "--speed", "6", "--seed", "4"], state)
    lock = sqlite3.connect(state / DB_NAME, isolation_level=None)
    try:
        station.read_until(lambda: len(station.shown()) >= 1, 60)
        lock.execute("BEGIN EXCLUSIVE")  # another program (a backup, the sqlite3 shell) holds the write lock
        locked_at = len(station.shown())
        waiting = wait_for(lambda: (h := get_json(station.url + "api/status")["health"]["history"])["pending_reps"] >= 2 and h, 60, "reps waiting")
        assert "database is locked" in waiting["error"]
        assert re.fullmatch(r"history not saved: \d+ reps waiting \(the database is locked by another program\)", waiting["message"])
        assert lock.execute("SELECT COUNT(*) FROM reps").fetchone()[0] <= locked_at  # none reached the file meanwhile
        status = get_json(station.url + "api/status")
        assert status["health"]["fps"] > 5 and status["state"] != "fault"  # counting went on at full rate
        lock.execute("ROLLBACK")  # released
        wait_for(lambda: get_json(station.url + "api/status")["health"]["history"]["pending"] == 0, 30, "the backlog written")
        health = get_json(station.url + "api/status")["health"]["history"]
        assert health["error"] is None and health["message"] is None and health["failures"] >= 1
    finally:
        lock.close()
        station.stop()
    shown = station.shown()
    _, reps = stored(state / DB_NAME)
    assert len(shown) >= locked_at + 2 and reps[: len(shown)] == shown  # every rep, in the order counted


@contextmanager
def small_disk(path: Path, size_kb: int) -> Iterator[bool]:
    """A real tmpfs of `size_kb` at `path` (True), or a plain folder where mounting is not allowed (False)."""
    path.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)], capture_output=True)
        mounted = done.returncode == 0
    except OSError:
        mounted = False
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "--lazy", str(path)], check=True)  # lazy: a failed test may leave a file open


def fill(folder: Path) -> Path:
    """Write a file until the filesystem says ENOSPC."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_keeps_events_in_memory_and_writes_them_in_order_when_space_returns(tmp_path: Path) -> None:
    folder = tmp_path / "disk"
    with small_disk(folder, 1024) as mounted:
        history = History(folder, StoreSettings())
        hub = StatusHub()
        buffer = BufferedHistory(history, on_health=lambda h: hub.set_health(history=h), retry_first_s=0.05, retry_max_s=0.2, show_wait_s=10.0)
        try:
            for before in (SetStarted(t_s=1.0, set_n=1), rep(1), rep(2)):
                buffer.handle(before)
            assert stored(folder / DB_NAME)[1] == [(1, 1), (1, 2)]  # committed before handle returned
            free_space = make_full(folder, history, mounted)
            # The set's end is the first write to fail: its retry must not start a second set.
            for event in (SetEnded(t_s=40.0, set_n=1, reps=2, t_start_s=1.0), SetStarted(t_s=50.0, set_n=2), rep(1, 2), rep(2, 2)):
                started = time.monotonic()
                buffer.handle(event)
                assert time.monotonic() - started < 2.0  # the pipeline is never held up by the disk
            health = wait_for(lambda: (h := hub.snapshot()["health"]["history"])["pending_reps"] == 2 and h, 10, "two reps waiting")
            assert "database or disk is full" in health["error"] and health["pending"] == 4
            assert health["message"] == f"history not saved: 2 reps waiting (disk full? free space in {folder})"
            assert stored(folder / DB_NAME)[0] == [(1, 2, False, 0)]  # the file is as it was before the disk filled
            free_space()
            wait_for(lambda: buffer.pending == 0, 10, "the backlog written")
            assert hub.snapshot()["health"]["history"]["message"] is None
            buffer.handle(SetEnded(t_s=90.0, set_n=2, reps=2, t_start_s=50.0))
        finally:
            buffer.close()  # before the unmount, even when an assertion failed
        sets, reps = stored(folder / DB_NAME)
    assert sets == [(1, 2, True, 0), (2, 2, True, 0)]  # two sets, both ended, no duplicate
    assert reps == [(1, 1), (1, 2), (2, 1), (2, 2)]


def make_full(folder: Path, history: History, mounted: bool) -> Callable[[], None]:
    """Fill the disk under the history (or, unmounted, cap SQLite's pages); returns how to free it again."""
    if mounted:
        with sqlite3.connect(folder / DB_NAME) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every later write must grow the log
        return fill(folder).unlink
    with history._lock:  # no mount allowed here: SQLite's own page limit gives the same SQLITE_FULL
        pages = history._db.execute("PRAGMA page_count").fetchone()[0]
        history._db.execute(f"PRAGMA max_page_count = {pages}")

    def free() -> None:
        with history._lock:
            history._db.execute("PRAGMA max_page_count = 1073741823")

    return free


def test_unsaved_events_go_to_the_journal_when_the_station_stops(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    history = History(tmp_path, StoreSettings())
    buffer = BufferedHistory(history, retry_first_s=0.05, close_wait_s=0.3)
    buffer.handle(SetStarted(t_s=1.0, set_n=1))
    wait_for(lambda: buffer.pending == 0, 5, "the set start written")
    lock = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    with history._lock:
        history._db.execute("PRAGMA busy_timeout = 100")  # give up on the lock quickly: this test is about stopping
    buffer.handle(rep(1))
    wait_for(lambda: buffer.health()["error"], 5, "the write to fail")
    buffer.close()
    lock.close()
    err = capfd.readouterr().err
    assert f"history not saved: 1 events could not be written to {tmp_path / DB_NAME}" in err
    line = json.loads(err.strip().splitlines()[-1])
    assert line["type"] == "RepCompleted" and line["rep"]["n"] == 1 and line["rep"]["keys"]["unlock_knees"]["ok"] is True


def test_a_rep_is_committed_with_full_sync_before_handle_returns(tmp_path: Path) -> None:
    history = History(tmp_path, StoreSettings())
    buffer = BufferedHistory(history, show_wait_s=10.0)  # no time limit on the wait here: it is the order that counts
    with history._lock:
        assert history._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: fsync at every commit
    buffer.handle(SetStarted(t_s=1.0, set_n=1))
    buffer.handle(rep(1))
    assert stored(tmp_path / DB_NAME)[1] == [(1, 1)]  # visible to another connection: committed
    buffer.close()
