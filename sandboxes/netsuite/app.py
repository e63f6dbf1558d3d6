"""The NetSuite SuiteTalk REST sandbox: routes, governance, error bodies and state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from ..core import Clock, ConcurrencyGate, Req, Sandbox, SandboxDrop
from . import rules
from .auth import Auth
from .books import Books
from .control import Control
from .errors import CONCURRENCY_DETAIL, DEFAULT_CODES, NSError, ns_error
from .events import Events
from .keys import (
    DEMO_CERTIFICATE_ID,
    DEMO_CLIENT_ID,
    DEMO_CONSUMER_KEY,
    DEMO_CONSUMER_SECRET,
    DEMO_SCOPES,
    DEMO_TOKEN_ID,
    DEMO_TOKEN_SECRET,
    demo_public_key_pem,
)
from .records import RecordHandlers
from .schema import RecordType
from .suiteql import SuiteQL

REST = "/services/rest"
RECORD = f"{REST}/record/v1"
TOKEN_PATH = f"{REST}/auth/oauth2/v1/token"


class NetSuiteSandbox(Sandbox):
    """A OneWorld account: ``handle(httpx.Request)`` serves the token endpoint, the record
    service and SuiteQL; ``/_sandbox/...`` is the control API."""

    name = "netsuite"

    def __init__(
        self,
        *,
        seed: int | None = None,
        clock: Clock | None = None,
        rate_scale: float = 1.0,
        account_id: str = "1234567_SB1",
        concurrency_limit: int = 15,
        date_format: str = "MM/DD/YYYY",
        demo_credentials: bool = True,
    ) -> None:
        self.account_id = account_id
        # NetSuite REST has no per-minute window, only the account-wide concurrency limit
        # (reference §4.1), so rate_scale has nothing to scale; it is kept for the contract.
        self.rate_scale = rate_scale
        self.date_format = date_format
        self.gate = ConcurrencyGate(concurrency_limit)
        self.tran_numbers: dict[str, int] = {}
        self.auth = Auth(self)
        self.events = Events(self)
        self.records = RecordHandlers(self)
        self.suiteql = SuiteQL(self)
        self.control = Control(self)
        super().__init__(seed=seed, clock=clock)
        self.books = Books(self)
        if demo_credentials:
            self.register_integration(DEMO_CLIENT_ID, scopes=DEMO_SCOPES)
            self.register_certificate(DEMO_CLIENT_ID, DEMO_CERTIFICATE_ID, demo_public_key_pem())
            self.register_tba(
                DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, DEMO_TOKEN_ID, DEMO_TOKEN_SECRET
            )

    # -- routes -------------------------------------------------------------------------------

    def _api(self, handler: Callable[[Req], httpx.Response]) -> Callable[[Req], httpx.Response]:
        def run(req: Req) -> httpx.Response:
            try:
                self.auth.check(req)
                return handler(req)
            except NSError as exc:
                return exc.response()

        return run

    def setup_routes(self) -> None:
        r, api = self.records, self._api
        self.route("POST", TOKEN_PATH, self.auth.token_endpoint, write=False)
        self.route("POST", f"{REST}/query/v1/suiteql", api(self.suiteql.handle), write=False)
        self.route("GET", f"{RECORD}/{{rtype}}", api(r.get_list))
        self.route("POST", f"{RECORD}/{{rtype}}", api(r.create))
        self.route("GET", f"{RECORD}/{{rtype}}/{{rid}}", api(r.get_one))
        self.route("PATCH", f"{RECORD}/{{rtype}}/{{rid}}", api(r.patch))
        self.route("PUT", f"{RECORD}/{{rtype}}/{{rid}}", api(r.upsert))
        self.route("DELETE", f"{RECORD}/{{rtype}}/{{rid}}", api(r.delete))
        self.route("GET", f"{RECORD}/{{rtype}}/{{rid}}/{{sub}}", api(r.get_sublist))
        self.route("GET", f"{RECORD}/{{rtype}}/{{rid}}/{{sub}}/{{line}}", api(r.get_sublist))
        self.control.routes()

    # -- base hooks ---------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> httpx.Response:
        code = DEFAULT_CODES.get(status, "UNEXPECTED_ERROR")
        if status == 429:
            message = CONCURRENCY_DETAIL
        elif status >= 500:
            message = f"An unexpected error occurred. {message}."
        return ns_error(status, message, code)

    def _governed(self, req: Req) -> bool:
        return req.path.startswith(REST) and req.path != TOKEN_PATH

    def throttle(self, req: Req) -> httpx.Response | None:
        # One account-wide limit shared by every integration and auth method (reference §4.1);
        # REST answers 429 past it. No Retry-After header is documented, so none is sent.
        if self._governed(req) and not self.gate.enter(self.account_id):
            return self.error_body(429, "")
        return None

    def release(self, req: Req) -> None:
        if self._governed(req):
            self.gate.leave(self.account_id)

    def rate_limited_response(self, req: Req) -> httpx.Response:
        return self.error_body(429, "")

    def reset_state(self) -> None:
        """Forget every record and event counter; integrations, tokens and targets stay."""
        super().reset_state()
        self.books.rebuild_indexes()
        self.tran_numbers = {}

    # -- hooks used by the write path ---------------------------------------------------------

    def finish(self, rt: RecordType, rec: dict[str, Any], before: dict[str, Any] | None) -> None:
        rules.finish(self, rt, rec, before)

    def after_write(
        self, rt: RecordType, rec: dict[str, Any], event: str, before: dict[str, Any] | None
    ) -> None:
        rules.after_write(self, rt, rec, event, before)

    def next_tran_number(self, rtype: str) -> int:
        self.tran_numbers[rtype] = self.tran_numbers.get(rtype, 1000) + 1
        return self.tran_numbers[rtype]

    # -- public helpers (tests, demo, seed) ---------------------------------------------------

    def register_integration(
        self, client_id: str, scopes: Any = DEMO_SCOPES, name: str = ""
    ) -> None:
        self.auth.register_integration(client_id, tuple(scopes), name)

    register_app = register_integration

    def register_certificate(
        self, client_id: str, certificate_id: str, public_key_pem: bytes | str
    ) -> None:
        self.auth.register_certificate(client_id, certificate_id, public_key_pem)

    def register_tba(
        self, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str
    ) -> None:
        self.auth.register_tba(consumer_key, consumer_secret, token_id, token_secret)

    def register_event_target(self, url: str, secret: str) -> None:
        self.events.register(url, secret)

    def issue_token_for_tests(self, client_id: str = DEMO_CLIENT_ID) -> str:
        return self.auth.issue(client_id, sorted(DEMO_SCOPES))["access_token"]

    # -- state --------------------------------------------------------------------------------

    def dump_state(self) -> dict[str, Any]:
        data = super().dump_state()
        data["netsuite"] = {
            "auth": self.auth.dump(),
            "events": self.events.dump(),
            "tran_numbers": self.tran_numbers,
            "account_id": self.account_id,
            "date_format": self.date_format,
        }
        return data

    def load_state(self, data: dict[str, Any]) -> None:
        super().load_state(data)
        extra = data.get("netsuite", {})
        self.auth.load(extra.get("auth", {}))
        self.events.load(extra.get("events", {}))
        self.tran_numbers = {k: int(v) for k, v in extra.get("tran_numbers", {}).items()}
        self.date_format = extra.get("date_format", self.date_format)
        self.books.rebuild_indexes()


__all__ = ["NetSuiteSandbox", "SandboxDrop"]
