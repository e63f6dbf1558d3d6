"""The NetSuite SuiteTalk REST client: records, SuiteQL, upserts by external id.

Built on :class:`connectors.http.ApiClient` (retries, 401 → one refresh, limiter, error capture);
this module adds only what is NetSuite's own:

* auth: a Bearer token from the M2M grant (TokenManager), or a TBA signature on every request;
* reads: one record with ``expandSubResources=true``; record lists paged by ``limit``/``offset``
  (ids only, reference §1.4); SuiteQL paged the same way, both as generators holding one page;
* writes: ``PUT /record/v1/{type}/eid:{externalId}`` (upsert, reference §1.8) so a retry after a
  lost answer can never make a second record; sublists in a write are sent with ``replace=`` so a
  retried write cannot append its lines twice (non-keyed lines append, reference §1.6);
* conflict check before an update against ``lastModifiedDate`` (no ETag/If-Match exists, §6).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from ..errors import AuthError, Conflict, ConnectorError, Duplicate, Exchange, NotFound
from ..http import ApiClient, RetryPolicy
from ..limits import LimitBackend, Limiter, MemoryLimits, RedisLimits
from ..tokens import TokenManager, TokenStore
from . import auth as ns_auth
from .errors import SYSTEM, classify, parse_body
from .schemas import parse_datetime, parse_record

RECORD = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"
PAGE_MAX = 1000  # record lists and SuiteQL: "limit" at most 1000 (reference §1.4, §2)
SUITEQL_ROW_CAP = 100_000  # rows one SuiteQL query can page through (reference §2)
DEFAULT_CONCURRENCY = 15  # shared tier + 1 SuiteCloud Plus; the account's limit (reference §4.1)

# Sublists the flows write. A write that carries one of them lists it in ``replace=`` so the
# request is idempotent: the sublist becomes exactly the lines sent, however often it is sent.
SUBLISTS = frozenset(
    {"item", "expense", "line", "apply", "currencyList", "submachine", "addressBook"}
)
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")  # reference §1.8: letters, digits, _ and -

# SuiteQL transaction.type codes (reference §2) for incremental reads of transactions.
TRANSACTION_TYPES = {
    "purchaseOrder": "PurchOrd",
    "vendorBill": "VendBill",
    "invoice": "CustInvc",
    "vendorPayment": "VendPymt",
    "customerPayment": "CustPymt",
    "journalEntry": "Journal",
}


def default_limiter(
    settings: dict[str, Any], redis: Any = None, *, limits: LimitBackend | None = None
) -> Limiter:
    """The account's concurrency limit, shared by every worker through ``limits`` (the
    product's database or Redis backend; ``redis`` is the short form for Redis).

    NetSuite counts concurrent requests per *account*, across SOAP, REST and RESTlets and every
    integration (reference §4.1), so the key is the account id and the default leaves nothing
    for other integrations only when the admin says so (``concurrency_limit``).
    """
    limit = int(settings.get("concurrency_limit") or DEFAULT_CONCURRENCY)
    if limits is None:
        limits = RedisLimits(redis) if redis is not None else MemoryLimits()
    key = f"netsuite:{ns_auth.realm_for(settings['account_id'])}"
    return limits.concurrency(key, limit)


def record_id_from_location(location: str | None) -> str | None:
    """``Location: https://.../record/v1/customer/647`` → ``"647"`` (reference §1.2)."""
    if not location:
        return None
    tail = location.rstrip("/").rsplit("/", 1)[-1]
    return tail or None


_ORA_STAMP = "YYYY-MM-DD HH24:MI:SS"


def suiteql_timestamp(moment: datetime) -> str:
    """A SuiteQL literal for an aware datetime, in UTC, to the second."""
    utc = parse_datetime(moment)
    assert utc is not None
    return f"TO_TIMESTAMP('{utc:%Y-%m-%d %H:%M:%S}', '{_ORA_STAMP}')"


@dataclass
class Written:
    """What a write left behind: the internal id and, when read back, the new version."""

    id: str
    last_modified: datetime | None = None


