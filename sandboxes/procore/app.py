"""The Procore sandbox: class, request context (auth, company header, rate limits) and state."""

from __future__ import annotations

import math
import threading
from decimal import Decimal
from typing import Any

import httpx

from sandboxes.core import Clock, Req, Sandbox, SlidingWindow, Store, text_response

from .auth import AuthMixin
from .base import CENT, MAX_PER_PAGE, RecordsMixin, as_int
from .billing import BillingMixin
from .change_orders import ChangeOrdersMixin
from .commitments import CommitmentsMixin
from .control import ControlMixin
from .cost_codes import CostCodesMixin
from .directory import DirectoryMixin
from .errors import (
    MISSING_COMPANY,
    NOT_CONNECTED,
    RATE_LIMIT_TEXT,
    ApiError,
    not_found,
    pjson,
    unauthorized,
)
from .sov import SovMixin
from .webhooks import WebhooksMixin


def _requantize(value: Any) -> None:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(item, Decimal):
            if item.as_tuple().exponent > -2:
                value[key] = item.quantize(CENT)
        elif isinstance(item, (dict, list)):
            _requantize(item)


# Paths that do not need Procore-Company-Id unless the token is a DMSA's (§1.5).
COMPANY_EXEMPT = frozenset({"/rest/v1.0/me", "/rest/v1.0/companies"})


