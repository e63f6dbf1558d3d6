"""Serve sandbox cores on loopback: one port per system, the same ``handle`` as in-process.

The real services live on different hosts (login.procore.com / api.procore.com,
{account}.suitetalk.api.netsuite.com, oauth.platform.intuit.com / quickbooks.api.intuit.com);
here each system gets its own port and serves both its auth and its API paths, so a Connection's
base URLs are the only thing that differs from production.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from .core import Sandbox, httpx_sender

log = logging.getLogger(__name__)

# Hop-by-hop headers the adapter manages itself.
_SKIP = {"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"}


def make_handler(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        public_url = ""  # set once the socket is bound (port 0 picks a free port)
        protocol_version = "HTTP/1.1"  # keep-alive, so loopback throughput is not all handshakes
        server_version = f"erpbridge-sandbox-{sandbox.name}"
        # Headers and body go out as separate writes; with Nagle on, the client's delayed ACK
        # turns every keep-alive request into a 40 ms wait.
        disable_nagle_algorithm = True

        def log_message(self, fmt: str, *args: Any) -> None:  # quiet by default
            log.debug("%s %s", sandbox.name, fmt % args)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = [(k, v) for k, v in self.headers.items()]
            request = httpx.Request(
                self.command, self.public_url + self.path, headers=headers, content=body
            )
            try:
                response = sandbox.handle(request)
            except (httpx.TransportError, httpx.TimeoutException):
                # commit-then-drop or a simulated timeout: hang up without an answer.
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(2)
                return
            except Exception:  # a sandbox bug: answer 500 rather than kill the thread
                log.exception("sandbox %s failed on %s %s", sandbox.name, self.command, self.path)
                response = httpx.Response(500, content=b'{"error":"sandbox internal error"}')
            content = response.content
            self.send_response(response.status_code)
            for key, value in response.headers.multi_items():
                if key.lower() not in _SKIP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    return Handler


class SandboxServer:
    """One HTTP server per sandbox, each in its own thread, plus a webhook delivery loop."""

    def __init__(self, host: str = "127.0.0.1", webhook_interval: float = 1.0) -> None:
        self.host = host
        self.webhook_interval = webhook_interval
        self.servers: list[tuple[Sandbox, ThreadingHTTPServer]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def add(self, sandbox: Sandbox, port: int) -> str:
        handler = make_handler(sandbox)
        server = ThreadingHTTPServer((self.host, port), handler)
        server.daemon_threads = True
        handler.public_url = f"http://{self.host}:{server.server_address[1]}"
        self.servers.append((sandbox, server))
        return handler.public_url

    def url_of(self, sandbox: Sandbox) -> str:
        for box, server in self.servers:
            if box is sandbox:
                return f"http://{self.host}:{server.server_address[1]}"
        raise KeyError(sandbox.name)

    def start(self) -> None:
        for sandbox, server in self.servers:
            thread = threading.Thread(target=server.serve_forever, name=f"sandbox-{sandbox.name}")
            thread.daemon = True
            thread.start()
            self._threads.append(thread)
        flusher = threading.Thread(target=self._deliver_loop, name="sandbox-webhooks", daemon=True)
        flusher.start()
        self._threads.append(flusher)

    def _deliver_loop(self) -> None:
        sender = httpx_sender()
        while not self._stop.wait(self.webhook_interval):
            for sandbox, _ in self.servers:
                try:
                    sandbox.deliver(sender)
                except Exception:  # keep delivering for the other sandboxes
                    log.exception("webhook delivery failed for %s", sandbox.name)

    def stop(self) -> None:
        self._stop.set()
        for _, server in self.servers:
            server.shutdown()
            server.server_close()
