"""A tiny in-process publish/subscribe bus.

Drivers, detectors and projects publish small JSON-able events; the web layer streams them to
the page over SSE and the lab framework records them in its event log. Each subscriber has its
own bounded queue so a slow browser tab can never stall the camera or the GPIO poller.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from labkit import steady


@dataclass(frozen=True)
class Event:
    topic: str
    data: Any
    ts: float = field(default_factory=steady.now)   # a clock jump cannot reorder events


class Subscription:
    """A queue of events for one consumer; drops the oldest when full.

    A blocking consumer calls `get()`; an event-loop consumer sets `on_put` (called from the
    publisher's thread after each event is queued, so it must only schedule work, e.g.
    `loop.call_soon_threadsafe`) and drains with `get_nowait()`.
    """

    def __init__(self, bus: "EventBus", topics: tuple[str, ...], maxsize: int) -> None:
        self._bus = bus
        self.topics = topics
        self._queue: queue.Queue[Event] = queue.Queue(maxsize)
        self.on_put: Callable[[], None] | None = None

    def matches(self, topic: str) -> bool:
        return not self.topics or any(topic == t or topic.startswith(t + ".") for t in self.topics)

    def put(self, event: Event) -> None:
        while True:
            try:
                self._queue.put_nowait(event)
                break
            except queue.Full:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    pass
        notify = self.on_put
        if notify is not None:
            notify()

    def get_nowait(self) -> Event | None:
        """The next queued event, or None if there is none (never blocks)."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or None after `timeout` seconds."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def __iter__(self) -> Iterator[Event]:
        while True:
            event = self.get()
            if event is not None:
                yield event

    def close(self) -> None:
        self._bus._remove(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    """Fan-out of events to every subscriber whose topic prefix matches."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()

    def subscribe(self, *topics: str, maxsize: int = 256) -> Subscription:
        sub = Subscription(self, topics, maxsize)
        with self._lock:
            self._subs.append(sub)
        return sub

    def publish(self, topic: str, data: Any = None) -> Event:
        event = Event(topic, data)
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            if sub.matches(topic):
                sub.put(event)
        return event

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subs)
