"""MqttPublisher: a pipeline sink that feeds reps, sets and state to an MQTT broker.

It never blocks the pipeline: `handle` only queues into the `Outbox`; a sender thread hands
messages to paho's network thread when the broker is connected. Delivery is QoS 1 (at least
once) so a rep is either acknowledged by the broker or still queued here.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import stat
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from station.errors import ConfigError
from station.publish.buffer import Message, Outbox
from station.publish.feed import FeedState, encode
from station.publish.topics import Topics, discovery_configs, resolve_station_id
from station.settings.mqtt import MqttSettings
from station.types import Event, RepCompleted

log = logging.getLogger("station.publish")

QOS = 1  # at least once: the broker acknowledges every rep; duplicates are harmless, losses are not
CLOSE_TIMEOUT_S = 3.0  # the longest shutdown waits to flush: well inside systemd's 90 s stop timeout
_AUTH_FAILURES = {"Bad user name or password", "Not authorized"}
_PAHO_LOG = logging.getLogger("station.publish.paho")
# paho 2.2 logs this at ERROR on every retry while the broker is away; our own line says it once.
_PAHO_LOG.addFilter(lambda record: not str(record.msg).startswith("Client is not connected"))


@dataclass(frozen=True)
class PublisherStatus:
    """What the status page shows about the feed."""

    connected: bool
    reason: str | None  # why not connected; None while connected
    queued: int  # messages (events, latest state, configs) the broker has not acknowledged yet
    dropped: int  # events dropped because the buffer was full
    delivered: int  # messages the broker acknowledged


class MqttPublisher:
    """Sink (`handle`, `close`) publishing to `<base_topic>/<station_id>/...` with HA discovery."""

    def __init__(self, settings: MqttSettings, station_id: str) -> None:
        try:
            self.topics = Topics.of(settings, station_id)
        except ValueError as exc:
            raise ConfigError(f"[mqtt] {exc}") from None
        self._settings = settings
        self._where = f"{settings.host}:{settings.port}"
        self._client = self._make_client(settings, station_id)
        self._feed = FeedState(station_id)
        self._feed_lock = threading.Lock()
        self._outbox = Outbox(settings.buffer_size)
        self._state_lock = threading.Lock()
        self._connected = False
        self._reason: str | None = f"connecting to {self._where}"
        self._logged_reason: str | None = None
        self._warned_full = False
        self._closed = False
        self._sender = threading.Thread(target=self._send_loop, name="mqtt-sender", daemon=True)
        self._sender.start()
        self._client.connect_async(settings.host, settings.port, settings.keepalive_s)
        self._client.loop_start()

    def _make_client(self, settings: MqttSettings, station_id: str) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=settings.client_id or f"hinge-station-{station_id}",
            protocol=mqtt.MQTTv311,  # what every broker and Home Assistant speak
        )
        client.enable_logger(_PAHO_LOG)
        client.suppress_exceptions = True  # a bug in a callback is logged, the network thread lives on
        client.will_set(self.topics.availability, "offline", qos=QOS, retain=True)
        client.reconnect_delay_set(settings.reconnect_min_s, settings.reconnect_max_s)
        if settings.username:
            client.username_pw_set(settings.username, _password(settings) or None)
        if settings.tls:
            _configure_tls(client, settings)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    # --- the pipeline's side: queue only, never raise ---

    def handle(self, event: Event) -> None:
        if self._closed:
            return
        try:
            with self._feed_lock:
                payload = self._feed.apply(event)
                state = encode(self._feed.snapshot())
            if payload is not None:
                topic = self.topics.rep if isinstance(event, RepCompleted) else self.topics.set_summary
                self._queue_event(Message(topic, encode(payload), retain=False))
            self._outbox.put_latest(Message(self.topics.state, state, retain=True))
        except Exception:  # the feed is optional: it must never stop the station
            log.exception("MQTT feed could not queue %s", type(event).__name__)

    def set_state(self, state: str) -> None:
        """Publish the station's state (e.g. "running", "camera_error"), retained."""
        if self._closed:
            return
        with self._feed_lock:
            self._feed.state = state
            payload = encode(self._feed.snapshot())
        self._outbox.put_latest(Message(self.topics.state, payload, retain=True))

    def _queue_event(self, message: Message) -> None:
        if self._outbox.put_event(message) and not self._warned_full:
            self._warned_full = True
            log.warning(
                "MQTT buffer full (%d messages) while %s: dropping the oldest; the history database keeps every rep",
                self._settings.buffer_size, self.reason,
            )  # fmt: skip

    def close(self) -> None:
        """Flush for up to CLOSE_TIMEOUT_S, say "offline", disconnect."""
        if self._closed:
            return
        self._closed = True
        self._outbox.put_latest(Message(self.topics.availability, b"offline", retain=True))
        self._outbox.wait_empty(CLOSE_TIMEOUT_S)
        lost = self._outbox.close()
        self._sender.join(CLOSE_TIMEOUT_S)
        if self._connected:  # paho logs an error for a DISCONNECT without a connection
            self._client.disconnect()
        self._client.loop_stop()
        # paho closes its internal socket pair only in __del__, which a reference cycle (our bound
        # callbacks) delays to a GC pass; reinitialise() is the public way to close it now.
        self._client.reinitialise()
        if lost:
            log.warning("MQTT feed closed with %d rep/set message(s) the broker never acknowledged (%s)", lost, self.reason)

    # --- what the status page reads ---

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def reason(self) -> str | None:
        """Why the publisher is not connected (None while connected)."""
        return self._reason

    def status(self) -> PublisherStatus:
        return PublisherStatus(
            self._connected, self._reason, self._outbox.queued, self._outbox.dropped, self._outbox.delivered
        )

    # --- the sender thread and paho's callbacks (paho's network thread) ---

    def _send_loop(self) -> None:
        while (message := self._outbox.take()) is not None:
            try:
                info = self._client.publish(message.topic, message.payload, qos=QOS, retain=message.retain)
            except ValueError as exc:  # e.g. a payload over the broker's limit: it can never be sent
                log.error("MQTT dropped a message for %s: %s", message.topic, exc)
                continue
            # NO_CONN: paho keeps a QoS 1 message and sends it after the reconnect, in order.
            if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                self._outbox.handed_over(info.mid, message)
            else:
                log.error("MQTT publish to %s failed (%s); kept queued", message.topic, mqtt.error_string(info.rc))
                self._outbox.put_back(message)
                time.sleep(1.0)  # a broken link: paho's reconnect, not a busy retry, is the cure

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            name = reason.getName()
            hint = "check [mqtt] username and password/password_file" if name in _AUTH_FAILURES else "retrying"
            self._fail(f"broker {self._where} refused the connection: {name}; {hint}", logging.ERROR)
            return
        if self._settings.discovery:
            client.subscribe(self.topics.ha_status, qos=QOS)
        self._outbox.put_latest(Message(self.topics.availability, b"online", retain=True))
        self._announce()
        with self._state_lock:
            self._connected, self._reason, self._logged_reason = True, None, None
        self._warned_full = False
        log.info("MQTT connected to %s as %s", self._where, self.topics.root)
        self._outbox.set_connected(True)

    def _announce(self) -> None:
        """Queue the discovery configs and the current state (retained)."""
        if self._settings.discovery:
            for topic, config in discovery_configs(self.topics).items():
                self._outbox.put_latest(Message(topic, json.dumps(config).encode(), retain=True))
        with self._feed_lock:
            state = encode(self._feed.snapshot())
        self._outbox.put_latest(Message(self.topics.state, state, retain=True))

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        exc = sys.exception()  # paho calls us inside its `except OSError`: the cause is still at hand
        if isinstance(exc, ssl.SSLError):
            text = f"TLS with {self._where} failed ({exc}); check [mqtt] ca_file, cert_file, key_file and host"
            self._fail(text, logging.ERROR)
        else:
            self._fail(f"cannot reach the MQTT broker at {self._where} ({exc}); retrying", logging.WARNING)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._outbox.set_connected(False)
        if self._connected and not self._closed:
            self._fail(f"lost the connection to {self._where}; buffering and retrying", logging.WARNING)
        with self._state_lock:
            self._connected = False

    def _fail(self, reason: str, level: int) -> None:
        with self._state_lock:
            repeated = reason == self._logged_reason
            self._logged_reason = reason
            log.log(logging.DEBUG if repeated or self._closed else level, "MQTT: %s", reason)
            self._connected, self._reason = False, reason  # after the log: whoever sees it finds it logged

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        self._outbox.acknowledged(mid)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic == self.topics.ha_status and message.payload == b"online":
            log.info("Home Assistant came online: announcing %s again", self.topics.root)
            self._announce()


