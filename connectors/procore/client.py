"""The Procore REST client: one method per endpoint the sync flows need (reference §5).

Reads are iterators over ``page``/``per_page`` pages (§2) that hold one page at a time, so
memory is flat in the number of records. Writes the engine needs (origin_id write-back, contract
payments, webhooks) live in :mod:`.writes`. Retries, 401 handling and error families come from
:class:`connectors.http.ApiClient`; this module adds Procore's headers and limits:

* ``Procore-Company-Id`` on every call (§1.5). ``/me`` and ``/companies`` are exempt for user
  tokens but *not* for a DMSA (client credentials), so we send it everywhere we know the
  company; only a connection that has not picked its company yet calls them without it.
* ``X-Rate-Limit-Limit/Remaining/Reset`` (§3): when Remaining reaches 0 the shared limiter is
  paused until Reset, so every worker of the connection waits instead of earning a 429.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

import httpx

from connectors.errors import ConnectorError, Exchange
from connectors.http import ApiClient, RetryPolicy
from connectors.limits import Combined, LimitBackend, Limiter, MemoryLimits, RedisLimits
from connectors.tokens import TokenManager, TokenStore

from . import auth
from .errors import SYSTEM, classify
from .paging import DEFAULT_PER_PAGE, ENDPOINT_MAX_PER_PAGE, has_more, updated_range
from .schemas import (
    COMMITMENT_KINDS,
    Commitment,
    CommitmentChangeOrder,
    Company,
    ContractPayment,
    CostCode,
    DirectCost,
    LineItem,
    LineItemType,
    PaymentApplication,
    PrimeContract,
    Project,
    Requisition,
    Vendor,
)
from .writes import WritesMixin

T = TypeVar("T")

# §3: a response's Reset can be at most an hour away (the hourly window); anything later is a
# clock disagreement and must not freeze the connection.
MAX_RESET_WAIT = 3600.0
_V1 = "/rest/v1.0"


def default_limiter(
    settings: Mapping[str, Any],
    redis: Any = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    limits: LimitBackend | None = None,
) -> Limiter:
    """Stay under Procore's windows before the server says no (§3).

    Procore reports a 10-second spike window and an hourly window per token. The spike size is
    not documented (the doc's example headers show 25); we default to 20 per 10 s and 3,600 per
    hour (the older docs' figure), both overridable (``spike_limit``, ``hourly_limit``). With a
    ``redis`` client the windows are shared by every worker of the connection (a DMSA token is
    shared by all of them); the key is the app and company, which is what a token is issued to.
    """
    spike = int(settings.get("spike_limit") or 20)
    hourly = int(settings.get("hourly_limit") or 3600)
    key = f"procore:{settings.get('client_id', '')}:{settings.get('company_id', '')}"
    if limits is None:
        limits = RedisLimits(redis) if redis is not None else MemoryLimits()
    return Combined(
        limits.rate_window(f"{key}:spike", spike, 10.0, sleep=sleep),
        limits.rate_window(f"{key}:hour", hourly, 3600.0, sleep=sleep),
    )


class ProcoreClient(WritesMixin, ApiClient):
    system = SYSTEM

    def __init__(
        self,
        *,
        settings: Mapping[str, Any],
        tokens: TokenManager | None,
        transport: httpx.BaseTransport | None = None,
        limiter: Limiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            base_url=str(settings.get("api_base_url") or "https://api.procore.com"),
            tokens=tokens,
            transport=transport,
            limiter=limiter,
            retry=retry,
            sleep=sleep,
            **kwargs,
        )
        self.settings = dict(settings)
        self.company_id = str(settings["company_id"]) if settings.get("company_id") else None
        self.per_page = int(settings.get("per_page") or DEFAULT_PER_PAGE)
        self.clock = clock
        self.rate: dict[str, int] = {}  # the last X-Rate-Limit-* seen
        self.rate_pauses = 0

    @classmethod
    def from_settings(
        cls,
        settings: Mapping[str, Any],
        *,
        token_store: TokenStore,
        transport: httpx.BaseTransport | None = None,
        limiter: Limiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
    ) -> ProcoreClient:
        """``transport`` serves the API *and* the login host (in tests: one sandbox)."""
        fetch = auth.token_fetcher(settings, transport=transport)
        tokens = TokenManager(token_store, fetch, leeway=120.0, clock=clock)
        return cls(
            settings=settings,
            tokens=tokens,
            transport=transport,
            limiter=limiter,
            sleep=sleep,
            retry=retry,
            clock=clock,
        )

    # -- ApiClient hooks ----------------------------------------------------------------------

    def authorize(self, request: httpx.Request) -> str | None:
        token = super().authorize(request)
        if self.company_id and "Procore-Company-Id" not in request.headers:
            request.headers["Procore-Company-Id"] = self.company_id
        return token

    def classify(
        self, response: httpx.Response, exchange: Exchange | None
    ) -> ConnectorError | None:
        return classify(response, exchange, now=self.clock)

    def observe(self, response: httpx.Response) -> None:
        headers = response.headers
        try:
            limit = int(headers["X-Rate-Limit-Limit"])
            remaining = int(headers["X-Rate-Limit-Remaining"])
            reset = int(float(headers["X-Rate-Limit-Reset"]))
        except (KeyError, ValueError):
            return
        self.rate = {"limit": limit, "remaining": remaining, "reset": reset}
        if remaining <= 0 and response.status_code != 429:
            # The next request would be refused: hold every worker until the window resets.
            # (A 429 pauses the limiter itself, with its Retry-After, in ApiClient.send.)
            wait = min(MAX_RESET_WAIT, max(0.0, reset - self.clock()))
            if wait > 0:
                self.rate_pauses += 1
                self.limiter.pause(wait)

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = super().send(method, url, **kwargs)
        # httpx links a response and its stream in a reference cycle (BoundSyncStream keeps the
        # response), so every page's body would wait for the cyclic GC and memory would depend
        # on when it runs. The body is read already: swap in a plain stream to break the cycle.
        response.stream = httpx.ByteStream(response.content)
        return response

    # -- paging -------------------------------------------------------------------------------

    def page_size(self, path: str) -> int:
        cap = ENDPOINT_MAX_PER_PAGE.get(path)
        return min(self.per_page, cap) if cap else self.per_page

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[list[Any]]:
        """Every page of a paged list, one request each; ends without an extra empty request.

        The end is read from the ``Link`` header (no ``rel="next"`` on the last page, §2); when
        a response has no Link, from ``Total``/``Per-Page``; failing both, a short page.
        """
        per_page = self.page_size(path)
        page = 1
        while True:
            query = {**(params or {}), "page": page, "per_page": per_page}
            response = self.get(path, params=query)
            rows = response.json()
            if isinstance(rows, dict) and isinstance(rows.get("data"), list):
                rows = rows["data"]  # v2.0 wraps lists (§2)
            if not isinstance(rows, list):
                rows = [rows]  # an endpoint that answers one object (a spec quirk, §5.4 CCOs)
            more = has_more(response, page, per_page, len(rows))
            del response  # hold one page at a time: drop it before the next one is fetched
            yield rows
            del rows
            if not more:
                return
            page += 1

    def rows(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every row of a paged list; only the current page is in memory."""
        for page in self.pages(path, params):
            yield from page
            del page  # else the loop variable keeps this page alive while the next is fetched

    def each(
        self, path: str, params: dict[str, Any] | None, parse: Callable[[dict[str, Any]], T]
    ) -> Iterator[T]:
        for row in self.rows(path, params):
            yield parse(row)

    def minimum_requests(self, records: int, path: str = "") -> int:
        """Requests a paged read of ``records`` needs at this page size (benchmarks, tests)."""
        return max(1, math.ceil(records / self.page_size(path)))

    # -- filters ------------------------------------------------------------------------------

    def _company(self, company_id: str | int | None) -> str:
        cid = company_id or self.company_id
        if not cid:
            raise ValueError("company_id is not configured for this Procore connection")
        return str(cid)

    def _filters(
        self,
        params: dict[str, Any],
        *,
        updated_since: datetime | None = None,
        updated_between: tuple[datetime | None, datetime | None] | None = None,
        include_deleted: bool | str = False,
        **filters: Any,
    ) -> dict[str, Any]:
        span = updated_range(updated_since, updated_between, now=self.clock)
        if span:
            params["filters[updated_at]"] = span
        if include_deleted:
            # §7.4: "with" (live + deleted) or "only" (deletions).
            params["filters[include_deleted]"] = (
                include_deleted if isinstance(include_deleted, str) else "with"
            )
        for name, value in filters.items():
            if value is None:
                continue
            if isinstance(value, (list, tuple, set)):
                params[f"filters[{name}][]"] = [str(v) for v in value]
            else:
                params[f"filters[{name}]"] = str(value)
        return params

    # -- reads: company level -----------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        return self.get(f"{_V1}/me").json()

    def companies(self) -> Iterator[Company]:
        return self.each(f"{_V1}/companies", {}, Company.parse)

    def projects(
        self,
        *,
        company_id: str | None = None,
        status: str = "All",
        updated_since: datetime | None = None,
        updated_between: tuple[datetime | None, datetime | None] | None = None,
        origin_id: str | None = None,
    ) -> Iterator[Project]:
        params = self._filters(
            {"company_id": self._company(company_id)},
            updated_since=updated_since,
            updated_between=updated_between,
            by_status=status,
            origin_id=origin_id,
        )
        return self.each(f"{_V1}/projects", params, Project.parse)

    def project(self, project_id: str, *, company_id: str | None = None) -> Project:
        params = {"company_id": self._company(company_id)}
        return Project.parse(self.get(f"{_V1}/projects/{project_id}", params=params).json())

    def vendors(
        self,
        *,
        company_id: str | None = None,
        inactive: bool = False,
        updated_since: datetime | None = None,
        updated_between: tuple[datetime | None, datetime | None] | None = None,
        origin_id: str | None = None,
    ) -> Iterator[Vendor]:
        """Active vendors of the company directory; ``inactive=True`` reads the inactive list
        (a separate endpoint, §5.1)."""
        cid = self._company(company_id)
        params = self._filters(
            {"company_id": cid},
            updated_since=updated_since,
            updated_between=updated_between,
            origin_id=origin_id,
        )
        if inactive:
            return self.each(f"{_V1}/companies/{cid}/vendors/inactive", params, Vendor.parse)
        return self.each(f"{_V1}/vendors", params, Vendor.parse)

    def vendor(self, vendor_id: str, *, company_id: str | None = None) -> Vendor:
        params = {"company_id": self._company(company_id)}
        return Vendor.parse(self.get(f"{_V1}/vendors/{vendor_id}", params=params).json())

    def cost_codes(
        self,
        project_id: str,
        *,
        updated_since: datetime | None = None,
        updated_between: tuple[datetime | None, datetime | None] | None = None,
        include_deleted: bool | str = False,
    ) -> Iterator[CostCode]:
        params = self._filters(
            {"project_id": str(project_id)},
            updated_since=updated_since,
            updated_between=updated_between,
            include_deleted=include_deleted,
        )
        return self.each(f"{_V1}/cost_codes", params, CostCode.parse)

    def line_item_types(self, *, company_id: str | None = None) -> Iterator[LineItemType]:
        """Cost types ("line item types")."""
        params = {"company_id": self._company(company_id)}
        return self.each(f"{_V1}/line_item_types", params, LineItemType.parse)

    # -- reads: commitments -------------------------------------------------------------------

    def commitments(
        self,
        project_id: str,
        *,
        kinds: tuple[str, ...] = tuple(COMMITMENT_KINDS),
        with_lines: bool = True,
        updated_since: datetime | None = None,
        updated_between: tuple[datetime | None, datetime | None] | None = None,
        include_deleted: bool | str = False,
        status: str | None = None,
    ) -> Iterator[Commitment]:
        """Work order contracts, then purchase order contracts, each with its SOV lines.

        Lines: the v1.0 list endpoints return commitment headers only (the line items come
        with the *show* view, §5.4), and there is no project-wide commitment line item list
        (§5.1), so one request per commitment (``…/{id}/line_items``, all lines in one page) is
        the minimum. We ask the list for ``view=extended`` anyway: when a response does carry
        ``line_items`` the per-commitment request is skipped.
        """
        for kind in kinds:
            path = f"{_V1}/{kind}s"
            params = self._filters(
                {"project_id": str(project_id), "view": "extended"},
                updated_since=updated_since,
                updated_between=updated_between,
                include_deleted=include_deleted,
                status=status,
            )
            for row in self.rows(path, params):
                lines = None
                if with_lines and "line_items" not in row:
                    lines = list(self._commitment_lines(kind, project_id, row["id"]))
                yield Commitment.parse(row, kind, lines)

    def _commitment_lines(self, kind: str, project_id: str, contract_id: Any) -> Iterator[dict]:
        path = f"{_V1}/{kind}s/{contract_id}/line_items"
        return self.rows(path, {"project_id": str(project_id)})

    def commitment(self, kind: str, contract_id: str, project_id: str) -> Commitment:
        if kind not in COMMITMENT_KINDS:
            raise ValueError(f"unknown commitment kind {kind!r}")
        row = self.get(
            f"{_V1}/{kind}s/{contract_id}", params={"project_id": str(project_id)}
        ).json()
        lines = (
            None
            if "line_items" in row
            else list(self._commitment_lines(kind, project_id, contract_id))
        )
        return Commitment.parse(row, kind, lines)

    def commitment_lines(self, kind: str, contract_id: str, project_id: str) -> list[LineItem]:
        return [LineItem.parse(r) for r in self._commitment_lines(kind, project_id, contract_id)]

    def commitment_change_orders(
        self, project_id: str, *, contract_id: str | None = None
    ) -> Iterator[CommitmentChangeOrder]:
        """v1.0 CCOs: not paginated per the spec (§5.2); we still follow a Link if one comes."""
        params = self._filters({}, contract_id=contract_id)
        path = f"{_V1}/projects/{project_id}/commitment_change_orders"
        return self.each(path, params, CommitmentChangeOrder.parse)

    # -- reads: billing -----------------------------------------------------------------------

    def requisitions(
        self,
        project_id: str,
        *,
        commitment_id: str | None = None,
        status: str | None = None,
        updated_since: datetime | None = None,
        updated_between: tuple[datetime | None, datetime | None] | None = None,
        origin_id: str | None = None,
    ) -> Iterator[Requisition]:
        """Subcontractor invoices with their G702 retainage figures."""
        params = self._filters(
            {"project_id": str(project_id)},
            updated_since=updated_since,
            updated_between=updated_between,
            commitment_id=commitment_id,
            status=status,
            origin_id=origin_id,
        )
        return self.each(f"{_V1}/requisitions", params, Requisition.parse)

    def requisition(self, requisition_id: str, project_id: str) -> Requisition:
        params = {"project_id": str(project_id)}
        return Requisition.parse(
            self.get(f"{_V1}/requisitions/{requisition_id}", params=params).json()
        )

    def prime_contracts(
        self,
        project_id: str,
        *,
        updated_since: datetime | None = None,
        updated_between: tuple[datetime | None, datetime | None] | None = None,
    ) -> Iterator[PrimeContract]:
        params = self._filters(
            {"project_id": str(project_id)},
            updated_since=updated_since,
            updated_between=updated_between,
        )
        return self.each(f"{_V1}/prime_contracts", params, PrimeContract.parse)

    def payment_applications(
        self,
        project_id: str,
        *,
        updated_since: datetime | None = None,
        updated_between: tuple[datetime | None, datetime | None] | None = None,
    ) -> Iterator[PaymentApplication]:
        """Owner invoices. ``updated_at`` filtering is not documented for this list (§5.2);
        we send the filter, and also drop older rows client-side so a server that ignores it
        still yields only what changed."""
        params = self._filters(
            {"project_id": str(project_id)},
            updated_since=updated_since,
            updated_between=updated_between,
        )
        items = self.each(f"{_V1}/payment_applications", params, PaymentApplication.parse)
        if updated_since is None and updated_between is None:
            return items
        start, end = updated_between or (updated_since, None)
        return (
            pa
            for pa in items
            if pa.updated_at is None
            or ((start is None or pa.updated_at >= start) and (end is None or pa.updated_at <= end))
        )

    def direct_costs(
        self,
        project_id: str,
        *,
        with_lines: bool = True,
        updated_since: datetime | None = None,
        updated_between: tuple[datetime | None, datetime | None] | None = None,
        origin_id: str | None = None,
    ) -> Iterator[DirectCost]:
        """v1.1 direct costs; lines from ``…/direct_costs/{id}/line_items`` unless the list
        already carries ``line_items``."""
        path = f"/rest/v1.1/projects/{project_id}/direct_costs"
        params = self._filters(
            {"view": "extended"},
            updated_since=updated_since,
            updated_between=updated_between,
            origin_id=origin_id,
        )
        for row in self.rows(path, params):
            lines = None
            if with_lines and "line_items" not in row:
                lines_path = f"{_V1}/projects/{project_id}/direct_costs/{row['id']}/line_items"
                lines = list(self.rows(lines_path))
            yield DirectCost.parse(row, lines)

    def contract_payments(self, project_id: str, contract_id: str) -> Iterator[ContractPayment]:
        """Payments issued on a commitment (or received on a prime contract)."""
        params = {"project_id": str(project_id), "contract_id": str(contract_id)}
        return self.each(f"{_V1}/contract_payments", params, ContractPayment.parse)
