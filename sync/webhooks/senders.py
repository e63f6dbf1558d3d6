"""Per sender: how a delivery proves where it comes from, and what it names.

* Procore signs nothing (procore-api.md §7.3): the hook carries a static ``Authorization``
  header that we chose when installing it; we compare it with the connection's stored value.
  Deliveries are at least once: de-duplicate on ``ulid``/``id``. Echoes of our own writes carry
  our application id or our service account's user id in ``metadata``.
* Intuit signs the raw body: ``intuit-signature`` = base64(HMAC-SHA256(verifier token, body))
  (quickbooks-api.md §5.1), in the legacy ``eventNotifications`` and the CloudEvents formats.
  Legacy notifications carry no id: the body's hash stands in for one.
* NetSuite has no webhooks (netsuite-api.md §7): our user-event script posts a fixed payload
  with a shared secret header; the connection also keeps an IP allow-list.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

from sync.models import Connection, Kind

PROCORE_SECRET = "webhook_authorization"  # noqa: S105 - the Authorization header value we gave the hook
QBO_SECRET = "webhook_verifier_token"  # noqa: S105 - a field name
NETSUITE_SECRET = "webhook_secret"  # noqa: S105 - a field name
SECRET_NAMES = {
    Kind.PROCORE: PROCORE_SECRET,
    Kind.QUICKBOOKS: QBO_SECRET,
    Kind.NETSUITE: NETSUITE_SECRET,
}
NETSUITE_HEADER = "X-Erpbridge-Secret"
SENSITIVE_HEADERS = {"authorization", "intuit-signature", NETSUITE_HEADER.lower(), "cookie"}


class Refused(Exception):
    """The sender could not prove who it is: 401."""


class Malformed(Exception):
    """The body is not what this sender sends: 400."""


@dataclass
class Parsed:
    event_id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    echo: bool = False
    note: str = ""


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers as recorded: secrets and signatures keep only their last 4 characters."""
    out = {}
    for name, value in headers.items():
        if name.lower() in SENSITIVE_HEADERS:
            value = "…" + value[-4:] if len(value) > 8 else "…"
        out[name] = value
    return out


