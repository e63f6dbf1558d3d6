"""Wiring for the trigger tests: the engine's default clients and lookup replaced by a
World's sandboxes, and a webhook sender that posts into Django's test client."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from sync.services import runs
from sync.webhooks.install import procore_hook_install


def wire(monkeypatch, world) -> None:
    """Jobs and webhooks build their own clients: point them at the world's sandboxes."""
    monkeypatch.setattr(runs, "_default_clients", world.clients)
    monkeypatch.setattr(runs, "MappingLookup", lambda conn: world.lookup)
    # Polls and reconciliations read the whole company several times within the sandbox's
    # 10 s spike window; the limits are the connectors' business (tested there), and the
    # engine tests' limiter does not wait.
    world.procore.spike.limit = world.procore.hourly.limit = 10**6


def django_sender(client, remote_addr: str = "127.0.0.1"):
    """A sandbox outbox sender that POSTs into the Django test client."""

    def send(url: str, headers: dict[str, str], body: bytes) -> int:
        extra = {
            "HTTP_" + k.upper().replace("-", "_"): v
            for k, v in headers.items()
            if k.lower() != "content-type"
        }
        content_type = next(
            (v for k, v in headers.items() if k.lower() == "content-type"), "application/json"
        )
        response = client.generic(
            "POST",
            urlsplit(url).path,
            data=body,
            content_type=content_type,
            REMOTE_ADDR=remote_addr,
            **extra,
        )
        return response.status_code

    return send


def install_procore_hook(world) -> dict:
    client = world.clients(world.procore_conn)
    return procore_hook_install(
        connection=world.procore_conn, base_url="http://testserver", client=client
    )


def post(client, path: str, body: bytes, **headers):
    return client.generic("POST", path, data=body, content_type="application/json", **headers)


__all__ = ["django_sender", "httpx", "install_procore_hook", "post", "wire"]
