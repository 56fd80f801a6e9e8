"""sd_notify over a real AF_UNIX datagram socket, as systemd would receive it."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from station import systemd


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A bound datagram socket standing in for systemd's notify socket."""
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(2)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        yield sock


def received(sock: socket.socket) -> str:
    return sock.recv(4096).decode("utf-8")


def test_messages_reach_the_socket(notify_socket: socket.socket) -> None:
    assert systemd.notify_ready()
    assert received(notify_socket) == "READY=1"
    assert systemd.notify_ready("watching platform 1")
    assert received(notify_socket) == "READY=1\nSTATUS=watching platform 1"
    assert systemd.notify_status("set 2,\nrep 4")
    assert received(notify_socket) == "STATUS=set 2, rep 4"  # one line: a newline would start a new KEY=
    assert systemd.notify_watchdog()
    assert received(notify_socket) == "WATCHDOG=1"
    assert systemd.notify_stopping()
    assert received(notify_socket) == "STOPPING=1"
    systemd.notify_status("x" * 1000)
    assert len(received(notify_socket)) == len("STATUS=") + 200


def test_abstract_namespace_address(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"station-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert systemd.notify_watchdog()
        assert received(sock) == "WATCHDOG=1"


def test_without_systemd_everything_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert not systemd.notify_ready()
    assert not systemd.notify_watchdog()
    assert not systemd.notify_status("idle")
    assert not systemd.notify_stopping()


def test_a_vanished_socket_does_not_stop_the_station(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert not systemd.notify_watchdog()


def test_watchdog_period_from_watchdog_usec() -> None:
    me = str(os.getpid())
    assert systemd.watchdog_period_s({"WATCHDOG_USEC": "10000000"}) == 10.0
    assert systemd.watchdog_period_s({"WATCHDOG_USEC": "2500000", "WATCHDOG_PID": me}) == 2.5
    assert systemd.watchdog_period_s({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}) is None  # another process's
    assert systemd.watchdog_period_s({}) is None
    assert systemd.watchdog_period_s({"WATCHDOG_USEC": "soon"}) is None
    assert systemd.watchdog_period_s({"WATCHDOG_USEC": "0"}) is None
