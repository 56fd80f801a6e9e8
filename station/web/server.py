"""The status page served by waitress (a production WSGI server) in a background thread."""

from __future__ import annotations

import socket
import threading

from flask import Flask

from station.errors import ConfigError

SPARE_THREADS = 4  # page, API and static requests keep flowing while every live stream is open
LOOP_TIMEOUT_S = 1.0  # waitress's own default: how often its loop looks at idle channels
# waitress buffers a whole body (spilling to disk) before the app sees it: a gigabyte upload would
# fill a Pi's SD card. Bodies past 64 KiB are refused by waitress itself; Flask's own 16 KiB cap
# answers the ones in between with a JSON 413.
MAX_BODY_BYTES = 64 * 1024
MAX_HEADER_BYTES = 32 * 1024  # the page's requests carry ~1 KiB of headers


class WebServer:
    """waitress on (host, port); port 0 picks a free one, read back from `port`."""

    def __init__(self, app: Flask, host: str, port: int, max_streams: int) -> None:
        from waitress import create_server

        try:
            self._server = create_server(
                app,
                host=host,
                port=port,
                threads=max_streams + SPARE_THREADS,
                ident="station",
                clear_untrusted_proxy_headers=True,
                max_request_body_size=MAX_BODY_BYTES,
                max_request_header_size=MAX_HEADER_BYTES,
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot serve the status page on {host}:{port} ({exc.strerror or exc}): "
                "free the port or choose another with --port or [web] port"
            ) from None
        self.host = host
        self.port = int(self._server.effective_port)  # type: ignore[union-attr]
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="web", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        """waitress's event loop, stoppable; sockets are closed here, never under a running select()."""
        from waitress import wasyncore

        channels = self._server._map  # type: ignore[union-attr]
        try:
            while not self._closing.is_set():
                wasyncore.loop(timeout=LOOP_TIMEOUT_S, map=channels, count=1)
        finally:
            wasyncore.close_all(channels)

    def close(self, timeout_s: float = 5.0) -> None:
        """Let running requests end (close the hub first so live streams finish), then stop."""
        self._server.task_dispatcher.shutdown(timeout=timeout_s)  # type: ignore[union-attr]
        self._closing.set()
        if self._thread.is_alive():
            try:
                self._server.pull_trigger()  # type: ignore[union-attr]
            except OSError:
                pass  # the loop saw _closing and closed the trigger already: nothing left to wake
            self._thread.join(timeout_s)
        else:
            from waitress import wasyncore

            wasyncore.close_all(self._server._map)  # type: ignore[union-attr]

    @property
    def local_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"http://{host}:{self.port}/"

    @property
    def network_url(self) -> str | None:
        """How a phone on the gym network reaches the page, when it listens on every interface."""
        if self.host not in ("0.0.0.0", "", "::"):
            return None
        return f"http://{socket.gethostname()}.local:{self.port}/"
