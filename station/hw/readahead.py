"""`ReadAhead`: a thread decodes the next few frames of a file while the current one is inferred.

Unlike `LatestFrame` (a camera: the newest frame wins), this is lossless: every frame, in order.
It is bounded: the thread asks the source for a frame only when fewer than `depth` are waiting,
so memory stays at `depth` frames however slow the consumer is. An error raised by the source
reaches the consumer after the frames decoded before it, as if it had decoded them itself.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

Item = TypeVar("Item")


class ReadAhead(Generic[Item]):
    """Iterate for the source's items; `close()` stops the thread, then closes the source."""

    def __init__(self, source: Iterable[Item], depth: int = 2, name: str = "read-ahead") -> None:
        if depth < 1:
            raise ValueError(f"depth = {depth}; must be at least 1")
        self.source = source
        self.depth = depth
        self.width_px: int = getattr(source, "width_px", 0)
        self.height_px: int = getattr(source, "height_px", 0)
        self.frame_count: int = getattr(source, "frame_count", 0)
        self.peak_waiting = 0  # most items ever decoded and not yet taken (never above depth)
        self._waiting: deque[Item] = deque()
        self._cond = threading.Condition()
        self._done = False
        self._stop = False
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        frames = iter(self.source)
        try:
            while True:
                with self._cond:
                    self._cond.wait_for(lambda: self._stop or len(self._waiting) < self.depth)
                    if self._stop:
                        break
                item = next(frames)  # decoded outside the lock: the consumer takes frames meanwhile
                with self._cond:
                    self._waiting.append(item)
                    self.peak_waiting = max(self.peak_waiting, len(self._waiting))
                    self._cond.notify_all()
        except StopIteration:
            pass
        except BaseException as exc:  # noqa: BLE001 - raised again in the consumer, in order
            self._error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def __iter__(self) -> Iterator[Item]:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._waiting) or self._done)
                if self._waiting:
                    item = self._waiting.popleft()
                    self._cond.notify_all()
                elif self._error is not None:
                    error, self._error = self._error, None
                    raise error
                else:
                    return
            yield item

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the thread (even if the consumer stopped early), then close the source; once."""
        if self._closed:
            return
        self._closed = True
        with self._cond:
            self._stop = True
            self._waiting.clear()  # the frames nobody will take: free them now
            self._cond.notify_all()
        self._thread.join(timeout_s)  # at most one frame's decode away
        close = getattr(self.source, "close", None)
        if close is not None:
            close()
