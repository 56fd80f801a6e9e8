"""The MQTT fleet feed against a real mosquitto broker that each test starts."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import jinja2
import pytest

from station.config import load_config
from station.errors import ConfigError
from station.publish import MqttPublisher, publisher_from_settings
from station.settings.mqtt import MqttSettings
from station.types import KEY_NAMES, KeyGrade, Phase, PhaseChanged, Rep, RepCompleted, SetEnded, SetStarted
from mqtt_broker import WAIT_S, Broker, TlsFiles, Watcher, free_port, make_tls_files, wait_until

REPO_DIR = Path(__file__).resolve().parent.parent
USERS = {"station": "right-password", "watcher": "watch"}
OBJECTS = {"state", "phase", "set", "reps", "reps_total", *KEY_NAMES}

MakePublisher = Callable[..., MqttPublisher]
Watch = Callable[..., Watcher]


def make_rep(n: int, set_n: int = 1, oks: tuple[bool | None, ...] = (True, False, None)) -> Rep:
    keys = {
        name: KeyGrade(ok=ok, value=None if ok is None else 10.0 + n, cue=f"cue {name}",
                       fault="rounded" if ok is False else None)
        for name, ok in zip(KEY_NAMES, oks, strict=True)
    }  # fmt: skip
    return Rep(n, set_n, 2.0 * n, 2.0 * n + 0.8, 2.0 * n + 1.6, 0.8, 0.8, keys)


def strict_json(payload: bytes | bytearray) -> dict[str, object]:
    """Parse as standard JSON: NaN or Infinity make it fail."""
    def reject(name: str) -> None:
        raise ValueError(f"non-standard JSON constant {name}")
    result: dict[str, object] = json.loads(payload, parse_constant=reject)
    return result


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path / "broker")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def tls_files(tmp_path: Path) -> TlsFiles:
    return make_tls_files(tmp_path / "tls")


@pytest.fixture
def secure_broker(tmp_path: Path, tls_files: TlsFiles) -> Iterator[Broker]:
    """Password file for every listener, and a TLS listener beside the plain one."""
    broker = Broker(tmp_path / "secure-broker", users=USERS, tls=tls_files)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def watch() -> Iterator[Watch]:
    """Subscriber clients, closed after the test however it ends."""
    made: list[Watcher] = []

    def make(*args: object, **kwargs: object) -> Watcher:
        made.append(Watcher(*args, **kwargs))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for watcher in made:
        watcher.close()


@pytest.fixture
def make_publisher() -> Iterator[MakePublisher]:
    made: list[MqttPublisher] = []

    def make(port: int, station_id: str = "bay1", **fields: object) -> MqttPublisher:
        # One-second reconnects keep the tests short; the defaults back off to a minute.
        settings = MqttSettings(enabled=True, host="127.0.0.1", port=port, reconnect_min_s=1,
                                reconnect_max_s=1, **fields)  # type: ignore[arg-type]  # fmt: skip
        made.append(MqttPublisher(settings, station_id))
        return made[-1]

    yield make
    for publisher in made:
        publisher.close()


def connected(publisher: MqttPublisher) -> MqttPublisher:
    wait_until(lambda: publisher.connected, f"the publisher to connect ({publisher.reason})")
    wait_until(lambda: publisher.status().queued == 0, "the publisher to flush its announcements")
    return publisher


def reps_seen(watcher: Watcher, topic: str) -> list[int]:
    return [int(str(strict_json(m.payload)["n"])) for m in watcher.on(topic)]


def test_discovery_configs_are_retained_and_render_the_state(
    broker: Broker, make_publisher: MakePublisher, watch: Watch
) -> None:
    publisher = connected(make_publisher(broker.port))
    publisher.set_state("running")
    publisher.handle(SetStarted(1.0, 1))
    publisher.handle(RepCompleted(3.6, make_rep(1)))
    publisher.handle(PhaseChanged(3.7, Phase.TOP))
    wait_until(lambda: publisher.status().queued == 0, "the state to be acknowledged")

    topics = publisher.topics
    watcher = watch(broker.port, ["homeassistant/#", topics.state, topics.availability])
    configs = {f"homeassistant/sensor/bay1/{obj}/config" for obj in OBJECTS}
    watcher.wait_for(lambda: {m.topic for m in watcher.messages} >= configs | {topics.state, topics.availability},
                     "every discovery config, the state and the availability")  # fmt: skip
    assert all(m.retain for m in watcher.messages), "all of these are retained for late subscribers"
    assert watcher.on(topics.availability)[-1].payload == b"online"
    state = strict_json(watcher.on(topics.state)[-1].payload)

    unique_ids = set()
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    rendered = {}
    for topic in configs:
        config = strict_json(watcher.on(topic)[-1].payload)
        assert config["state_topic"] == topics.state
        assert config["availability_topic"] == topics.availability
        assert config["device"]["identifiers"] == ["hinge_station_bay1"]  # type: ignore[index]
        assert config["name"] and config["origin"]
        unique_ids.add(config["unique_id"])
        object_id = topic.split("/")[3]
        rendered[object_id] = env.from_string(str(config["value_template"])).render(value_json=state)
        if "json_attributes_template" in config:
            attributes = env.from_string(str(config["json_attributes_template"])).render(value_json=state)
            assert json.loads(attributes)["cue"] == f"cue {object_id}"
    assert len(unique_ids) == len(OBJECTS)
    assert rendered == {
        "state": "running", "phase": "top", "set": "1", "reps": "1", "reps_total": "1",
        "unlock_knees": "pass", "hips_back_chest_down": "fail", "knees_after_hips": "ungraded",
    }  # fmt: skip


def test_reps_and_set_summary_arrive_then_offline_on_close(
    broker: Broker, make_publisher: MakePublisher, watch: Watch
) -> None:
    watcher = watch(broker.port, ["hinge-station/#"])
    publisher = make_publisher(broker.port)  # events before the connection are queued, not lost
    reps = [make_rep(1), make_rep(2, oks=(True, True, True)), make_rep(3, oks=(False, None, True))]
    reps[1] = dataclasses.replace(reps[1], descent_s=float("nan"))  # a detector glitch must not break JSON
    publisher.handle(SetStarted(1.0, 1))
    for rep in reps:
        publisher.handle(RepCompleted(rep.t_lockout_s, rep))
    publisher.handle(SetEnded(30.0, 1, 3, 1.0))
    topics = publisher.topics
    watcher.wait_for(lambda: len(watcher.on(topics.rep)) == 3 and len(watcher.on(topics.set_summary)) == 1,
                     "three reps and a set summary")  # fmt: skip

    for rep, message in zip(reps, watcher.on(topics.rep), strict=True):
        assert message.qos == 1 and not message.retain
        payload = strict_json(message.payload)
        expected = json.loads(json.dumps(rep.to_json()).replace("NaN", "null"))
        assert {k: payload[k] for k in expected} == expected
        assert payload["station"] == "bay1" and str(payload["time"]).endswith("+00:00")
    summary = strict_json(watcher.on(topics.set_summary)[0].payload)
    assert (summary["n"], summary["reps"], summary["t_start"], summary["t_end"]) == (1, 3, 1.0, 30.0)
    assert summary["keys"] == {
        "unlock_knees": {"pass": 2, "fail": 1, "ungraded": 0},
        "hips_back_chest_down": {"pass": 1, "fail": 1, "ungraded": 1},
        "knees_after_hips": {"pass": 2, "fail": 0, "ungraded": 1},
    }
    publisher.close()
    watcher.wait_for(lambda: watcher.on(topics.availability)[-1].payload == b"offline", "'offline' on close")


def test_last_will_says_offline_when_the_process_is_killed(broker: Broker, watch: Watch) -> None:
    watcher = watch(broker.port, ["hinge-station/killed/availability"])
    script = (
        "import sys, time\n"
        "from station.publish import MqttPublisher\n"
        "from station.settings.mqtt import MqttSettings\n"
        "pub = MqttPublisher(MqttSettings(enabled=True, host='127.0.0.1', port=int(sys.argv[1])), 'killed')\n"
        "end = time.monotonic() + 10\n"
        "while not pub.connected and time.monotonic() < end:\n"
        "    time.sleep(0.02)\n"
        "print('connected' if pub.connected else pub.reason, flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script, str(broker.port)], cwd=REPO_DIR,
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "connected"
        watcher.wait_for(lambda: [m.payload for m in watcher.messages][-1:] == [b"online"], "'online'")
        os.kill(process.pid, signal.SIGKILL)  # no DISCONNECT packet: only the broker can speak for it
        watcher.wait_for(lambda: watcher.messages[-1].payload == b"offline", "the last will")
    finally:
        process.kill()
        process.wait(WAIT_S)
        process.stdout.close()  # type: ignore[union-attr]
    late = watch(broker.port, ["hinge-station/killed/availability"])
    late.wait_for(lambda: len(late.messages) == 1, "the retained availability")
    assert late.messages[0].payload == b"offline" and late.messages[0].retain


def test_reps_published_while_the_broker_is_down_arrive_in_order(
    broker: Broker, make_publisher: MakePublisher, caplog: pytest.LogCaptureFixture, watch: Watch
) -> None:
    caplog.set_level(logging.INFO, logger="station.publish")
    # A persistent session: the broker keeps the subscription (and queues for it) across its restart.
    watcher = watch(broker.port, ["hinge-station/bay1/rep", "hinge-station/bay1/set"], "watcher", persistent=True)
    publisher = connected(make_publisher(broker.port))
    topics = publisher.topics
    publisher.handle(SetStarted(1.0, 1))
    publisher.handle(RepCompleted(3.0, make_rep(1)))
    watcher.wait_for(lambda: reps_seen(watcher, topics.rep) == [1], "rep 1 before the outage")
    wait_until(lambda: publisher.status().queued == 0, "rep 1 acknowledged (else paho resends it: a duplicate)")

    broker.stop()
    wait_until(lambda: not publisher.connected, "the publisher to notice the broker is gone")
    assert "lost the connection" in str(publisher.reason)
    for n in range(2, 42):
        publisher.handle(RepCompleted(2.0 * n + 1.6, make_rep(n)))
    publisher.handle(SetEnded(90.0, 1, 41, 1.0))
    assert publisher.status().queued >= 41  # all held here; none dropped, none lost
    broker.start()

    watcher.wait_for(lambda: len(watcher.on(topics.set_summary)) == 1, "the set summary after the restart")
    assert reps_seen(watcher, topics.rep) == list(range(1, 42)), "every rep, once, in order"
    assert watcher.messages[-1].topic == topics.set_summary, "the summary after its reps"
    wait_until(lambda: publisher.connected and publisher.status().queued == 0, "the outbox to drain")
    assert publisher.status().dropped == 0
    assert sum("MQTT connected" in r.getMessage() for r in caplog.records) == 2, "connected, then reconnected"


def test_reps_in_flight_when_the_broker_crashes_are_resent_first(
    broker: Broker, make_publisher: MakePublisher, watch: Watch
) -> None:
    watcher = watch(broker.port, ["hinge-station/bay1/rep"], "watcher-crash", persistent=True)
    publisher = connected(make_publisher(broker.port))
    broker.save()  # the watcher's session survives the crash below
    broker.freeze()
    for n in range(1, 16):  # 10 go out unacknowledged (the in-flight window), 5 wait in the outbox
        publisher.handle(RepCompleted(2.0 * n, make_rep(n)))
    wait_until(lambda: publisher.status().queued == 15 + 1, "the reps and the state to be queued")
    broker.kill()
    wait_until(lambda: not publisher.connected, "the publisher to notice the crash")
    broker.start()
    watcher.wait_for(lambda: len(watcher.messages) >= 15, "fifteen reps after the crash")
    wait_until(lambda: publisher.status().queued == 0, "every rep acknowledged")
    assert reps_seen(watcher, publisher.topics.rep) == list(range(1, 16)), "resent ones first, then the rest"


def test_a_full_buffer_drops_the_oldest_and_counts(
    broker: Broker, make_publisher: MakePublisher, caplog: pytest.LogCaptureFixture, watch: Watch
) -> None:
    watcher = watch(broker.port, ["hinge-station/bay1/rep"], "watcher-full", persistent=True)
    publisher = connected(make_publisher(broker.port, buffer_size=10))
    broker.stop()
    wait_until(lambda: not publisher.connected, "the publisher to notice the broker is gone")
    for n in range(1, 16):
        publisher.handle(RepCompleted(2.0 * n, make_rep(n)))
    assert publisher.status().dropped == 5
    assert any("buffer full (10 messages)" in r.getMessage() for r in caplog.records)
    broker.start()
    watcher.wait_for(lambda: len(watcher.messages) == 10, "the ten newest reps")
    assert reps_seen(watcher, publisher.topics.rep) == list(range(6, 16))


def test_reannounces_when_home_assistant_comes_online(
    broker: Broker, make_publisher: MakePublisher, watch: Watch
) -> None:
    publisher = connected(make_publisher(broker.port))
    watcher = watch(broker.port, ["homeassistant/sensor/#", publisher.topics.state])
    watcher.wait_for(lambda: len(watcher.messages) == len(OBJECTS) + 1, "the retained configs and state")

    watcher.client.publish("homeassistant/status", "offline", qos=1).wait_for_publish(WAIT_S)
    time.sleep(0.3)  # give a wrong re-announce the time to show up
    assert len(watcher.messages) == len(OBJECTS) + 1, "'offline' must not trigger an announcement"

    watcher.client.publish("homeassistant/status", "online", qos=1).wait_for_publish(WAIT_S)

    def live() -> list[str]:
        return [m.topic for m in watcher.messages if not m.retain]

    watcher.wait_for(lambda: len(live()) == len(OBJECTS) + 1, "the configs and state announced again")
    assert set(live()) == {f"homeassistant/sensor/bay1/{o}/config" for o in OBJECTS} | {publisher.topics.state}


def test_wrong_credentials_are_logged_and_the_station_keeps_running(
    secure_broker: Broker, make_publisher: MakePublisher, caplog: pytest.LogCaptureFixture
) -> None:
    publisher = make_publisher(secure_broker.port, username="station", password="wrong")
    wait_until(lambda: "refused" in str(publisher.reason), "the broker's refusal")
    assert not publisher.connected
    assert "Not authorized" in str(publisher.reason) or "Bad user name" in str(publisher.reason)
    assert "check [mqtt] username and password/password_file" in str(publisher.reason)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "station.publish"]
    assert errors and "refused the connection" in errors[0].getMessage()
    publisher.handle(SetStarted(1.0, 1))  # the pipeline goes on: no exception, events queued
    publisher.handle(RepCompleted(3.0, make_rep(1)))
    publisher.set_state("running")
    assert publisher.status().queued >= 2
    started = time.monotonic()
    publisher.close()
    assert time.monotonic() - started < WAIT_S


def test_tls_with_a_password_file_delivers(
    secure_broker: Broker, tls_files: TlsFiles, make_publisher: MakePublisher, tmp_path: Path, watch: Watch
) -> None:
    password_file = tmp_path / "mqtt-password"
    password_file.write_text(USERS["station"] + "\n")
    password_file.chmod(0o600)
    watcher = watch(secure_broker.port, ["hinge-station/#"], auth=("watcher", USERS["watcher"]))
    assert secure_broker.tls_port is not None
    publisher = make_publisher(secure_broker.tls_port, tls=True, ca_file=str(tls_files.ca), username="station",
                               password_file=str(password_file))  # fmt: skip
    publisher.handle(RepCompleted(3.0, make_rep(1)))
    watcher.wait_for(lambda: len(watcher.on(publisher.topics.rep)) == 1, "the rep over TLS")
    assert publisher.connected and publisher.reason is None
    assert f"on port {secure_broker.tls_port}" in secure_broker.log(), "it came in through the TLS listener"


def test_an_untrusted_broker_certificate_is_a_clear_error(
    secure_broker: Broker, make_publisher: MakePublisher, caplog: pytest.LogCaptureFixture
) -> None:
    assert secure_broker.tls_port is not None
    publisher = make_publisher(secure_broker.tls_port, tls=True, username="station", password="right-password")
    wait_until(lambda: "TLS" in str(publisher.reason), "the TLS failure")
    assert "certificate verify failed" in str(publisher.reason) and "ca_file" in str(publisher.reason)
    assert any(r.levelno == logging.ERROR and "TLS" in r.getMessage() for r in caplog.records)
    publisher.handle(RepCompleted(3.0, make_rep(1)))
    assert not publisher.connected


def test_no_broker_at_all_keeps_queueing(make_publisher: MakePublisher, caplog: pytest.LogCaptureFixture) -> None:
    publisher = make_publisher(free_port())
    wait_until(lambda: "cannot reach" in str(publisher.reason), "the connection failure")
    assert "Connection refused" in str(publisher.reason)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [f"MQTT: {publisher.reason}"], "one warning, and no paho noise"
    publisher.handle(RepCompleted(3.0, make_rep(1)))
    assert not publisher.connected and publisher.status().queued >= 1


def test_settings_from_config_and_their_errors(tmp_path: Path) -> None:
    config = load_config(None, env={"STATION_MQTT__ENABLED": "true", "STATION_MQTT__STATION_ID": "bay-2",
                                    "STATION_MQTT__PORT": "8883", "STATION_MQTT__TLS": "true"})  # fmt: skip
    mqtt = config.mqtt
    assert (mqtt.enabled, mqtt.station_id, mqtt.port, mqtt.tls) == (True, "bay-2", 8883, True)
    assert publisher_from_settings(MqttSettings()) is None, "off by default"
    with pytest.raises(ConfigError, match="station_id 'bay 2' may only hold"):
        load_config(None, env={"STATION_MQTT__STATION_ID": '"bay 2"'})
    with pytest.raises(ConfigError, match="set password or password_file, not both"):
        load_config(None, env={"STATION_MQTT__PASSWORD": "x", "STATION_MQTT__PASSWORD_FILE": "/x"})
    missing = MqttSettings(enabled=True, username="station", password_file=str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match=r"password_file .*nope cannot be read .*chmod 600"):
        MqttPublisher(missing, "bay1")
    with pytest.raises(ConfigError, match="ca_file .* does not exist"):
        MqttPublisher(MqttSettings(tls=True, ca_file=str(tmp_path / "ca.crt")), "bay1")
    with pytest.raises(ConfigError, match="station id 'a/b'"):
        MqttPublisher(MqttSettings(), "a/b")