class NetSuiteClient(ApiClient):
    system = SYSTEM

    def __init__(
        self,
        *,
        account_id: str,
        tba: ns_auth.TbaAuth | None = None,
        token_store: TokenStore | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.account_id = account_id
        self.tba = tba
        self.token_store = token_store
        self.token_calls = 0

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_settings(
        cls,
        settings: dict[str, Any],
        *,
        token_store: TokenStore,
        transport: httpx.BaseTransport | None = None,
        limiter: Limiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
    ) -> NetSuiteClient:
        account_id = settings["account_id"]
        base_url = settings.get("base_url") or ns_auth.host_for(account_id)
        method = settings.get("auth_method", "m2m")
        client = cls(
            account_id=account_id,
            base_url=base_url,
            transport=transport,
            limiter=limiter if limiter is not None else default_limiter(settings),
            sleep=sleep,
            retry=retry,
            token_store=token_store,
            # Misspelt field names fail loudly instead of being dropped with a warning
            # (reference §1.3; the default is "Warning").
            headers={"X-NetSuite-PropertyNameValidation": "Error"},
        )
        if method == "m2m":
            # aud is the account's token URL (reference §3.1), whatever base URL we talk to.
            audience = settings.get("token_audience") or (
                ns_auth.host_for(account_id) + ns_auth.TOKEN_PATH
            )
            assertion = ns_auth.ClientAssertion(
                client_id=settings["client_id"],
                certificate_id=settings["certificate_id"],
                private_key_pem=settings["private_key_pem"],
                token_url=audience,
                scope=settings.get("scope") or ns_auth.DEFAULT_SCOPE,
                clock=clock,
            )
            client.tokens = TokenManager(
                token_store, lambda current: client._grant(assertion), clock=clock
            )
        elif method == "tba":
            client.tba = ns_auth.tba_from_settings(settings, clock=clock)
        else:
            raise ValueError(f"unknown NetSuite auth_method {method!r} (m2m or tba)")
        return client

    def _grant(self, assertion: ns_auth.ClientAssertion) -> dict[str, Any]:
        """The M2M grant, through the same limiter: it counts against the account's limit."""
        with self.limiter.slot():
            self.token_calls += 1
            return ns_auth.request_token(self.http, assertion, self.base_url + ns_auth.TOKEN_PATH)

    # -- hooks ----------------------------------------------------------------------------------

    def authorize(self, request: httpx.Request) -> str | None:
        if self.tba is not None:
            self.tba.sign(request)  # TBA signs each request: nonce + timestamp, nothing cached
            return None
        return super().authorize(request)

    def classify(
        self, response: httpx.Response, exchange: Exchange | None
    ) -> ConnectorError | None:
        error = classify(response, exchange)
        if (
            error is not None
            and error.code == "USER_ERROR"
            and any(d.get("path") == "externalId" for d in error.details)
        ):
            # REST reports "this externalId is taken" as USER_ERROR pointing at externalId
            # (reference §4.2 has no dedicated REST code): judged by o:errorPath, not by text.
            error = Duplicate(
                error.message,
                system=SYSTEM,
                status=error.status,
                code=error.code,
                exchange=exchange,
                details=error.details,
            )
        return error

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return super().send(method, url, **kwargs)
        except AuthError as exc:
            if self.tba is not None and self.token_store is not None:
                # TBA has no refresh: a refused signature means the token was revoked or the
                # secrets are wrong. Mark it once; never loop.
                self.token_store.mark_needs_reauth(str(exc))
            raise

    # -- reads: records -----------------------------------------------------------------------

    def get_raw(
        self,
        record_type: str,
        record_id: str,
        *,
        expand: bool = True,
        fields: list[str] | None = None,
    ) -> dict[str, Any]:
        """One record as NetSuite returns it; sublists expanded unless ``expand=False``."""
        params: dict[str, str] = {}
        if expand:
            params["expandSubResources"] = "true"
        if fields:
            params["fields"] = ",".join(fields)
        response = self.get(f"{RECORD}/{record_type}/{record_id}", params=params or None)
        return parse_body(response) or {}

    def record(self, record_type: str, record_id: str) -> Any:
        """One typed record (schemas.py) by internal id (or ``eid:<externalId>``)."""
        return parse_record(record_type, self.get_raw(record_type, record_id))

    def find_by_external_id(self, record_type: str, external_id: str) -> dict[str, Any] | None:
        try:
            return self.get_raw(record_type, f"eid:{_checked_eid(external_id)}")
        except NotFound:
            return None

    def list_ids(
        self, record_type: str, *, q: str | None = None, page_size: int = PAGE_MAX
    ) -> Iterator[str]:
        """Internal ids of ``record_type`` matching ``q``, one page in memory at a time."""
        page_size = max(1, min(page_size, PAGE_MAX))
        offset = 0
        while True:
            params: dict[str, Any] = {"limit": page_size, "offset": offset}
            if q:
                params["q"] = q
            body = parse_body(self.get(f"{RECORD}/{record_type}", params=params)) or {}
            page = body.get("items") or []
            for item in page:
                yield str(item["id"])
            if not body.get("hasMore") or not page:
                return
            offset += len(page)

    def iter_records(
        self, record_type: str, *, q: str | None = None, page_size: int = PAGE_MAX
    ) -> Iterator[Any]:
        """Typed records: a list page of ids, then one expanded GET per id (lists carry no
        fields, reference §1.4). For bulk reads of transactions use :meth:`transactions`."""
        for record_id in self.list_ids(record_type, q=q, page_size=page_size):
            try:
                yield self.record(record_type, record_id)
            except NotFound:
                continue  # deleted between the list page and the GET

    def transactions(
        self, record_type: str, *, since: datetime | None = None, page_size: int = PAGE_MAX
    ) -> Iterator[Any]:
        """Typed transactions (``vendorBill``, ``purchaseOrder``, ``invoice``) with their lines,
        read in bulk through SuiteQL: about two requests per 1,000 (bulk.py), not one each."""
        from .bulk import transactions_with_lines

        tran = TRANSACTION_TYPES[record_type]
        return transactions_with_lines(self, tran, record_type, since=since, page_size=page_size)

    # -- reads: SuiteQL ---------------------------------------------------------------------------

    def suiteql(self, query: str, *, page_size: int = PAGE_MAX) -> Iterator[dict[str, Any]]:
        """Rows of a SuiteQL SELECT, paged by ``limit``/``offset``; one page in memory.

        The query must ORDER BY a unique key, or pages may repeat or skip rows (reference §2).
        One query pages through at most 100,000 rows; :meth:`changed_since` pages beyond by
        restarting after the last key it saw.
        """
        page_size = max(1, min(page_size, PAGE_MAX))
        offset = 0
        while True:
            page, more = self.suiteql_page(query, limit=page_size, offset=offset)
            yield from page
            if not more or not page:
                return
            offset += len(page)
            if offset >= SUITEQL_ROW_CAP:
                raise ValueError(
                    "SuiteQL pages through at most 100,000 rows per query: narrow it or page "
                    "by key (changed_since does)"
                )

    def suiteql_page(
        self, query: str, *, limit: int = PAGE_MAX, offset: int = 0
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of a SuiteQL SELECT and whether more rows follow (``hasMore``)."""
        response = self.send(
            "POST",
            SUITEQL,
            params={"limit": max(1, min(limit, PAGE_MAX)), "offset": offset},
            json={"q": query},
            headers={"Prefer": "transient"},
            idempotent=True,  # a SELECT: safe to retry
        )
        body = parse_body(response) or {}
        page = body.get("items") or []
        for row in page:
            row.pop("links", None)
        return page, bool(body.get("hasMore"))

    def changed_since(
        self,
        record_type: str,
        since: datetime | None,
        *,
        columns: tuple[str, ...] = ("id",),
        page_size: int = PAGE_MAX,
        batch: int = SUITEQL_ROW_CAP,
    ) -> Iterator[dict[str, Any]]:
        """Rows of ``record_type`` modified at or after ``since``, oldest first.

        Each row carries ``last_modified`` (aware UTC). SuiteQL prints dates in the account's
        date format without the time, so the time comes through ``TO_CHAR`` (as the public
        incremental queries do, reference §2). Ordered by ``(lastmodifieddate, id)``, a unique
        order (reference §2). Past ``batch`` (100,000) rows, the query restarts from the last
        timestamp seen, skipping ids already emitted at it, so a backlog of any size is read in
        full. Resume the next run from the newest ``last_modified`` (``>=``: a record saved in
        the same second is read twice, never missed).
        """
        table, where = _table_for(record_type)
        wanted = [c for c in dict.fromkeys(("id", *columns)) if c != "lastmodifieddate"]
        cols = ", ".join([*wanted, f"TO_CHAR(lastmodifieddate, '{_ORA_STAMP}') AS lastmodified"])
        floor = since
        seen_at_floor: set[str] = set()
        while True:
            clauses = list(where)
            if floor is not None:
                clauses.append(f"lastmodifieddate >= {suiteql_timestamp(floor)}")
            # Only our own identifiers and a formatted timestamp go in: no caller text.
            sql = f"SELECT {cols} FROM {table}"  # noqa: S608
            if clauses:
                sql += " WHERE " + " AND ".join(clauses)
            sql += " ORDER BY lastmodifieddate, id"
            rows = 0
            last_stamp: datetime | None = None
            ids_at_last: set[str] = set()
            for row in self.suiteql(sql, page_size=page_size):
                rows += 1
                stamp = parse_suiteql_datetime(row.pop("lastmodified", None))
                rid = str(row.get("id"))
                if stamp != last_stamp:
                    last_stamp, ids_at_last = stamp, set()
                ids_at_last.add(rid)
                if stamp == floor and rid in seen_at_floor:
                    continue
                row["last_modified"] = stamp
                yield row
                if rows >= batch:
                    break
            if rows < batch or last_stamp is None:
                return
            if last_stamp == floor:
                # A whole batch inside one second: restarting cannot move forward. (Keyset on
                # "= floor AND id > x" would need exact timestamps; SuiteQL's may carry
                # fractions of a second that TO_CHAR hides.)
                raise RuntimeError(
                    f"more than {batch} {record_type} rows modified at {_iso(floor)}: "
                    "narrow the query"
                )
            floor, seen_at_floor = last_stamp, ids_at_last

    # -- writes ---------------------------------------------------------------------------------

    def upsert(
        self,
        record_type: str,
        external_id: str,
        payload: dict[str, Any],
        *,
        replace: list[str] | None = None,
    ) -> Written:
        """Create or update the record with this external id; safe to retry blindly.

        A lost answer (the connection dropped after NetSuite committed) is retried by the HTTP
        layer as an idempotent request: the second PUT finds the record by its external id and
        updates it to the same values, so the account holds exactly one record.
        """
        eid = _checked_eid(external_id)
        body = {k: v for k, v in payload.items() if k != "externalId"}
        response = self.send(
            "PUT",
            f"{RECORD}/{record_type}/eid:{eid}",
            params=_replace_params(body, replace),
            json=body,
            idempotent=True,
        )
        record_id = record_id_from_location(response.headers.get("Location"))
        if record_id is None:
            # Oracle documents Location for creates; an upsert that updated may not send it.
            found = self.get_raw(record_type, f"eid:{eid}", expand=False, fields=["id"])
            record_id = str(found["id"])
        return Written(record_id)

    def update(
        self,
        record_type: str,
        record_id: str,
        payload: dict[str, Any],
        *,
        replace: list[str] | None = None,
    ) -> None:
        """PATCH body fields; sublists sent are replaced wholesale (hence safe to retry)."""
        self.send(
            "PATCH",
            f"{RECORD}/{record_type}/{record_id}",
            params=_replace_params(payload, replace),
            json=payload,
            idempotent=True,
        )

    def update_if_unchanged(
        self,
        record_type: str,
        record_id: str,
        payload: dict[str, Any],
        expected_last_modified: datetime | str | None,
        *,
        replace: list[str] | None = None,
    ) -> Written:
        """Update only if nobody changed the record since we last synced it.

        NetSuite has no conditional write (no ETag / If-Match, reference §6), so this reads the
        record, compares ``lastModifiedDate`` and then PATCHes. A hand edit landing between the
        read and the PATCH (a window of one round trip) is overwritten unnoticed; the read-back
        afterwards narrows what we record but cannot close it. The reconciliation run compares
        the ERP copy with the last synced fingerprint and catches what slips through.
        """
        current = self.get_raw(record_type, record_id)
        actual = parse_datetime(current.get("lastModifiedDate"))
        expected = parse_datetime(expected_last_modified)
        if actual != expected:
            raise Conflict(
                f"{record_type} {record_id} was changed in NetSuite "
                f"(lastModifiedDate {_iso(actual)}, expected {_iso(expected)})",
                system=SYSTEM,
                code="RCRD_HAS_BEEN_CHANGED",
                current=current,
                details=[{"expected": _iso(expected), "actual": _iso(actual)}],
            )
        self.update(record_type, record_id, payload, replace=replace)
        after = self.get_raw(record_type, record_id, expand=False, fields=["lastModifiedDate"])
        return Written(record_id, parse_datetime(after.get("lastModifiedDate")))

    def last_modified(self, record_type: str, record_id: str) -> datetime | None:
        body = self.get_raw(record_type, record_id, expand=False, fields=["lastModifiedDate"])
        return parse_datetime(body.get("lastModifiedDate"))

    def delete(self, record_type: str, record_id: str) -> bool:
        """Delete; ``False`` when it is already gone (a retried delete whose answer was lost)."""
        try:
            self.send("DELETE", f"{RECORD}/{record_type}/{record_id}", idempotent=True)
        except NotFound:
            return False
        return True


# -- helpers ----------------------------------------------------------------------------------


def _checked_eid(external_id: str) -> str:
    if not _EXTERNAL_ID.match(external_id or ""):
        raise ValueError(
            f"external id {external_id!r}: NetSuite allows letters, digits, '_' and '-' only"
        )
    return external_id


def _replace_params(payload: dict[str, Any], replace: list[str] | None) -> dict[str, str] | None:
    names = (
        replace
        if replace is not None
        else sorted(
            k for k, v in payload.items() if k in SUBLISTS and isinstance(v, dict) and "items" in v
        )
    )
    return {"replace": ",".join(names)} if names else None


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else "none"


def parse_suiteql_datetime(value: Any) -> datetime | None:
    """SuiteQL dates come back as text; ISO (the sandbox, TO_CHAR) or ``M/D/YYYY h:mm am``."""
    if value in (None, ""):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        pass
    for fmt in ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S.%f"):
        try:
            return parse_datetime(datetime.strptime(str(value).strip(), fmt))
        except ValueError:
            continue
    raise ValueError(f"unparseable SuiteQL date {value!r}")


def _table_for(record_type: str) -> tuple[str, list[str]]:
    tran = TRANSACTION_TYPES.get(record_type)
    if tran:
        return "transaction", [f"type = '{tran}'"]
    return record_type.lower(), []


def validate_credentials(
    settings: dict[str, Any],
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any] | None:
    """Prove the settings work, for the admin form's save; raise a family error if not.

    M2M: one client-credentials grant; returns the token so the caller can store it (the next
    sync then needs no grant of its own). TBA has no token endpoint: one signed, cheap read
    (one currency id) proves the consumer, the token and the role; returns ``None``.
    Failures are :class:`AuthError` (bad key, certificate id, client id, secrets; a key that
    cannot be read), :class:`PermissionDenied` (role), or transient ones (try again).
    """
    from ..tokens import MemoryTokenStore

    store = MemoryTokenStore()
    client = NetSuiteClient.from_settings(
        settings,
        token_store=store,
        transport=transport,
        clock=clock,
        retry=RetryPolicy(attempts=1),  # a person is waiting on the form: answer now
    )
    with client:
        if client.tokens is not None:
            return client.tokens.refresh()
        client.get(f"{RECORD}/currency", params={"limit": 1})
        return None
