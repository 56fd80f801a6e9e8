"""`BufferedHistory`: the history sink that loses nothing when the database cannot be written.

Set and rep events go into a FIFO that one writer thread drains into `History` in order. When
a write fails (database locked, disk full, read-only, I/O error) the event stays at the head
and the writer retries with backoff; later events wait behind it, and the page is told how
many reps are waiting and why. The pipeline thread never blocks on SQLite: `handle` returns
once a rep is committed (so the LEDs, which come after this sink, never show an unsaved rep
while the disk works), or after `show_wait_s` when the disk is slow or failing.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from station.errors import StorageError
from station.store import History
from station.types import Event, RepCompleted, SetEnded, SetStarted

RETRY_FIRST_S = 0.5  # a lock held by a backup or the sqlite3 shell is usually gone within a second
RETRY_MAX_S = 10.0  # a full disk is freed by a person: trying every 10 s costs nothing and saves soon after
SHOW_WAIT_S = 0.5  # a commit (fsync on an SD card) takes 5-50 ms; waiting longer only delays the LEDs
CLOSE_WAIT_S = 3.0  # on stop, time for waiting events to reach the disk (systemd's TimeoutStopSec is 15 s)
MAX_PENDING = 100_000  # ~3 days of non-stop lifting, a few tens of MB: beyond it memory matters more
Health = dict[str, Any]
_KEPT = (SetStarted, RepCompleted, SetEnded)  # the events History stores; phases are not kept


class BufferedHistory:
    """A sink wrapping `History`: every set and rep reaches the database, in order, eventually."""

    def __init__(
        self,
        history: History,
        on_health: Callable[[Health], None] | None = None,
        *,
        retry_first_s: float = RETRY_FIRST_S,
        retry_max_s: float = RETRY_MAX_S,
        show_wait_s: float = SHOW_WAIT_S,
        close_wait_s: float = CLOSE_WAIT_S,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.history = history
        self._on_health = on_health  # told the health dict whenever the waiting count or the error changes
        self._retry_first_s, self._retry_max_s = retry_first_s, retry_max_s
        self._show_wait_s, self._close_wait_s = show_wait_s, close_wait_s
        self._max_pending = max_pending
        self._cond = threading.Condition()
        self._pending: deque[Event] = deque()
        self._queued = 0  # events ever queued; an event's sequence number is its count
        self._written = 0  # events written, in order
        self._error: str | None = None  # the last write error while events are waiting
        self._failures = 0  # failed write attempts (the metric)
        self._lost = 0  # events refused because the buffer was full
        self._closing = False
        self._give_up = threading.Event()
        self._thread = threading.Thread(target=self._write_loop, name="history-writer", daemon=True)
        self._thread.start()

    # ---- the pipeline thread ----

    def handle(self, event: Event) -> None:
        """Queue a set or rep event for the writer; for a rep, wait briefly until it is committed."""
        if not isinstance(event, _KEPT):
            return
        with self._cond:
            if self._closing:
                raise StorageError("the history is closed: events after close() cannot be written")
            full = len(self._pending) >= self._max_pending
            if full:
                self._lost += 1
                health = self._health_locked()
        if full:
            self._report(health)
            return
        with self._cond:
            self._pending.append(event)
            self._queued += 1
            sequence = self._queued
            self._cond.notify_all()
            if isinstance(event, RepCompleted) and self._error is None:
                self._cond.wait_for(lambda: self._written >= sequence or self._error is not None, self._show_wait_s)

    def close(self) -> None:
        """Write what is waiting (for up to `close_wait_s`), print what could not be, close the database."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._cond.notify_all()
        self._thread.join(self._close_wait_s)
        self._give_up.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join()
        with self._cond:
            unsaved = list(self._pending)
        if unsaved:  # the journal is the last place left: a person can re-enter them from there
            print(
                f"station: history not saved: {len(unsaved)} events could not be written to {self.history.path}"
                f" ({self._error}); here they are as JSON lines",
                file=sys.stderr,
            )
            for event in unsaved:
                print(json.dumps({"type": type(event).__name__, **asdict(event)}, default=str), file=sys.stderr)
        self.history.close()

    # ---- readers ----

    @property
    def pending(self) -> int:
        """Events waiting to be written."""
        with self._cond:
            return len(self._pending)

    def health(self) -> Health:
        """What the page shows about the history: reps waiting, the error, and a sentence for staff."""
        with self._cond:
            return self._health_locked()

    def _health_locked(self) -> Health:
        reps = sum(isinstance(e, RepCompleted) for e in self._pending)
        message = None
        if self._error is not None:
            message = f"history not saved: {reps} reps waiting ({_hint(self._error, str(self.history.path.parent))})"
        if self._lost:
            message = f"history full in memory: {self._lost} events lost; {message or 'free the disk'}"
        return {
            "pending": len(self._pending),
            "pending_reps": reps,
            "error": self._error,
            "failures": self._failures,
            "lost": self._lost,
            "message": message,
        }

    def _report(self, health: Health | None) -> None:
        """Tell the page (outside our lock: the hub has its own)."""
        if health is not None and self._on_health is not None:
            self._on_health(health)

    # ---- the writer thread ----

    def _write_loop(self) -> None:
        delay_s = self._retry_first_s
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._pending) or self._closing)
                if not self._pending or self._give_up.is_set():
                    return
                event = self._pending[0]
            error = self._write(event)
            health: Health | None = None
            with self._cond:
                if error is None:
                    self._pending.popleft()
                    self._written += 1
                    delay_s = self._retry_first_s
                    if self._error is not None:  # recovered, or still draining: the page follows the count
                        if not self._pending:
                            self._error = None
                        health = self._health_locked()
                else:
                    self._error, self._failures = error, self._failures + 1
                    health = self._health_locked()
                self._cond.notify_all()  # a rep waiting to be shown is written, or need not wait any longer
            self._report(health)
            if error is None:
                continue
            if self._give_up.wait(delay_s):
                return
            delay_s = min(2 * delay_s, self._retry_max_s)

    def _write(self, event: Event) -> str | None:
        """One event into the history; None when committed, else the error."""
        # History remembers which row each open set has; a rolled-back write must not change that
        # memory, or the retry of a set's end would start and end a second, empty set.
        open_sets: dict[int, int] = getattr(self.history, "_open_sets", {})
        before = dict(open_sets)
        try:
            self.history.handle(event)
        except Exception as exc:  # noqa: BLE001 - StorageError, or a bug: either way the event is kept and retried
            open_sets.clear()
            open_sets.update(before)
            return str(exc) if isinstance(exc, StorageError) else f"{type(exc).__name__}: {exc}"
        return None


def _hint(error: str, folder: str) -> str:
    """What staff can do about a write error, in a few words."""
    if "full" in error:
        return f"disk full? free space in {folder}"
    if "locked" in error or "busy" in error:
        return "the database is locked by another program"
    if "readonly" in error or "read-only" in error:
        return f"the database is read-only: check the permissions of {folder}"
    if "I/O" in error:
        return "disk I/O error: check the SD card"
    return error
