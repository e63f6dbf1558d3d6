"""Wiring the QuickBooks client to the QuickBooks sandbox in-process (tests and benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from connectors.quickbooks import QuickBooksClient
from connectors.tokens import MemoryTokenStore, with_expiry

try:
    from sandboxes.quickbooks import (
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        DEMO_REALM_ID,
        DEMO_REDIRECT_URI,
        QuickBooksSandbox,
    )

    SANDBOX_ERROR = None
except ImportError as exc:  # the sandbox is being written by another engineer
    QuickBooksSandbox = None  # type: ignore[assignment,misc]
    DEMO_CLIENT_ID = DEMO_CLIENT_SECRET = DEMO_REALM_ID = DEMO_REDIRECT_URI = ""
    SANDBOX_ERROR = str(exc)

BASE = "https://sandbox.invalid"


def settings(**overrides: Any) -> dict[str, Any]:
    return {
        "auth_url": f"{BASE}/connect/oauth2",
        "token_url": f"{BASE}/oauth2/v1/tokens/bearer",
        "revoke_url": f"{BASE}/v2/oauth2/tokens/revoke",
        "api_base_url": BASE,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        "realm_id": DEMO_REALM_ID,
        "redirect_uri": DEMO_REDIRECT_URI,
        "minorversion": "75",
        **overrides,
    }


@dataclass
class FakeTime:
    """A monotonic clock that the injected ``sleep`` moves: limiters and retries never wait."""

    now: float = 10_000.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


class Recorder:
    """A transport in front of the sandbox that records every request it passes on."""

    def __init__(self, sandbox: Any, rewrite=None) -> None:
        self.sandbox = sandbox
        self.sent: list[httpx.Request] = []
        self.rewrite = rewrite

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if self.rewrite is not None:
            request = self.rewrite(request)
        return self.sandbox.handle(request)

    def api_calls(self) -> list[httpx.Request]:
        return [r for r in self.sent if r.url.path.startswith("/v3/")]

    def token_calls(self) -> list[httpx.Request]:
        return [r for r in self.sent if r.url.path.endswith("/tokens/bearer")]


def token_store(sandbox: Any) -> MemoryTokenStore:
    token = with_expiry(sandbox.issue_token_for_tests(), sandbox.clock.time())
    token["realm_id"] = DEMO_REALM_ID
    return MemoryTokenStore(token)


def make_client(
    sandbox: Any,
    *,
    store: MemoryTokenStore | None = None,
    recorder: Recorder | None = None,
    fake: FakeTime | None = None,
    clock: Any = None,
    **kwargs: Any,
) -> tuple[QuickBooksClient, Recorder, FakeTime]:
    recorder = recorder or Recorder(sandbox)
    fake = fake or FakeTime()
    client = QuickBooksClient.from_settings(
        settings(),
        token_store=store or token_store(sandbox),
        transport=httpx.MockTransport(recorder.handle),
        sleep=fake.sleep,
        clock=clock or sandbox.clock.time,
        monotonic=fake.monotonic,
        **kwargs,
    )
    return client, recorder, fake


@dataclass
class Books:
    """Ids of the list records a test company needs for transactions."""

    vendor: str
    customer: str
    job: str
    expense_account: str
    bank_account: str
    ap_account: str
    item: str
    klass: str


def seed_books(sandbox: Any) -> Books:
    """Set up a small company through the sandbox's own Python API (no HTTP requests)."""
    realm = DEMO_REALM_ID
    create = sandbox.create
    expense = create(realm, "Account", {"Name": "Job Materials", "AccountType": "Expense"})
    vendor = create(realm, "Vendor", {"DisplayName": "Norton Lumber"})
    customer = create(realm, "Customer", {"DisplayName": "Travis Waldron"})
    job = create(
        realm,
        "Customer",
        {"DisplayName": "Deck 2024", "Job": True, "ParentRef": {"value": customer["Id"]}},
    )
    klass = create(realm, "Class", {"Name": "03 Concrete"})
    ap = sandbox.account_by_type(realm, "Accounts Payable")
    bank = sandbox.account_by_type(realm, "Bank")
    item = next(r for r in sandbox.records("Item"))
    return Books(
        vendor=vendor["Id"],
        customer=customer["Id"],
        job=job["Id"],
        expense_account=expense["Id"],
        bank_account=bank["Id"],
        ap_account=ap["Id"],
        item=item["Id"],
        klass=klass["Id"],
    )


def bill_payload(books: Books, amount: str = "103.55", doc: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "VendorRef": {"value": books.vendor},
        "Line": [
            {
                "DetailType": "AccountBasedExpenseLineDetail",
                "Amount": Decimal(amount),
                "Description": "Lumber",
                "AccountBasedExpenseLineDetail": {
                    "AccountRef": {"value": books.expense_account},
                    "CustomerRef": {"value": books.job},
                    "ClassRef": {"value": books.klass},
                },
            }
        ],
    }
    if doc:
        payload["DocNumber"] = doc
    return payload
