"""Register our endpoints with the senders, and keep each connection's webhook secret.

* Procore: a company hook in our namespace pointing at ``/webhooks/procore/<id>/`` with a
  random ``Authorization`` value (stored encrypted, compared on every delivery) and the
  triggers for the resources we sync. Our service account's user id is kept so deliveries
  caused by our own writes are recognised as echoes.
* QuickBooks: the webhook endpoint and its verifier token are set on the app's page in
  Intuit's developer portal; the admin stores the token here (``webhook_secret_set``).
* NetSuite: our user-event script is deployed with the target URL and the shared secret;
  ``webhook_secret_generate`` makes the secret, the allow-list lives in the settings.
"""

from __future__ import annotations

import secrets as pysecrets

from django.urls import reverse

from sync.models import Connection, Kind
from sync.services.connections import connection_set_secrets
from sync.webhooks.senders import SECRET_NAMES
from sync.webhooks.services import PROCORE_TRIGGERS

NAMESPACE = "erpbridge"
ROUTES = {
    Kind.PROCORE: "webhooks:procore",
    Kind.QUICKBOOKS: "webhooks:quickbooks",
    Kind.NETSUITE: "webhooks:netsuite",
}


def webhook_url(connection: Connection, base_url: str) -> str:
    return base_url.rstrip("/") + reverse(ROUTES[connection.kind], args=[connection.pk])


def webhook_secret_set(*, connection: Connection, value: str) -> Connection:
    return connection_set_secrets(
        connection=connection, secrets={SECRET_NAMES[connection.kind]: value}
    )


def webhook_secret_generate(*, connection: Connection) -> str:
    """The connection's secret, created once (a second call returns the same one)."""
    name = SECRET_NAMES[connection.kind]
    value = connection.secrets.get(name)
    if not value:
        value = pysecrets.token_urlsafe(32)
        if connection.kind == Kind.PROCORE:
            value = f"Bearer {value}"
        webhook_secret_set(connection=connection, value=value)
    return value


def procore_hook_install(*, connection: Connection, base_url: str, client) -> dict:
    """Create (once) the hook and its triggers; safe to repeat."""
    authorization = webhook_secret_generate(connection=connection)
    url = webhook_url(connection, base_url)
    hook = client.ensure_hook(namespace=NAMESPACE, destination_url=url, authorization=authorization)
    client.ensure_triggers(hook.id, PROCORE_TRIGGERS)
    me = client.me()
    settings = {**connection.settings, "webhook_hook_id": hook.id}
    if me.get("id"):
        settings["webhook_echo_user_id"] = str(me["id"])
    Connection.objects.filter(pk=connection.pk).update(settings=settings)
    connection.settings = settings
    return {"hook_id": hook.id, "url": url}
