"""The whole station for `station run` and `station demo`: pipeline, LEDs, history, page.

Builds the parts from the configuration, serves the page, tells systemd when it is ready,
and on SIGTERM/SIGINT (or the end of a file source) stops in order: pipeline (the open set
is finished, sinks closed, history flushed), then live streams, then the web server.

Each rep reaches the history (committed) before the LEDs show it, and then a line on stdout
(the journal): a rep anyone has seen survives a power cut.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from station import systemd
from station.config import Config
from station.errors import StationError
from station.pipeline import DetectorFactory, Pipeline, Sink
from station.status import StatusHub
from station.types import Event, Frame, KeypointFrame, RepCompleted

POLL_S = 0.5  # how often the main thread checks that the pipeline is still alive


def usable_state_dir(config: Config, allow_temp: bool) -> Path:
    """The configured state directory, or (for the demo) a temporary one when it is not writable."""
    path = Path(config.store.state_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    if not allow_temp:
        raise StationError(f"state directory {path} is not writable: run setup.sh, or set STATION_STATE_DIR")
    return Path(tempfile.mkdtemp(prefix="station-demo-"))


def _metrics() -> tuple[Any, list[Any]]:
    """Prometheus metrics and their /metrics blueprint, when prometheus-client is installed."""
    try:
        from station.metrics import MetricsSink, metrics_blueprint
    except ImportError:  # the [metrics] extra is optional on a station
        return None, []
    sink = MetricsSink()
    return sink, [metrics_blueprint(sink.registry)]


def _feed(config: Config, metrics: Any) -> Any:
    """The MQTT feed when [mqtt] enabled is true (its health is exported with the metrics)."""
    if not config.mqtt.enabled:
        return None
    from station.publish.publisher import publisher_from_settings

    feed = publisher_from_settings(config.mqtt)
    if feed is not None and metrics is not None:
        from station.metrics import FeedCollector

        metrics.registry.register(FeedCollector(feed.status))
    return feed


class RepLog:
    """A sink printing one line per shown rep: the journal's record, and what the power-cut test reads."""

    def __init__(self, name: str) -> None:
        self.name = name

    def handle(self, event: Event) -> None:
        if isinstance(event, RepCompleted):
            grades = ", ".join(f"{key} {_grade_word(g.ok)}" for key, g in event.rep.keys.items())
            print(f"{self.name}: set {event.rep.set_n} rep {event.rep.n} shown ({grades})", flush=True)

    def close(self) -> None:
        pass


def _grade_word(ok: bool | None) -> str:
    return "pass" if ok else "not judged" if ok is None else "fail"


