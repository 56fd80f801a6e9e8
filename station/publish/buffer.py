"""The publisher's outbox: bounded, ordered, and in step with the broker's acknowledgements."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

# Messages handed to paho but not yet acknowledged (PUBACK). Kept under paho's own in-flight
# limit (20) so that paho never builds an unbounded queue of its own.
IN_FLIGHT_WINDOW = 10


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retain: bool


class Outbox:
    """Latest retained value per topic (coalesced) plus events in order (bounded, oldest dropped).

    Ordering across a reconnect: messages in flight when the link dropped are resent by paho
    after the new CONNACK, so nothing new is released until all of them are acknowledged.
    """

    def __init__(self, size: int) -> None:
        self._cond = threading.Condition()
        self._latest: dict[str, Message] = {}
        self._events: deque[Message] = deque()
        self._size = size
        self._in_flight: dict[int, Message] = {}
        self._early_acks: set[int] = set()  # acks that beat `handed_over` (paho's thread is fast)
        self._connected = False
        self._resyncing = False
        self._closed = False
        self.dropped = 0
        self.delivered = 0

    def put_event(self, message: Message) -> bool:
        """Queue an event; True if the buffer was full and the oldest event was dropped."""
        with self._cond:
            full = len(self._events) >= self._size
            if full:
                self._events.popleft()
                self.dropped += 1
            self._events.append(message)
            self._cond.notify_all()
            return full

    def put_latest(self, message: Message) -> None:
        """Queue a retained value, replacing any older value of the same topic not yet sent."""
        with self._cond:
            self._latest.pop(message.topic, None)
            self._latest[message.topic] = message
            self._cond.notify_all()

    def set_connected(self, connected: bool) -> None:
        with self._cond:
            self._connected = connected
            if connected:
                self._resyncing = bool(self._in_flight)
            self._cond.notify_all()

    def _may_send(self) -> bool:
        if not (self._connected and (self._latest or self._events)):
            return False
        if self._resyncing:
            return not self._in_flight
        return len(self._in_flight) < IN_FLIGHT_WINDOW

    def take(self) -> Message | None:
        """Block until a message may be sent now; None once closed."""
        with self._cond:
            while not self._closed and not self._may_send():
                self._cond.wait()
            if self._closed:
                return None
            self._resyncing = False
            if self._latest:
                return self._latest.pop(next(iter(self._latest)))
            return self._events.popleft()

    def put_back(self, message: Message) -> None:
        """Return a message that could not be handed over, at the head of its queue."""
        with self._cond:
            if message.retain:
                self._latest.setdefault(message.topic, message)
            else:
                self._events.appendleft(message)
            self._cond.notify_all()

    def handed_over(self, mid: int, message: Message) -> None:
        """Record a message paho accepted under message id `mid`."""
        with self._cond:
            if mid in self._early_acks:
                self._early_acks.discard(mid)
                self.delivered += 1
            else:
                self._in_flight[mid] = message

    def acknowledged(self, mid: int) -> None:
        """The broker acknowledged `mid`: free its in-flight slot."""
        with self._cond:
            if self._in_flight.pop(mid, None) is not None:
                self.delivered += 1
            else:
                self._early_acks.add(mid)
            self._cond.notify_all()

    def wait_empty(self, timeout_s: float) -> bool:
        """Wait until everything is acknowledged; False at once if the broker is not connected."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not (self._latest or self._events or self._in_flight) or not self._connected,
                timeout_s,
            ) and not (self._latest or self._events or self._in_flight)

    def close(self) -> int:
        """Stop `take`; return how many events (reps, sets) the broker never acknowledged."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            return len(self._events) + sum(not m.retain for m in self._in_flight.values())

    @property
    def queued(self) -> int:
        """Messages waiting for the broker (not yet handed over or not yet acknowledged)."""
        with self._cond:
            return len(self._latest) + len(self._events) + len(self._in_flight)