def _same(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def authenticate(connection: Connection, headers: dict[str, str], body: bytes, addr: str) -> None:
    lower = {k.lower(): v for k, v in headers.items()}
    secret = connection.secrets.get(SECRET_NAMES[connection.kind])
    if not secret:
        raise Refused("no webhook secret is configured for this connection")
    if connection.kind == Kind.PROCORE:
        if not _same(lower.get("authorization"), secret):
            raise Refused("the Authorization header does not match the hook's")
    elif connection.kind == Kind.QUICKBOOKS:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        if not _same(lower.get("intuit-signature"), base64.b64encode(digest).decode()):
            raise Refused("intuit-signature does not match the body")
    else:
        if not _same(lower.get(NETSUITE_HEADER.lower()), secret):
            raise Refused(f"{NETSUITE_HEADER} does not match")
        if not ip_allowed(connection.settings.get("webhook_allowed_ips") or [], addr):
            raise Refused(f"address {addr} is not on the connection's allow-list")


def ip_allowed(allowed: list[str], addr: str) -> bool:
    """An empty list allows any address (the shared secret still has to match)."""
    if not allowed:
        return True
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if ip in ipaddress.ip_network(str(entry).strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed(f"not JSON: {exc}") from None


def parse(connection: Connection, body: bytes) -> Parsed:
    data = _json(body)
    if connection.kind == Kind.PROCORE:
        return _procore(connection, data)
    if connection.kind == Kind.QUICKBOOKS:
        return _quickbooks(connection, data, body)
    return _netsuite(connection, data)


def _procore(connection: Connection, data: Any) -> Parsed:
    if not isinstance(data, dict):
        raise Malformed("a Procore event is a JSON object")
    event_id = data.get("ulid") or data.get("id")
    resource = data.get("resource_name") or data.get("resource_type")
    resource_id = data.get("resource_id")
    if not event_id or not resource or resource_id in (None, ""):
        raise Malformed("id, resource_name and resource_id are required")
    meta = data.get("metadata") or {}
    event = {
        "kind": "procore",
        "resource": str(resource),
        "id": str(resource_id),
        "event_type": str(data.get("event_type") or data.get("reason") or ""),
        "project_id": str(data.get("project_id") or ""),
        "related": [
            {"name": str(r.get("name")), "id": str(r.get("id"))}
            for r in data.get("related_resources") or []
            if isinstance(r, dict)
        ],
    }
    parsed = Parsed(event_id=str(event_id), events=[event])
    ours_app = str(connection.settings.get("application_id") or "")
    ours_user = str(connection.settings.get("webhook_echo_user_id") or "")
    app = str(meta.get("source_application_id") or "")
    user = str(meta.get("source_user_id") or "")
    if (ours_app and app == ours_app) or (ours_user and user == ours_user):
        parsed.echo = True
        parsed.note = f"echo of our own write (application {app or '-'}, user {user or '-'})"
    return parsed


def _quickbooks(connection: Connection, data: Any, body: bytes) -> Parsed:
    realm = str(connection.settings.get("realm_id") or "")
    events: list[dict[str, Any]] = []
    if isinstance(data, dict) and isinstance(data.get("eventNotifications"), list):
        for note in data["eventNotifications"]:
            if not isinstance(note, dict):
                raise Malformed("eventNotifications holds objects")
            if realm and str(note.get("realmId")) != realm:
                continue  # notifications are per app: another company's events
            entities = (note.get("dataChangeEvent") or {}).get("entities")
            if not isinstance(entities, list):
                raise Malformed("dataChangeEvent.entities is missing")
            for ent in entities:
                if not isinstance(ent, dict) or not ent.get("name") or not ent.get("id"):
                    raise Malformed("an entity needs name and id")
                events.append(
                    {
                        "kind": "erp",
                        "type": str(ent["name"]),
                        "id": str(ent["id"]),
                        "operation": str(ent.get("operation") or ""),
                        "at": str(ent.get("lastUpdated") or ""),
                    }
                )
        event_id = "sha256:" + hashlib.sha256(body).hexdigest()[:48]
        return Parsed(event_id=event_id, events=events)
    if isinstance(data, list) and all(isinstance(e, dict) and "specversion" in e for e in data):
        ids = []
        for ev in data:
            parts = str(ev.get("type") or "").split(".")
            if len(parts) < 3 or not ev.get("id") or not ev.get("intuitentityid"):
                raise Malformed("a CloudEvent needs id, type and intuitentityid")
            ids.append(str(ev["id"]))
            if realm and str(ev.get("intuitaccountid")) != realm:
                continue
            events.append(
                {
                    "kind": "erp",
                    "type": parts[1],
                    "id": str(ev["intuitentityid"]),
                    "operation": parts[2],
                    "at": str(ev.get("time") or ""),
                }
            )
        if not ids:
            raise Malformed("an empty CloudEvents batch")
        event_id = (
            ids[0]
            if len(ids) == 1
            else "ce:" + hashlib.sha256(",".join(sorted(ids)).encode()).hexdigest()[:48]
        )
        return Parsed(event_id=event_id, events=events)
    raise Malformed("neither eventNotifications nor a CloudEvents array")


def _netsuite(connection: Connection, data: Any) -> Parsed:
    if not isinstance(data, dict):
        raise Malformed("a NetSuite event is a JSON object")
    missing = [k for k in ("eventId", "recordType", "recordId", "eventType") if not data.get(k)]
    if missing:
        raise Malformed(f"missing {', '.join(missing)}")
    account = str(connection.settings.get("account_id") or "")
    event = {
        "kind": "erp",
        "type": str(data["recordType"]),
        "id": str(data["recordId"]),
        "operation": str(data["eventType"]),
        "at": str(data.get("lastModifiedDate") or ""),
        "external_id": str(data.get("externalId") or ""),
    }
    parsed = Parsed(event_id=str(data["eventId"]), events=[event])
    if account and str(data.get("accountId") or "").upper() != account.upper():
        parsed.events = []
        parsed.note = f"event for account {data.get('accountId')}, not {account}"
    return parsed