class Appliance:
    """Owns every running part; `run()` blocks until a signal or the end of the source."""

    def __init__(
        self,
        config: Config,
        source: Iterable[Frame | KeypointFrame],
        detector_factory: DetectorFactory,
        *,
        state_dir: Path,
        pose_model: Any = None,
        health: dict[str, Any] | None = None,
        pin_factory: Any = None,
        extra_sinks: Sequence[Sink] = (),
        name: str = "station",
        admin: Any = None,  # station.web.auth.SecretSource: the admin secret for staff actions (None: off)
    ) -> None:
        from station.store import History
        from station.store_buffer import BufferedHistory
        from station.web.app import create_app, history_sets
        from station.web.server import WebServer

        self.config = config
        self.name = name
        self.history: Any = None
        self.history_sink: Any = None  # the history as a sink: writes that fail wait in memory
        self._history_failures = 0
        self.leds: Any = None
        self.feed: Any = None
        self.server: WebServer | None = None
        self.hub = StatusHub(
            max_streams=config.web.max_streams,
            show_camera=config.web.show_camera,
            disk_path=state_dir,
            min_score=config.hinge.min_score,
            health_sources=[self._feed_health],
        )
        self.hub.set_health(**(health or {}))
        self.metrics, blueprints = _metrics()
        try:
            self.history = History(state_dir, config.store)
            self.history_sink = BufferedHistory(self.history, on_health=self._history_health)
            self.hub.set_health(history=self.history_sink.health())
            self.hub.set_finished_sets(history_sets(self.history.sets_today()))
            self.leds = self._make_leds(pin_factory)
            self.feed = _feed(config, self.metrics)
            if config.web.enabled:
                app = create_app(
                    self.hub,
                    history=self.history,
                    extra_blueprints=blueprints,
                    config=config,
                    admin_secret=admin.secret if admin is not None else None,
                    admin_note=admin.note if admin is not None else "staff actions are off",
                    state_dir=state_dir,
                )
                self.server = WebServer(app, config.web.host, config.web.port, config.web.max_streams)
        except BaseException:
            self._close_parts(source)  # a GPIO or port error must not leave the camera or database open
            raise
        listeners = [self.leds.set_status] if self.leds is not None else []
        if self.feed is not None:
            listeners.append(self.feed.set_state)
        # The history first: a rep is committed, then lit, then logged (and the page, last).
        parts = (self.history_sink, self.leds, RepLog(name), self.feed, self.metrics, *extra_sinks)
        sinks: list[Sink] = [s for s in parts if s is not None]
        self.pipeline = Pipeline(
            source,
            detector_factory,
            self.hub,
            sinks,
            pose_model=pose_model,
            leds=self.leds,
            metrics=self.metrics,
            state_listeners=listeners,
            camera_settings=config.camera,
        )
        self._stop = threading.Event()

    def _feed_health(self) -> dict[str, Any]:
        if self.feed is None:
            return {}
        status = self.feed.status()
        return {"feed": {"connected": status.connected, "reason": status.reason, "queued": status.queued}}

    def _history_health(self, health: dict[str, Any]) -> None:
        """The history buffer's state on the page, and its failed writes in the metrics."""
        self.hub.set_health(history=health)
        if self.metrics is not None:
            for _ in range(health["failures"] - self._history_failures):
                self.metrics.history_write_failed()
        self._history_failures = health["failures"]

    def _close_parts(self, source: Iterable[Frame | KeypointFrame]) -> None:
        for part in (self.feed, self.leds, self.history_sink or self.history, source):
            close = getattr(part, "close", None)
            if close is not None:
                close()

    def _make_leds(self, pin_factory: Any) -> Any:
        if not self.config.leds.enabled:
            return None
        from station.hw.leds import Indicators

        return Indicators(self.config.leds, pin_factory=pin_factory)

    def request_stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        """Signal handler (and test hook): stop at the next check."""
        del signum, frame
        self._stop.set()

    def run(self) -> int:
        """Start everything, wait for SIGTERM/SIGINT or the end of input, stop cleanly."""
        restore = self._install_signal_handlers()
        try:
            if self.server is not None:
                self.server.start()
                where = self.server.network_url
                print(
                    f"{self.name}: status page on {self.server.local_url}" + (f" (on the network: {where})" if where else ""),
                    flush=True,
                )
            print(f"{self.name}: set history in {self.history.path}", flush=True)
            self.pipeline.start()
            systemd.notify_ready(f"{self.name} running")
            while not self._stop.wait(POLL_S) and self.pipeline.running:
                pass
        finally:
            self.shutdown()
            restore()
        if self.pipeline.error is not None:
            raise self.pipeline.error
        print(f"{self.name}: stopped after {self.pipeline.frames_processed} frames", file=sys.stderr, flush=True)
        return 0

    def shutdown(self) -> None:
        """Stop in order: pipeline (sinks closed, history flushed), streams, web server."""
        systemd.notify_stopping()
        self.pipeline.stop()
        self.hub.close()
        if self.server is not None:
            self.server.close()

    def _install_signal_handlers(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None  # only the main thread may set handlers (tests run us in threads)
        previous = {sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore
