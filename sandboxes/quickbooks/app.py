"""The QuickBooks Online Accounting v3 sandbox: routes, limits, requestid replay, batch, CDC.

One port serves what Intuit spreads over several hosts (§1.1, §2): the authorize URL
(``/connect/oauth2``), the token endpoint (``/oauth2/v1/tokens/bearer``), revoke
(``/v2/oauth2/tokens/revoke``) and the accounting API (``/v3/company/{realmId}/...``).
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from ..core import (
    Clock,
    ConcurrencyGate,
    Req,
    Sandbox,
    SlidingWindow,
    Store,
    json_response,
)
from . import entities as E
from .auth import AuthMixin
from .bulk import BulkMixin
from .constants import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_COMPANY_NAME,
    DEMO_REALM_ID,
    DEMO_REDIRECT_URI,
)
from .control import ControlMixin
from .errors import QBOError, business, fault_response, query_error, throttle_response
from .payments import PaymentsMixin
from .query import Evaluator, parse
from .records import RecordsMixin
from .webhooks import WebhooksMixin

# §1.4: requestid max 50 chars (36 on batch, with bId ≤ 10). How long QBO remembers one is
# (unverified); the sandbox keeps the last 10,000 per company for 24 hours.
REQUESTID_MAX = 50
BATCH_REQUESTID_MAX = 36
BATCH_BID_MAX = 10
IDEMPOTENCY_TTL = 24 * 3600
IDEMPOTENCY_SIZE = 10_000


class QuickBooksSandbox(
    AuthMixin, RecordsMixin, PaymentsMixin, BulkMixin, WebhooksMixin, ControlMixin, Sandbox
):
    name = "quickbooks"

    def __init__(
        self,
        *,
        seed: int | None = None,
        clock: Clock | None = None,
        rate_scale: float = 1.0,
        realm_id: str = DEMO_REALM_ID,
        company_name: str = DEMO_COMPANY_NAME,
        timezone: str = "America/Los_Angeles",
        enforce_limits: bool = True,
        per_second_limit: int | None = None,
        throttle_format: str = "json",
        refresh_rotation_seconds: float = 0.0,
        cdc_enforce_lookback: bool = False,
        register_demo_app: bool = True,
    ) -> None:
        self.rate_scale = rate_scale
        self.default_realm = realm_id
        self.enforce_limits = enforce_limits
        self.throttle_format = throttle_format
        self.refresh_rotation_seconds = refresh_rotation_seconds
        self.cdc_enforce_lookback = cdc_enforce_lookback
        self.docnumber_policy = dict(self.default_docnumber_policy)
        self.companies: dict[str, dict[str, Any]] = {}
        self._tz: dict[str, ZoneInfo] = {}
        self.idempotency: dict[str, OrderedDict[str, tuple]] = {}
        self._tids = itertools.count(1)
        self._init_auth()
        self._init_records()
        self._init_webhooks()
        super().__init__(seed=seed, clock=clock)
        # §3.1: 500 requests/min per realm, 10 concurrent per realm(+app), batch 40/min per
        # realm+app and 120/min per realm. The 10 requests/second per realm+app of the current
        # limits page is opt-in (``per_second_limit=10``): at in-process speed it would refuse
        # nearly every test.
        self.per_minute = SlidingWindow(500, 60, self.clock, rate_scale)
        self.per_second = (
            SlidingWindow(per_second_limit, 1, self.clock, rate_scale) if per_second_limit else None
        )
        self.batch_app_window = SlidingWindow(40, 60, self.clock, rate_scale)
        self.batch_realm_window = SlidingWindow(120, 60, self.clock, rate_scale)
        self.gate = ConcurrencyGate(10)
        self.add_company(realm_id, company_name, timezone)
        if register_demo_app:
            self.register_app(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, [DEMO_REDIRECT_URI])

    # -- companies and time ----------------------------------------------------------------------

    def add_company(
        self, realm_id: str, name: str = "Sandbox Company", timezone: str = "America/Los_Angeles"
    ) -> None:
        """A new QBO company with what a fresh one holds: A/P, A/R, bank, terms, one item."""
        self.companies[realm_id] = {"name": name, "timezone": timezone, "next_invoice_number": 1001}
        self._tz[realm_id] = ZoneInfo(timezone)
        enabled, self.events_enabled = self.events_enabled, False
        info = {
            "CompanyName": name,
            "LegalName": name,
            "Country": "US",
            "CompanyAddr": {
                "Line1": "1 Main St.",
                "City": "Mountain View",
                "CountrySubDivisionCode": "CA",
            },
            "FiscalYearStartMonth": "January",
            "SupportedLanguages": "en",
            "domain": "QBO",
            "sparse": False,
            "Id": "1",
            "SyncToken": "0",
        }
        self.coll(realm_id, "CompanyInfo")["1"] = info
        self._stamp(realm_id, "CompanyInfo", info, "Create")
        for acct in (
            {"Name": "Accounts Payable (A/P)", "AccountType": "Accounts Payable"},
            {"Name": "Accounts Receivable (A/R)", "AccountType": "Accounts Receivable"},
            {"Name": "Checking", "AccountType": "Bank"},
            {
                "Name": "Undeposited Funds",
                "AccountType": "Other Current Asset",
                "AccountSubType": "UndepositedFunds",
            },
            {"Name": "Services", "AccountType": "Income"},
        ):
            self.create(realm_id, "Account", acct)
        for term, days in (("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30), ("Net 60", 60)):
            self.create(realm_id, "Term", {"Name": term, "DueDays": days})
        income = self.account_by_type(realm_id, "Income")
        self.create(
            realm_id,
            "Item",
            {"Name": "Services", "Type": "Service", "IncomeAccountRef": {"value": income["Id"]}},
        )
        self.events = [ev for ev in self.events if ev[0] != realm_id]
        self.events_enabled = enabled

    def company_tz(self, realm: str) -> ZoneInfo:
        return self._tz.get(realm) or self._tz[self.default_realm]

    def local_now(self, realm: str) -> datetime:
        return datetime.fromtimestamp(self.clock.time(), tz=self.company_tz(realm))

    def fmt_meta(self, t: float, realm: str) -> str:
        """MetaData times: company-local offset, second precision (§4.1)."""
        return datetime.fromtimestamp(t, tz=self.company_tz(realm)).isoformat(timespec="seconds")

    def fmt_time(self, realm: str | None = None) -> str:
        """The top-level ``time``: company-local, milliseconds (§1.1)."""
        moment = datetime.fromtimestamp(self.clock.time(), tz=self.company_tz(realm or ""))
        return moment.isoformat(timespec="milliseconds")

    # -- routes ----------------------------------------------------------------------------------

    def setup_routes(self) -> None:
        self._auth_routes()
        base = "/v3/company/{realm}"
        self.route("GET", base + "/query", self._api(self._query), write=False)
        self.route("POST", base + "/query", self._api(self._query), write=False)
        self.route("POST", base + "/batch", self._api(self._batch), write=True)
        self.route("GET", base + "/cdc", self._api(self._cdc), write=False)
        self.route("GET", base + "/{entity}/{rid}", self._api(self._read), write=False)
        self.route("POST", base + "/{entity}", self._api(self._write), write=True)
        self._control_api_routes()

    def _api(self, fn):
        def handler(req: Req) -> httpx.Response:
            realm = req.params["realm"]
            requestid = req.arg("requestid") if req.method == "POST" else None
            if requestid is not None:
                limit = BATCH_REQUESTID_MAX if req.path.endswith("/batch") else REQUESTID_MAX
                if len(requestid) > limit:
                    return fault_response(
                        business(
                            f"You cannot enter more than {limit} characters in the request_id "
                            f"field. You tried entering {requestid[:10]}..., which is "
                            f"{len(requestid)} characters."
                        ),
                        self.fmt_time(realm),
                    )
                replay = self._replay(realm, requestid)
                if replay is not None:
                    return replay
            try:
                response = fn(req, realm)
            except QBOError as err:
                response = fault_response(err, self.fmt_time(realm))
            finally:
                self.flush_events()
            if requestid is not None:
                self._remember(realm, requestid, response)
            return response

        return handler

    # -- requestid replay (§1.4) -----------------------------------------------------------------

    def _replay(self, realm: str, requestid: str) -> httpx.Response | None:
        cache = self.idempotency.get(realm)
        hit = cache.get(requestid) if cache else None
        if hit is None:
            return None
        t, status, headers, body = hit
        if self.clock.time() - t > IDEMPOTENCY_TTL:
            del cache[requestid]
            return None
        return httpx.Response(status, headers=headers, content=body)

    def _remember(self, realm: str, requestid: str, response: httpx.Response) -> None:
        cache = self.idempotency.setdefault(realm, OrderedDict())
        headers = {"content-type": response.headers.get("content-type", "application/json")}
        cache[requestid] = (self.clock.time(), response.status_code, headers, response.content)
        while len(cache) > IDEMPOTENCY_SIZE:
            cache.popitem(last=False)

    # -- limits (§3.1) ---------------------------------------------------------------------------

    def throttle(self, req: Req) -> httpx.Response | None:
        realm = req.params.get("realm")
        if realm is None:  # OAuth endpoints
            return None
        grant, refused = self.authenticate(req, realm)
        if refused is not None:
            return refused
        if not self.enforce_limits:
            return None
        client = grant["client_id"]
        checks = [(self.per_minute, realm)]
        if self.per_second is not None:
            checks.append((self.per_second, f"{realm}|{client}"))
        if req.path.endswith("/batch"):
            checks += [
                (self.batch_app_window, f"{realm}|{client}"),
                (self.batch_realm_window, realm),
            ]
        for window, key in checks:
            allowed, _, reset = window.hit(key)
            if not allowed:
                return self._throttled(realm, reset)
        if not self.gate.enter(realm):
            return self._throttled(realm, self.clock.time() + 1)
        req.params["_gate"] = realm
        return None

    def _throttled(self, realm: str, reset: float) -> httpx.Response:
        # §3.1 says wait 60 s; Retry-After (not documented) says when the window frees up.
        retry = max(1, math.ceil(reset - self.clock.time()))
        response = throttle_response(self.fmt_time(realm), retry, self.throttle_format)
        return self.decorate(None, response)

    def release(self, req: Req) -> None:
        realm = req.params.pop("_gate", None)
        if realm is not None:
            self.gate.leave(realm)

    def decorate(self, req: Req | None, response: httpx.Response) -> httpx.Response:
        response.headers["Intuit-Tid"] = f"1-{next(self._tids):08x}-sandbox"
        return response

    def rate_limited_response(self, req: Req) -> httpx.Response:
        realm = req.params.get("realm") or self.default_realm
        return throttle_response(
            self.fmt_time(realm), self.faults.retry_after, self.throttle_format
        )

    def error_body(self, status: int, message: str) -> httpx.Response:
        time = self.fmt_time(self.default_realm)
        if status in (404, 405):
            # Unknown resource paths answer 400 "Unsupported Operation" (§3.3, [VCR] error/500.yml).
            return fault_response(
                QBOError("500", f"Operation {message}: could not find resource"), time
            )
        if status == 400:
            return fault_response(QBOError("2010", message), time)
        if status == 429:
            return throttle_response(time, self.faults.retry_after, self.throttle_format)
        err = QBOError(
            "10000",
            f"System Failure Error: {message}",
            status=status,
            type_="SystemFault",
        )
        response = fault_response(err, time)
        if status == 503:
            response.headers["Retry-After"] = str(self.faults.retry_after)
        return response

    # -- handlers --------------------------------------------------------------------------------

    def _entity(self, req: Req) -> str:
        entity = E.BY_PATH.get(req.params["entity"])
        if entity is None:
            raise QBOError("500", f"Operation Could not find resource for relative : {req.path}")
        return entity

    def _read(self, req: Req, realm: str) -> httpx.Response:
        entity = self._entity(req)
        rid = req.params["rid"]
        if entity == "CompanyInfo" and rid == realm:
            rid = "1"
        if not rid.isdigit():
            raise QBOError("2030", f"Id should be a valid number. Supplied value:{rid}", "Id")
        rec = self.get_record(realm, entity, rid)
        if rec is None:
            raise QBOError("610", E_NOT_FOUND)
        return json_response(200, {entity: rec, "time": self.fmt_time(realm)})

    def _write(self, req: Req, realm: str) -> httpx.Response:
        entity = self._entity(req)
        body = req.json()
        includes = {p.strip() for v in req.args("include") for p in v.split(",")}
        operation = req.arg("operation")
        out = self.apply_operation(realm, entity, operation, body, includes)
        return json_response(200, {entity: out, "time": self.fmt_time(realm)})

    def apply_operation(
        self, realm: str, entity: str, operation: str | None, body: Any, includes: set[str]
    ) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise QBOError("2010", "The request body must be a JSON object")
        allow_dup = "allowduplicatedocnum" in includes
        if operation == "delete":
            return self.delete(realm, entity, body)
        if operation == "void" or (operation in (None, "update") and "void" in includes):
            return self.void(realm, entity, body)
        if operation not in (None, "create", "update"):
            raise QBOError("500", f"Operation {operation} is not supported")
        if body.get("Id") not in (None, ""):
            return self.update(realm, entity, body, allow_dup=allow_dup)
        return self.create(realm, entity, body, allow_dup=allow_dup)

    # -- query -----------------------------------------------------------------------------------

    def _query(self, req: Req, realm: str) -> httpx.Response:
        text = req.arg("query") if req.method == "GET" else req.body.decode("utf-8", "replace")
        if req.method == "POST" and not text and req.arg("query"):
            text = req.arg("query")
        if not text:
            raise query_error("query is missing")
        return json_response(
            200, {"QueryResponse": self.run_query(realm, text), "time": self.fmt_time(realm)}
        )

    def run_query(self, realm: str, text: str) -> dict[str, Any]:
        q = parse(text)
        stamps = self.stamps.get(f"{realm}:{q.entity}", {})
        evaluator = Evaluator(q, lambda r: stamps.get(r.get("Id"), 0.0))
        ids = [c for c in q.where if c.path.lower() == "id" and c.op in ("=", "IN")]
        coll = self.coll(realm, q.entity)
        # An id lookup stays O(ids), not O(collection).
        records = [coll[v] for v in ids[0].values if v in coll] if ids else list(coll.values())
        rows, total = evaluator.run(records)
        if q.count:
            return {"totalCount": total}
        if not rows:
            return {}  # §1.5: an empty page is an empty QueryResponse (commonly reported)
        return {q.entity: rows, "startPosition": q.start, "maxResults": len(rows)}

    # -- state -----------------------------------------------------------------------------------

    def reset_state(self) -> None:
        self.store = Store()
        self.stamps.clear()
        self.drop_indexes()
        self.idempotency.clear()
        self.events = []
        for window in (self.per_minute, self.batch_app_window, self.batch_realm_window):
            window.reset()
        companies = dict(self.companies)
        self.companies.clear()
        for realm, company in companies.items():
            self.add_company(realm, company["name"], company["timezone"])

    def dump_state(self) -> dict[str, Any]:
        state = super().dump_state()
        state["quickbooks"] = {
            "companies": self.companies,
            "stamps": self.stamps,
            "auth": self._auth_state(),
            "hooks": self.hooks,
            "docnumber_policy": self.docnumber_policy,
            "idempotency": {
                realm: [[k, t, s, h, body.decode("latin-1")] for k, (t, s, h, body) in c.items()]
                for realm, c in self.idempotency.items()
            },
        }
        return state

    def load_state(self, data: dict[str, Any]) -> None:
        super().load_state(data)
        qb = data.get("quickbooks", {})
        self.companies = qb.get("companies", self.companies)
        self._tz = {realm: ZoneInfo(c["timezone"]) for realm, c in self.companies.items()}
        self.stamps = {
            coll: {rid: float(t) for rid, t in rows.items()}
            for coll, rows in qb.get("stamps", {}).items()
        }
        for rows in self.store.collections.values():
            for rec in rows.values():
                if "t" in rec and "stub" in rec:
                    rec["t"] = float(rec["t"])
        self._load_auth_state(qb.get("auth", {}))
        self.hooks = qb.get("hooks", [])
        self.docnumber_policy = qb.get("docnumber_policy", self.docnumber_policy)
        self.idempotency = {
            realm: OrderedDict(
                (k, (float(t), int(s), h, body.encode("latin-1"))) for k, t, s, h, body in rows
            )
            for realm, rows in qb.get("idempotency", {}).items()
        }
        self.drop_indexes()
        self.events = []


E_NOT_FOUND = (
    "Object Not Found : Something you're trying to use has been made inactive. Check the fields "
    "with accounts, customers, items, vendors or employees."
)
