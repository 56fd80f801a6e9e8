"""Prometheus metrics of the station: a sink for events, per-frame observations, and `/metrics`.

Each `MetricsSink` owns its metrics in its own `CollectorRegistry` (never the global one), so
tests and several apps in one process do not clash. Latencies are observed in milliseconds by
the pipeline and exported in seconds, the Prometheus base unit.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from flask import Blueprint, Response, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from station.types import KEY_NAMES, Event, KeyGrade, RepCompleted, SetEnded

# MoveNet Lightning int8 takes ~4-10 ms on a desktop core and ~20-60 ms on a Pi 4/5; 200 ms is a stall.
INFERENCE_BUCKETS_S = (0.004, 0.006, 0.008, 0.010, 0.013, 0.016, 0.020, 0.025, 0.033, 0.050, 0.075, 0.100,
                       0.150, 0.200, 0.300)  # fmt: skip
# The detector: ~10 us in C, ~0.1-1 ms in pure Python; above a few ms it eats into the frame budget.
DETECTOR_BUCKETS_S = (0.00001, 0.00003, 0.0001, 0.0003, 0.001, 0.002, 0.005, 0.010, 0.020, 0.050)
FPS_WINDOW_S = 5.0  # long enough to smooth jitter at 8 fps, short enough to show a stall within seconds
RESULTS = ("pass", "fail", "ungraded")


def grade_result(grade: KeyGrade) -> str:
    return "ungraded" if grade.ok is None else "pass" if grade.ok else "fail"


class MetricsSink:
    """Pipeline sink (`handle`, `close`) plus the per-frame calls the pipeline makes."""

    def __init__(self, registry: CollectorRegistry | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._clock = clock
        self._frame_times_s: deque[float] = deque()
        self._lock = threading.Lock()
        self._started_s = clock()
        r = self.registry
        self.frames = Counter("station_frames", "Frames processed by the pipeline", registry=r)
        self.fps = Gauge("station_fps", f"Frames processed per second over the last {FPS_WINDOW_S:g} s", registry=r)
        self.fps.set_function(self._fps)
        self.inference = Histogram("station_inference_seconds", "Pose-model inference time per frame",
                                   buckets=INFERENCE_BUCKETS_S, registry=r)  # fmt: skip
        self.detector = Histogram("station_detector_seconds", "Phase-detector time per frame",
                                  buckets=DETECTOR_BUCKETS_S, registry=r)  # fmt: skip
        self.reps = Counter("station_reps", "Reps counted", registry=r)
        self.sets = Counter("station_sets", "Sets finished", registry=r)
        self.grades = Counter("station_key_grades", "Grades of the three keys, by key and result",
                              ["key", "result"], registry=r)  # fmt: skip
        self.camera_errors = Counter("station_camera_errors", "Camera errors (stalls, lost device)", registry=r)
        self.dropped_frames = Counter("station_dropped_frames", "Frames skipped to keep up with the camera",
                                      registry=r)  # fmt: skip
        self.history_failures = Counter("station_history_write_failures", "Failed writes to the SQLite history",
                                        registry=r)  # fmt: skip
        for key in KEY_NAMES:  # every series exists from the start, so rate() and alerts see zeros
            for result in RESULTS:
                self.grades.labels(key, result)

    def handle(self, event: Event) -> None:
        if isinstance(event, RepCompleted):
            self.reps.inc()
            for key, grade in event.rep.keys.items():
                self.grades.labels(key, grade_result(grade)).inc()
        elif isinstance(event, SetEnded):
            self.sets.inc()

    def close(self) -> None:
        """Nothing to release: the registry lives as long as the web app serving it."""

    def observe_frame(self, inference_ms: float | None, detector_ms: float) -> None:
        """One processed frame; `inference_ms` is None for frames that skipped the model."""
        self.frames.inc()
        if inference_ms is not None:
            self.inference.observe(inference_ms / 1000.0)
        self.detector.observe(detector_ms / 1000.0)
        with self._lock:
            now_s = self._clock()
            self._frame_times_s.append(now_s)
            self._prune(now_s)

    def camera_error(self) -> None:
        self.camera_errors.inc()

    def dropped(self, n: int = 1) -> None:
        """`n` more frames were skipped (a delta, not a running total)."""
        if n > 0:
            self.dropped_frames.inc(n)

    def history_write_failed(self) -> None:
        self.history_failures.inc()

    def _prune(self, now_s: float) -> None:
        while self._frame_times_s and self._frame_times_s[0] <= now_s - FPS_WINDOW_S:
            self._frame_times_s.popleft()

    def _fps(self) -> float:
        """Frames in the window over its length (shorter just after start); 0 when frames stop."""
        with self._lock:
            now_s = self._clock()
            self._prune(now_s)
            window_s = min(FPS_WINDOW_S, now_s - self._started_s)
            return len(self._frame_times_s) / window_s if window_s > 0 else 0.0


class FeedStatus(Protocol):
    @property
    def connected(self) -> bool: ...
    @property
    def queued(self) -> int: ...
    @property
    def dropped(self) -> int: ...


class FeedCollector(Collector):
    """The MQTT feed's health at scrape time, from a callable such as `MqttPublisher.status`."""

    def __init__(self, status: Callable[[], FeedStatus]) -> None:
        self._status = status

    def collect(self) -> list[Metric]:
        status = self._status()
        connected = GaugeMetricFamily("station_mqtt_connected", "1 while the MQTT broker is connected")
        connected.add_metric([], 1.0 if status.connected else 0.0)
        queued = GaugeMetricFamily("station_mqtt_queued_messages", "Messages the broker has not acknowledged")
        queued.add_metric([], float(status.queued))
        dropped = CounterMetricFamily("station_mqtt_dropped_messages", "Events dropped from a full MQTT buffer")
        dropped.add_metric([], float(status.dropped))
        return [connected, queued, dropped]


def metrics_blueprint(registry: CollectorRegistry) -> Blueprint:
    """`GET /metrics` for the status page's app: Prometheus text, or OpenMetrics if the scraper asks."""
    bp = Blueprint("metrics", __name__)

    @bp.get("/metrics")
    def metrics() -> Response:
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return Response(encode(registry), content_type=content_type)

    return bp