def _password(settings: MqttSettings) -> str:
    if not settings.password_file:
        return settings.password
    path = Path(settings.password_file)
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(
            f"[mqtt] password_file {path} cannot be read ({exc.strerror}): "
            "put the broker password in it, readable by the station user only (chmod 600)"
        ) from None
    if mode & stat.S_IROTH:
        log.warning("[mqtt] password_file %s is world-readable: chmod 600 it", path)
    return text.strip("\r\n")


class _ClosingSSLSocket(ssl.SSLSocket):
    """paho leaves the socket open when a TLS handshake fails (one fd per retry): close it here."""

    def do_handshake(self, block: bool = False) -> None:
        try:
            super().do_handshake(block)
        except BaseException:
            self.close()
            raise


def _configure_tls(client: mqtt.Client, settings: MqttSettings) -> None:
    for name in ("ca_file", "cert_file", "key_file"):
        value = getattr(settings, name)
        if value and not os.access(value, os.R_OK):
            raise ConfigError(f"[mqtt] {name} {value} does not exist or is not readable: fix the path")
    try:  # verifies the chain and the host name; the system CAs when no ca_file
        context = ssl.create_default_context(cafile=settings.ca_file or None)
        if settings.cert_file:
            context.load_cert_chain(settings.cert_file, settings.key_file)
    except (ssl.SSLError, ValueError) as exc:
        raise ConfigError(f"[mqtt] TLS files are not usable ({exc}): check ca_file, cert_file and key_file") from None
    context.sslsocket_class = _ClosingSSLSocket
    client.tls_set_context(context)
    client.tls_insecure_set(settings.tls_insecure)


def publisher_from_settings(settings: MqttSettings) -> MqttPublisher | None:
    """The publisher the pipeline adds as a sink, or None when [mqtt] enabled is false."""
    return MqttPublisher(settings, resolve_station_id(settings)) if settings.enabled else None
