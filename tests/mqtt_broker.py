"""A real Mosquitto broker for tests (started by the test itself) and a subscriber that records.

Nothing here is faked: the broker is Debian's mosquitto on a free loopback port, with a temp
config, an optional password file made by mosquitto_passwd and optional TLS with a throwaway
CA made by the openssl CLI.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

_SBIN_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/usr/local/sbin"
WAIT_S = 10.0  # generous upper bound for anything on loopback; tests finish in far less


def _tool(name: str, package: str) -> str:
    path = shutil.which(name, path=_SBIN_PATH)
    if path is None:
        pytest.fail(f"{name} is not installed: apt-get install {package} (setup.sh installs it)", pytrace=False)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


def make_tls_files(folder: Path) -> TlsFiles:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost, made with openssl."""
    openssl = _tool("openssl", "openssl")
    folder.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ext = folder / "server.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\n"
    )
    steps = [
        ["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "server.crt", "-days", "2", "-extfile", "server.ext"],
    ]  # fmt: skip
    for args in steps:
        subprocess.run([openssl, *args], cwd=folder, check=True, capture_output=True, timeout=30)
    return TlsFiles(folder / "ca.crt", folder / "server.crt", folder / "server.key")


class Broker:
    """mosquitto in a temp folder; `stop` and `start` again keep the ports and persisted sessions."""

    def __init__(self, folder: Path, users: dict[str, str] | None = None, tls: TlsFiles | None = None) -> None:
        self.folder = folder
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.log_path = folder / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        lines = [
            f"user {pwd.getpwuid(os.getuid()).pw_name}",  # as root, stay root: it must read tmp files
            "per_listener_settings false",
            f"allow_anonymous {'false' if users else 'true'}",
            "persistence true",  # sessions and retained messages survive stop/start, as on a real broker
            f"persistence_location {folder}/",
            f"log_dest file {self.log_path}",
            "log_type all",
            f"listener {self.port} 127.0.0.1",
        ]
        if users:
            passwd = _tool("mosquitto_passwd", "mosquitto")
            password_file = folder / "passwd"
            for i, (user, password) in enumerate(users.items()):
                create = ["-c"] if i == 0 else []
                subprocess.run([passwd, *create, "-b", str(password_file), user, password], check=True, timeout=30)
            lines.append(f"password_file {password_file}")
        if tls:
            lines += [f"listener {self.tls_port} 127.0.0.1", f"cafile {tls.ca}", f"certfile {tls.cert}",
                      f"keyfile {tls.key}"]  # fmt: skip
        self.config_path = folder / "mosquitto.conf"
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        mosquitto = _tool("mosquitto", "mosquitto")
        self._process = subprocess.Popen(
            [mosquitto, "-c", str(self.config_path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                pytest.fail(f"mosquitto exited ({self._process.returncode}): {err} {self.log()}", pytrace=False)
            if "running" in self.log().rsplit("starting", 1)[-1]:
                return
            time.sleep(0.02)
        pytest.fail(f"mosquitto did not start within {WAIT_S} s: {self.log()}", pytrace=False)

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM, as systemd stops it: clients see the socket close, sessions are saved."""
        if self._process is not None:
            self._process.send_signal(how)
            self._process.wait(WAIT_S)
            if self._process.stderr:
                self._process.stderr.close()
            self._process = None

    def save(self) -> None:
        """SIGUSR1: mosquitto writes its persistence file now (sessions, subscriptions)."""
        assert self._process is not None
        saves = self.log().count("Saving in-memory database")
        self._process.send_signal(signal.SIGUSR1)
        wait_until(lambda: self.log().count("Saving in-memory database") > saves, "mosquitto to save")
        # The log line opens the save; a CONNACK answered after it proves the save is done
        # (the broker is single-threaded and saves between two rounds of its event loop).
        probe = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        probe.connect("127.0.0.1", self.port)
        probe.loop_start()
        wait_until(probe.is_connected, "the probe's CONNACK after the save")
        probe.disconnect()
        probe.loop_stop()
        probe.reinitialise()  # closes paho's internal socket pair now, not at some GC pass

    def freeze(self) -> None:
        """SIGSTOP: connections stay open but nothing is read or acknowledged."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)
        stat = Path(f"/proc/{self._process.pid}/stat")
        wait_until(lambda: stat.read_text().rsplit(")", 1)[1].split()[0] == "T", "mosquitto to stop")

    def kill(self) -> None:
        """SIGKILL: a crash; whatever was unread in its sockets is gone, nothing is saved."""
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Watcher:
    """A subscriber client in the test that records every message it receives."""

    def __init__(
        self,
        port: int,
        topics: list[str],
        client_id: str = "",
        persistent: bool = False,
        auth: tuple[str, str] | None = None,
        ca: Path | None = None,
    ) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self._topics = topics
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent
        )
        if auth:
            self.client.username_pw_set(*auth)
        if ca:
            self.client.tls_set(ca_certs=str(ca))
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        assert self._subscribed.wait(WAIT_S), "the test subscriber could not subscribe"

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
        client.subscribe([(topic, 1) for topic in self._topics])

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def on(self, topic: str) -> list[mqtt.MQTTMessage]:
        with self._cond:
            return [m for m in self.messages if m.topic == topic]

    def wait_for(self, check: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
        """Wait until `check()` holds, re-checked at every message; fail naming `what`."""
        with self._cond:
            if not self._cond.wait_for(check, timeout_s):
                seen = sorted({m.topic for m in self.messages})
                pytest.fail(f"timed out waiting for {what}; topics seen: {seen}", pytrace=False)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.client.reinitialise()  # closes paho's internal socket pair now, not at some GC pass


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    """Poll `check` (state owned by another thread) until true; fail naming `what`."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}", pytrace=False)
        time.sleep(0.02)
