"""Set history in SQLite: sets, reps, each key's grade and value, tempo; kept across restarts.

A sink of detector events. Each rep is written in its own committed transaction the moment
it arrives (WAL, synchronous=FULL), so a rep the LEDs show survives a power cut a second
later. Times: ``*_at`` columns are wall-clock Unix seconds (for "today" and retention),
``t_*_s`` columns are the detector's own clock as in the result JSON.
"""

from __future__ import annotations

import datetime
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from station.errors import StorageError
from station.settings.store import StoreSettings
from station.types import KEY_NAMES, Event, RepCompleted, SetEnded, SetStarted

DB_NAME = "history.sqlite3"
SCHEMA_VERSION = 1
# Columns added since version 1, added in place to an older file: old stations ignore them, so
# adding them needs no version bump (and a station rolled back still opens the file).
_ADDED_SET_COLUMNS = {"lifter": "TEXT", "discarded": "INTEGER NOT NULL DEFAULT 0"}
PRUNE_EVERY_S = 86400.0  # retention is counted in days: pruning daily is precise enough
_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sets (
    id INTEGER PRIMARY KEY,
    set_n INTEGER NOT NULL,          -- the detector's set number (restarts at 1 with the process)
    started_at REAL NOT NULL,
    ended_at REAL,                   -- NULL while the set is open
    t_start_s REAL,
    t_end_s REAL,
    reps INTEGER NOT NULL DEFAULT 0,
    interrupted INTEGER NOT NULL DEFAULT 0, -- 1: the station stopped before the set ended
    lifter TEXT,                     -- the lifter's name, given by staff on the page
    discarded INTEGER NOT NULL DEFAULT 0     -- 1: staff reset the set (kept, but not a real set)
);
CREATE INDEX IF NOT EXISTS sets_started_at ON sets (started_at);
CREATE TABLE IF NOT EXISTS reps (
    id INTEGER PRIMARY KEY,
    set_id INTEGER NOT NULL REFERENCES sets (id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    at REAL NOT NULL,
    t_start_s REAL, t_bottom_s REAL, t_lockout_s REAL,
    descent_s REAL, ascent_s REAL
);
CREATE INDEX IF NOT EXISTS reps_set_id ON reps (set_id);
CREATE TABLE IF NOT EXISTS grades (
    rep_id INTEGER NOT NULL REFERENCES reps (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    ok INTEGER,                      -- 1 pass, 0 fail, NULL could not judge
    value REAL,
    fault TEXT,
    cue TEXT,
    PRIMARY KEY (rep_id, key)
);
"""


class History:
    """The station's set history in ``<state_dir>/history.sqlite3``; safe to read from web threads."""

    def __init__(self, state_dir: Path, settings: StoreSettings, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(state_dir) / DB_NAME
        self._retention_s = settings.retention_days * 86400.0
        self._clock = clock
        self._lock = threading.Lock()
        self._open_sets: dict[int, int] = {}  # detector set_n -> sets.id, for this process's sets
        self._last_prune_at = 0.0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open {self.path} ({exc}): make {state_dir} writable by this user or set STATION_STATE_DIR") from None
        try:
            self._setup()
        except sqlite3.OperationalError as exc:  # read-only file or directory, locked, disk full
            self._db.close()
            raise StorageError(f"cannot write {self.path} ({exc}): make {state_dir} writable by this user or set STATION_STATE_DIR") from None
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StorageError(f"{self.path} is not a usable history database ({exc}): move it aside and restart") from None

    def _setup(self) -> None:
        db = self._db
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout = 5000")  # a reader (sqlite3 shell, backup) may hold a lock briefly
        db.execute("PRAGMA journal_mode = WAL")  # readers never block the pipeline's writes
        db.execute("PRAGMA synchronous = FULL")  # fsync each commit: a shown rep survives a power cut
        db.execute("PRAGMA foreign_keys = ON")
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            row = db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif row[0] > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"schema version {row[0]} is newer than this station's {SCHEMA_VERSION}")
            have = {column["name"] for column in db.execute("PRAGMA table_info(sets)")}
            for name, kind in _ADDED_SET_COLUMNS.items():
                if name not in have:  # a file from before the column (CREATE IF NOT EXISTS left it as it was)
                    db.execute(f"ALTER TABLE sets ADD COLUMN {name} {kind}")
            self._close_interrupted_sets()
        self._prune(force=True)

    def handle(self, event: Event) -> None:
        """Record a set start, a rep (committed at once) or a set end; other events are ignored."""
        try:
            if isinstance(event, SetStarted):
                with self._lock, self._transaction():
                    self._start_set(event.set_n, event.t_s)
            elif isinstance(event, RepCompleted):
                with self._lock, self._transaction():
                    self._add_rep(event)
            elif isinstance(event, SetEnded):
                with self._lock, self._transaction():
                    self._end_set(event)
                self._prune()
        except sqlite3.Error as exc:
            raise self._write_failed(exc) from None

    def sets_today(self) -> list[dict[str, Any]]:
        """Sets started since local midnight, oldest first."""
        midnight = time.mktime(time.localtime(self._clock())[:3] + (0, 0, 0, 0, 0, -1))
        return self._sets("WHERE started_at >= ? ORDER BY started_at, id", (midnight,))

    def sets_on(self, day: datetime.date) -> list[dict[str, Any]]:
        """Sets started on a local calendar day, oldest first."""
        start = time.mktime((day.year, day.month, day.day, 0, 0, 0, 0, 0, -1))
        end = time.mktime((day.year, day.month, day.day + 1, 0, 0, 0, 0, 0, -1))  # mktime rolls the 32nd over
        return self._sets("WHERE started_at >= ? AND started_at < ? ORDER BY started_at, id", (start, end))

    def set_lifter(self, set_id: int, name: str | None) -> dict[str, Any] | None:
        """Name (or with None, un-name) the lifter of a set; the updated set, or None if there is no such set."""
        try:
            with self._lock, self._transaction():
                changed = self._db.execute("UPDATE sets SET lifter = ? WHERE id = ?", (name, set_id)).rowcount
        except sqlite3.Error as exc:
            raise self._write_failed(exc) from None
        if not changed:
            return None
        return self._sets("WHERE id = ?", (set_id,))[0]

    def recent_sets(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest `limit` sets, newest first."""
        return self._sets("ORDER BY started_at DESC, id DESC LIMIT ?", (limit,))

    def reps_of_set(self, set_id: int) -> list[dict[str, Any]]:
        """The reps of one set in order, each with ``keys`` shaped like the result JSON."""
        with self._lock:
            reps = [dict(r) for r in self._db.execute("SELECT * FROM reps WHERE set_id = ? ORDER BY n, id", (set_id,))]
            grades = self._db.execute(
                "SELECT g.* FROM grades g JOIN reps r ON r.id = g.rep_id WHERE r.set_id = ?", (set_id,)
            ).fetchall()
        by_rep: dict[int, dict[str, Any]] = {}
        for g in grades:
            grade: dict[str, Any] = {"ok": None if g["ok"] is None else bool(g["ok"]), "value": g["value"], "cue": g["cue"]}
            if g["fault"] is not None:
                grade["fault"] = g["fault"]
            by_rep.setdefault(g["rep_id"], {})[g["key"]] = grade
        for rep in reps:
            rep["keys"] = by_rep.get(rep["id"], {})
        return reps

    def close(self) -> None:
        """Close the database (the WAL is checkpointed into the main file)."""
        with self._lock:
            self._db.close()

    def _start_set(self, set_n: int, t_s: float) -> int:
        cur = self._db.execute("INSERT INTO sets (set_n, started_at, t_start_s) VALUES (?, ?, ?)", (set_n, self._clock(), t_s))
        set_id = int(cur.lastrowid or 0)
        self._open_sets[set_n] = set_id
        return set_id

    def _add_rep(self, event: RepCompleted) -> None:
        rep = event.rep
        set_id = self._open_sets.get(rep.set_n) or self._start_set(rep.set_n, rep.t_start_s)
        cur = self._db.execute(
            "INSERT INTO reps (set_id, n, at, t_start_s, t_bottom_s, t_lockout_s, descent_s, ascent_s)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (set_id, rep.n, self._clock(), rep.t_start_s, rep.t_bottom_s, rep.t_lockout_s, rep.descent_s, rep.ascent_s),
        )
        self._db.executemany(
            "INSERT INTO grades (rep_id, key, ok, value, fault, cue) VALUES (?, ?, ?, ?, ?, ?)",
            [(cur.lastrowid, key, g.ok, g.value, g.fault, g.cue) for key, g in rep.keys.items()],
        )
        self._db.execute("UPDATE sets SET reps = reps + 1 WHERE id = ?", (set_id,))

    def _end_set(self, event: SetEnded) -> None:
        set_id = self._open_sets.pop(event.set_n, None)
        if set_id is None:  # a set with no rep seen here (e.g. the station started mid-set)
            set_id = self._start_set(event.set_n, event.t_start_s)
            del self._open_sets[event.set_n]
        self._db.execute(
            "UPDATE sets SET ended_at = ?, t_end_s = ?, reps = MAX(reps, ?), discarded = ? WHERE id = ?",
            (self._clock(), event.t_s, event.reps, int(event.discarded), set_id),
        )

    def _close_interrupted_sets(self) -> None:
        """Sets left open by a crash or power cut end at their last rep, marked interrupted."""
        self._db.execute(
            "UPDATE sets SET interrupted = 1, ended_at = COALESCE("
            "(SELECT MAX(at) FROM reps WHERE reps.set_id = sets.id), started_at) WHERE ended_at IS NULL"
        )

    def _prune(self, force: bool = False) -> None:
        now = self._clock()
        if self._retention_s <= 0 or (not force and now - self._last_prune_at < PRUNE_EVERY_S):
            return
        self._last_prune_at = now
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM sets WHERE started_at < ? AND ended_at IS NOT NULL", (now - self._retention_s,))

    def _sets(self, tail: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        """Set rows plus per key {"pass", "graded"} counts and the mean tempo of their reps."""
        with self._lock:
            sets = [dict(r) for r in self._db.execute(f"SELECT * FROM sets {tail}", params)]
            marks = ", ".join("?" * len(sets))
            ids = [s["id"] for s in sets]
            counts = self._db.execute(
                "SELECT r.set_id, g.key, SUM(g.ok = 1), SUM(g.ok IS NOT NULL) FROM grades g"
                f" JOIN reps r ON r.id = g.rep_id WHERE r.set_id IN ({marks}) GROUP BY r.set_id, g.key",
                ids,
            ).fetchall()
            tempo = self._db.execute(
                f"SELECT set_id, AVG(descent_s), AVG(ascent_s) FROM reps WHERE set_id IN ({marks}) GROUP BY set_id", ids
            ).fetchall()
        by_id = {s["id"]: s for s in sets}
        for s in sets:
            s["keys"] = {name: {"pass": 0, "graded": 0} for name in KEY_NAMES}
            s["descent_s"] = s["ascent_s"] = None
        for set_id, key, passed, graded in counts:
            by_id[set_id]["keys"][key] = {"pass": int(passed or 0), "graded": int(graded or 0)}
        for set_id, descent_s, ascent_s in tempo:
            by_id[set_id].update(descent_s=descent_s, ascent_s=ascent_s)
        return sets

    def _write_failed(self, exc: sqlite3.Error) -> StorageError:
        return StorageError(f"cannot write the history to {self.path} ({exc}): check free space and permissions")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error (the connection runs in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
