"""What our SuiteScript user-event script POSTs when a record changes (NetSuite has no webhooks).

Reference §7: the supported mechanism is a User Event script's ``afterSubmit`` calling
``N/https.post`` with a secret kept via ``https.createSecureString``. The payload is ours (we ship
the script), so this module *defines* it:

    POST <target url>
    Content-Type: application/json
    X-Erpbridge-Secret: <shared secret>
    {"eventId", "recordType", "recordId", "externalId", "eventType", "lastModifiedDate",
     "accountId"}

``eventType`` is ``create``, ``edit`` or ``delete``: the script maps the other UE context types
(``xedit``, ``approve``, ``paybills`` ...) to ``edit``. A payment applied to a bill also sends an
``edit`` for the bill (its status and balance changed). The receiving side checks the secret and
an IP allow-list; nothing else is signed.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ..core import dumps

if TYPE_CHECKING:
    from .app import NetSuiteSandbox
    from .schema import RecordType

SECRET_HEADER = "X-Erpbridge-Secret"
USER_AGENT = "Mozilla/5.0 (compatible; NetSuite SuiteScript N/https)"
_NAMESPACE = uuid.UUID("6f1c3a52-6f43-4c59-9d5e-2f1d8f1b9a10")


class Events:
    def __init__(self, sandbox: NetSuiteSandbox) -> None:
        self.sb = sandbox
        self.targets: list[dict[str, str]] = []
        self.counter = 0

    def register(self, url: str, secret: str) -> None:
        self.targets = [t for t in self.targets if t["url"] != url]
        self.targets.append({"url": url, "secret": secret})

    def emit(self, rt: RecordType, rec: dict[str, Any], event_type: str) -> None:
        if not self.targets:
            return
        self.counter += 1
        payload = {
            "eventId": str(uuid.uuid5(_NAMESPACE, f"{self.sb.account_id}:{self.counter}")),
            "recordType": rt.name,
            "recordId": rec["id"],
            "externalId": rec.get("externalId"),
            "eventType": event_type,
            "lastModifiedDate": rec.get("lastModifiedDate"),
            "accountId": self.sb.account_id,
        }
        body = dumps(payload)
        for target in self.targets:
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                SECRET_HEADER: target["secret"],
            }
            self.sb.outbox.enqueue(target["url"], headers, body)

    def dump(self) -> dict[str, Any]:
        return {"targets": self.targets, "counter": self.counter}

    def load(self, data: dict[str, Any]) -> None:
        self.targets = list(data.get("targets", []))
        self.counter = int(data.get("counter", 0))
