"""`ReadAhead`: a thread decodes the next few frames of a file while the current one is inferred.

Unlike `LatestFrame` (a camera: the newest frame wins), this is lossless: every frame, in order.
It is bounded: the thread asks the source for a frame only when fewer than `depth` are waiting,
so memory stays at `depth` frames however slow the consumer is. An error raised by the source
reaches the consumer after the frames decoded before it, as if it had decoded them itself.
Frames and free slots pass through two C-level `SimpleQueue`s, not a Python `Condition`, and the
thread polls for a free slot rather than sleep until the consumer wakes it: taking a frame costs
the inference thread about a microsecond instead of ~15-25 (see `_wait_for_slot`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar, cast

Item = TypeVar("Item")
# How often the thread looks for a free slot: a frame's inference takes 2 ms (x86) to 30 ms (Pi),
# so a slot is refilled long before the consumer gets to it. A poll costs this thread ~18 us of
# CPU in this VM, on its own core: ~4 a frame on x86, cheaper than one wake-up on the critical path.
POLL_S = 0.0005
POLLS_BEFORE_BLOCKING = 100  # 50 ms without a free slot: the consumer is stalled, block instead
_END = object()  # put after the last item (and after an error): the source is finished


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
        self._items: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._slots: queue.SimpleQueue[None] = queue.SimpleQueue()  # one token per item the thread may decode
        for _ in range(depth):
            self._slots.put(None)
        self._stop = False
        self._ended = False
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        frames = iter(self.source)
        try:
            while True:
                self._wait_for_slot()
                if self._stop:
                    break
                item = next(frames)
                self._items.put(item)
                self.peak_waiting = max(self.peak_waiting, self._items.qsize())
        except StopIteration:
            pass
        except BaseException as exc:  # noqa: BLE001 - raised again in the consumer, in order
            self._error = exc
        finally:
            self._items.put(_END)

    def _wait_for_slot(self) -> None:
        """Wait while `depth` items are waiting: polled at first, then blocking (a stalled consumer).

        A thread blocked on the queue must be woken by the consumer's put, which costs the
        inference thread ~14 us a frame (an inter-processor interrupt, dear in a VM): polling
        lets this thread wake on its own core's timer instead, and the put wakes nobody.
        """
        for _ in range(POLLS_BEFORE_BLOCKING):
            if not self._slots.empty():
                break
            time.sleep(POLL_S)
        self._slots.get()  # only this thread takes slots: returns at once unless the consumer stalled

    def __iter__(self) -> Iterator[Item]:
        while not self._ended:
            item = self._items.get()
            if item is _END:
                self._ended = True
                if self._error is not None:
                    error, self._error = self._error, None
                    raise error
                return
            self._slots.put(None)  # taken: the thread may decode one more
            yield cast(Item, item)

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the thread (even if the consumer stopped early), then close the source; once."""
        if self._closed:
            return
        self._closed = True
        self._stop = True
        self._slots.put(None)  # wakes the thread if it waits for a slot
        self._drain()  # the frames nobody will take: free them now
        self._thread.join(timeout_s)  # at most one frame's decode away
        self._drain()
        close = getattr(self.source, "close", None)
        if close is not None:
            close()

    def _drain(self) -> None:
        """Drop the waiting items (keeps the end mark's meaning: a finished reader stays finished)."""
        while True:
            try:
                item = self._items.get_nowait()
            except queue.Empty:
                return
            if item is _END:
                self._ended = True