class ProcoreSandbox(
    AuthMixin,
    DirectoryMixin,
    CostCodesMixin,
    CommitmentsMixin,
    SovMixin,
    ChangeOrdersMixin,
    BillingMixin,
    WebhooksMixin,
    ControlMixin,
    RecordsMixin,
    Sandbox,
):
    """Procore REST v1.0/v1.1 with OAuth, the company header, paging, rate limits and webhooks.

    Rate limits (§3): per access token, an hourly window and a 10 s spike window (both rolling,
    both divided by ``rate_scale``). Defaults: 3,600/hour (the older docs' number) and 100 per
    10 s (the spike size is not documented; the doc's example headers show 25 and 600 as
    examples only). Benchmarks raise both.
    """

    name = "procore"

    def __init__(
        self,
        *,
        seed: int | None = None,
        clock: Clock | None = None,
        rate_scale: float = 1.0,
        hourly_limit: int = 3600,
        spike_limit: int = 100,
        max_per_page: int = MAX_PER_PAGE,
    ) -> None:
        self.rate_scale = rate_scale
        self.hourly_limit = hourly_limit
        self.spike_limit = spike_limit
        self.max_per_page = max_per_page
        self._ctx = threading.local()
        self._actor = threading.local()
        self._init_indexes()
        super().__init__(seed=seed, clock=clock)
        self.hourly = SlidingWindow(hourly_limit, 3600, self.clock, rate_scale)
        self.spike = SlidingWindow(spike_limit, 10, self.clock, rate_scale)
        self.delivery_events: dict[int, dict[str, Any]] = {}
        self.reset_state()

    # -- routes ------------------------------------------------------------------------------

    def api(self, method: str, path: str, handler: Any, *, write: bool | None = None) -> None:
        def wrapped(req: Req) -> httpx.Response:
            try:
                return handler(req)
            except ApiError as exc:
                return exc.response()

        self.route(method, path, wrapped, write=write)

    def _match(self, method: str, path: str) -> tuple[Any, dict[str, str], bool]:
        """The base scans every route; bucket them by (segment count, resource segment) so a
        request only tries the few routes that could match (the speed budget in the brief)."""
        buckets = self.__dict__.get("_buckets")
        if buckets is None or self.__dict__.get("_bucketed") != len(self.routes):
            buckets = {}
            for route in self.routes:
                parts = route.name.strip("/").split("/")
                seg = parts[2] if len(parts) > 2 and "{" not in parts[2] else "*"
                buckets.setdefault((len(parts), seg), []).append(route)
            self._buckets, self._bucketed = buckets, len(self.routes)
        parts = path.strip("/").split("/")
        seg = parts[2] if len(parts) > 2 else ""
        path_seen = False
        for key in ((len(parts), seg), (len(parts), "*")):
            for route in buckets.get(key, ()):
                found = route.pattern.match(path)
                if found:
                    path_seen = True
                    if route.method == method:
                        return route, found.groupdict(), True
        return None, {}, path_seen

    def setup_routes(self) -> None:
        self._auth_routes()
        self._directory_routes()
        self._cost_code_routes()
        self._commitment_routes()
        self._change_order_routes()
        self._billing_routes()
        self._webhook_routes()
        self._control_action_routes()

    # -- state -------------------------------------------------------------------------------

    def reset_state(self) -> None:
        self.store = Store()
        self._init_indexes()
        self.delivery_events = {}
        if hasattr(self, "hourly"):
            self.hourly.reset()
            self.spike.reset()
        # Procore ids are large integers (int64, §1.5); start well above the demo user's id.
        self.store.counters["_ids"] = 562949953421000
        self._install_defaults()

    def load_state(self, data: dict[str, Any]) -> None:
        super().load_state(data)
        # The base saves Decimals as JSON numbers ("1500.00" -> 1500.0); put the cents back.
        for rows in self.store.collections.values():
            for rec in rows.values():
                _requantize(rec)
        self._rebuild_indexes()

    # -- per-request context -----------------------------------------------------------------

    @property
    def ctx(self) -> Any:
        return self._ctx

    def company_id(self) -> int:
        return self._ctx.company_id

    def throttle(self, req: Req) -> httpx.Response | None:
        ctx = self._ctx
        ctx.token = ctx.rate = ctx.company_id = None
        ctx.app = ctx.user_id = None
        self._actor.user_id = self._actor.application_id = None
        if not req.path.startswith("/rest/"):
            return None
        token = self.check_bearer(req)
        if token is None:
            return unauthorized()
        ctx.token = token
        ctx.user_id = token["user_id"]
        ctx.app = self.store.get("_oauth_apps", token["client_id"])
        self._actor.user_id = token["user_id"]
        self._actor.application_id = ctx.app["id"] if ctx.app else None
        key = token["token"]
        ok, s_left, s_reset = self.spike.hit(key)
        if ok:
            ok, h_left, h_reset = self.hourly.hit(key)
            window = self.hourly
        else:
            window = self.spike
        if not ok:
            remaining, reset = window.peek(key)
            ctx.rate = (window.limit, 0, reset)
            return self.decorate(req, self.rate_limited_response(req))
        # Report the limit "most likely to be exceeded first" (§3): the spike window until the
        # hourly one has fewer requests left.
        if h_left <= s_left:
            ctx.rate = (self.hourly_limit, h_left, h_reset)
        else:
            ctx.rate = (self.spike_limit, s_left, s_reset)
        refused = self._company_header(req, token)
        return None if refused is None else self.decorate(req, refused)

    def _company_header(self, req: Req, token: dict[str, Any]) -> httpx.Response | None:
        raw = req.headers.get("procore-company-id")
        dmsa = token.get("grant") == "client_credentials"
        if not raw:
            if req.path in COMPANY_EXEMPT and not dmsa:
                return None
            # Message documented (§1.5); status unverified: 400, a missing required parameter.
            return pjson(400, {"errors": MISSING_COMPANY})
        if not raw.strip().isdigit() or self.store.get("companies", raw.strip()) is None:
            return pjson(403, {"errors": NOT_CONNECTED})
        cid = int(raw.strip())
        app = self._ctx.app
        if app and app.get("companies") is not None and cid not in app["companies"]:
            return pjson(403, {"errors": NOT_CONNECTED})  # §4: app not installed -> 403
        self._ctx.company_id = cid
        return None

    def decorate(self, req: Req, response: httpx.Response) -> httpx.Response:
        rate = getattr(self._ctx, "rate", None)
        if rate is not None:
            limit, remaining, reset = rate
            response.headers["X-Rate-Limit-Limit"] = str(limit)
            response.headers["X-Rate-Limit-Remaining"] = str(max(0, remaining))
            response.headers["X-Rate-Limit-Reset"] = str(math.ceil(reset))
        return response

    def rate_limited_response(self, req: Req) -> httpx.Response:
        rate = getattr(self._ctx, "rate", None)
        wait = self.faults.retry_after
        if rate is not None and rate[1] <= 0:
            wait = max(1, math.ceil(rate[2] - self.clock.time()))
        return text_response(429, RATE_LIMIT_TEXT, {"Retry-After": str(wait)})

    def error_body(self, status: int, message: str) -> httpx.Response:
        if status >= 500:
            return pjson(status, {"errors": message}, {"Retry-After": str(self.faults.retry_after)})
        if status == 404:
            message = "Not Found"
        return pjson(status, {"errors": message})

    # -- scoping helpers used by the resource modules ----------------------------------------

    def company_param(self, req: Req, value: Any = None) -> int:
        """``company_id`` from the path/query/body must be the header's company (else 404)."""
        raw = value if value is not None else req.params.get("company_id") or req.arg("company_id")
        cid = self._ctx.company_id
        if raw is None:
            raise ApiError(400, "company_id is missing")
        if as_int(raw, "company_id") != cid:
            raise not_found()
        return cid

    def project_of(self, req: Req, body: dict[str, Any] | None = None) -> dict[str, Any]:
        raw = req.params.get("project_id") or req.arg("project_id")
        if raw is None and body:
            raw = body.get("project_id")
        if raw is None:
            raise ApiError(400, "project_id is missing")
        return self.get_rec("projects", as_int(raw, "project_id"), company_id=self.company_id())
