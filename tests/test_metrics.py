"""Prometheus metrics scraped over HTTP from the real status-page server (waitress)."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterator

import pytest
from prometheus_client.openmetrics import parser as openmetrics_parser
from prometheus_client.parser import text_string_to_metric_families

from station.metrics import FeedCollector, MetricsSink, metrics_blueprint
from station.publish import MqttPublisher
from station.settings.mqtt import MqttSettings
from station.status import StatusHub
from station.types import KEY_NAMES, KeyGrade, Rep, RepCompleted, SetEnded, SetStarted
from station.web.app import create_app
from station.web.server import WebServer
from mqtt_broker import free_port, wait_until

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Clock:
    """A monotonic clock the test moves by hand, so fps has an exact expected value."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


Serve = Callable[[MetricsSink], str]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Serve a sink's registry on the station's real web server (waitress); returns the /metrics URL."""
    servers: list[WebServer] = []

    def start(sink: MetricsSink) -> str:
        app = create_app(StatusHub(), metrics_blueprint=metrics_blueprint(sink.registry))
        servers.append(WebServer(app, "127.0.0.1", 0, max_streams=1))
        servers[-1].start()
        return f"{servers[-1].local_url}metrics"

    yield start
    for server in servers:
        server.close()


def scrape(url: str, accept: str = "*/*") -> tuple[str, Samples]:
    """GET /metrics over HTTP and parse it with prometheus_client's own parsers."""
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as response:
        content_type = response.headers["Content-Type"]
        text = response.read().decode()
    openmetrics = content_type.startswith("application/openmetrics-text")
    parse = openmetrics_parser.text_string_to_metric_families if openmetrics else text_string_to_metric_families
    samples: Samples = {}
    for family in parse(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return content_type, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def rep(n: int, oks: tuple[bool | None, ...]) -> Rep:
    keys = {k: KeyGrade(ok, None, "cue") for k, ok in zip(KEY_NAMES, oks, strict=True)}
    return Rep(n, 1, 2.0 * n, 2.0 * n + 1, 2.0 * n + 2, 1.0, 1.0, keys)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_metrics_after_a_set_scraped_and_parsed(clock: Clock, serve: Serve) -> None:
    sink = MetricsSink(clock=clock)
    inference_ms = [4.5, 5.0, 5.5, 7.0, 9.0, 12.0, 18.0, 40.0, 150.0, 250.0] * 3
    for ms in inference_ms:
        clock.now_s += 1 / 15
        sink.observe_frame(ms, detector_ms=0.05)
    for _ in range(2):  # keypoint frames (recording, simulator) skip the model
        clock.now_s += 1 / 15
        sink.observe_frame(None, detector_ms=0.5)
    sink.handle(SetStarted(1.0, 1))
    sink.handle(RepCompleted(4.0, rep(1, (True, False, None))))
    sink.handle(RepCompleted(8.0, rep(2, (True, True, False))))
    sink.handle(SetEnded(40.0, 1, 2, 1.0))
    sink.camera_error()
    sink.camera_error()
    sink.dropped(3)
    sink.dropped(0)
    sink.history_write_failed()
    sink.close()

    content_type, samples = scrape(serve(sink))
    assert content_type.startswith("text/plain; version=0.0.4")  # what every Prometheus reads
    assert value(samples, "station_frames_total") == 32
    assert value(samples, "station_inference_seconds_count") == 30
    assert value(samples, "station_inference_seconds_sum") == pytest.approx(sum(inference_ms) / 1000)
    assert value(samples, "station_inference_seconds_bucket", le="0.006") == 9  # 4.5, 5.0, 5.5 x3
    assert value(samples, "station_inference_seconds_bucket", le="0.2") == 27
    assert value(samples, "station_inference_seconds_bucket", le="+Inf") == 30
    assert value(samples, "station_detector_seconds_count") == 32
    assert value(samples, "station_detector_seconds_bucket", le="0.0001") == 30
    assert value(samples, "station_reps_total") == 2
    assert value(samples, "station_sets_total") == 1
    grades = {(k, r): value(samples, "station_key_grades_total", key=k, result=r)
              for k in KEY_NAMES for r in ("pass", "fail", "ungraded")}  # fmt: skip
    assert grades == {
        ("unlock_knees", "pass"): 2, ("unlock_knees", "fail"): 0, ("unlock_knees", "ungraded"): 0,
        ("hips_back_chest_down", "pass"): 1, ("hips_back_chest_down", "fail"): 1,
        ("hips_back_chest_down", "ungraded"): 0,
        ("knees_after_hips", "pass"): 0, ("knees_after_hips", "fail"): 1, ("knees_after_hips", "ungraded"): 1,
    }  # fmt: skip
    assert value(samples, "station_camera_errors_total") == 2
    assert value(samples, "station_dropped_frames_total") == 3
    assert value(samples, "station_history_write_failures_total") == 1
    # 32 frames at 15 fps span 2.13 s: all inside the 5 s window, which is the time since start.
    assert value(samples, "station_fps") == pytest.approx(32 / (32 / 15))


def test_openmetrics_when_the_scraper_asks_for_it(serve: Serve) -> None:
    sink = MetricsSink()
    sink.observe_frame(12.0, 0.02)
    content_type, samples = scrape(serve(sink), accept="application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
    assert content_type.startswith("application/openmetrics-text")
    assert value(samples, "station_frames_total") == 1
    assert value(samples, "station_inference_seconds_bucket", le="0.013") == 1


def test_fps_follows_the_frame_rate_and_falls_to_zero(clock: Clock, serve: Serve) -> None:
    sink = MetricsSink(clock=clock)
    url = serve(sink)
    for _ in range(150):  # 10 s at 15 fps
        clock.now_s += 1 / 15
        sink.observe_frame(20.0, 0.01)
    _, samples = scrape(url)
    assert value(samples, "station_fps") == pytest.approx(15.0, abs=0.2)
    for _ in range(40):  # then 8 fps for 5 s
        clock.now_s += 1 / 8
        sink.observe_frame(20.0, 0.01)
    _, samples = scrape(url)
    assert value(samples, "station_fps") == pytest.approx(8.0, abs=0.2)
    clock.now_s += 6.0  # the camera stalls: no frames
    _, samples = scrape(url)
    assert value(samples, "station_fps") == 0.0


def test_two_sinks_in_one_process_do_not_clash(serve: Serve) -> None:
    first, second = MetricsSink(), MetricsSink()
    first.camera_error()
    assert first.registry is not second.registry
    assert value(scrape(serve(first))[1], "station_camera_errors_total") == 1
    assert value(scrape(serve(second))[1], "station_camera_errors_total") == 0


@pytest.fixture
def unreachable_publisher() -> Iterator[MqttPublisher]:
    settings = MqttSettings(enabled=True, host="127.0.0.1", port=free_port(), reconnect_min_s=1, reconnect_max_s=1)
    publisher = MqttPublisher(settings, "bay1")
    yield publisher
    publisher.close()


def test_feed_health_is_exported(unreachable_publisher: MqttPublisher, serve: Serve) -> None:
    sink = MetricsSink()
    sink.registry.register(FeedCollector(unreachable_publisher.status))
    wait_until(lambda: "cannot reach" in str(unreachable_publisher.reason), "the publisher to give up a try")
    unreachable_publisher.handle(RepCompleted(4.0, rep(1, (True, True, True))))
    _, samples = scrape(serve(sink))
    assert value(samples, "station_mqtt_connected") == 0
    assert value(samples, "station_mqtt_queued_messages") == unreachable_publisher.status().queued >= 2
    assert value(samples, "station_mqtt_dropped_messages_total") == 0
