"""`LatestFrame`: a thread that pulls frames from a source and keeps only the newest.

When inference is slower than the camera, stale frames are dropped (and counted) instead of
queueing: the pipeline always works on the most recent picture, and latency never grows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from station.types import Frame, KeypointFrame

Item = Frame | KeypointFrame


class LatestFrame:
    """Holds at most one unconsumed frame; a newer one replaces it and counts one drop."""

    def __init__(self, source: Iterable[Item], realtime: bool = False, name: str = "frame-reader") -> None:
        self.source = source
        self.realtime = realtime  # pace a file source at its timestamps, as a camera would deliver
        self.dropped = 0
        self.received = 0
        self._cond = threading.Condition()
        self._latest: Item | None = None
        self._fresh = False
        self._done = False
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        start_wall_s: float | None = None
        start_t_s = 0.0
        try:
            for item in self.source:
                if self._stop.is_set():
                    break
                if self.realtime:
                    if start_wall_s is None:
                        start_wall_s, start_t_s = time.monotonic(), item.t_s
                    delay_s = (item.t_s - start_t_s) - (time.monotonic() - start_wall_s)
                    if delay_s > 0 and self._stop.wait(delay_s):
                        break
                with self._cond:
                    if self._fresh:
                        self.dropped += 1
                    self._latest, self._fresh = item, True
                    self.received += 1
                    self._cond.notify_all()
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer by get()
            self._error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def get(self, timeout_s: float | None = None) -> Item | None:
        """The newest frame not yet returned; None after timeout_s or once the source is exhausted.

        An error raised by the source (e.g. CameraError) is raised here, once no frame is left.
        """
        with self._cond:
            self._cond.wait_for(lambda: self._fresh or self._done, timeout=timeout_s)
            if self._fresh:
                self._fresh = False
                return self._latest
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            return None

    @property
    def exhausted(self) -> bool:
        """The source has ended and its last frame was handed out."""
        with self._cond:
            return self._done and not self._fresh

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop reading, wait for the thread, then close the source (once: later calls do nothing).

        The source is closed after the thread stops (a decoder must not be closed under it), unless
        the thread is blocked inside the source (a camera that stopped): closing then unblocks it.
        """
        if self._closed:
            return  # a lost camera is closed when it is lost, and again when the pipeline ends
        self._closed = True
        self._stop.set()
        self._thread.join(timeout_s)
        close = getattr(self.source, "close", None)
        if close is not None:
            close()
        self._thread.join(timeout_s)
