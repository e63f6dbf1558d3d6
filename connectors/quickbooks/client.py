"""The QuickBooks Online Accounting API v3 client (quickbooks-api.md §1).

Reads: one record by id, the query language as bounded-memory iterators (``STARTPOSITION`` /
``MAXRESULTS`` 1000), CDC for incremental reads (deleted records come back as stubs).
Writes: every logical write carries a stable ``requestid`` (the caller's Change idempotency key),
re-sent unchanged on every retry, so QBO replays its first answer instead of writing twice
(§1.4) — that is what lets the HTTP layer retry writes (``idempotent=True``). When the outcome
is still unknown after the retries, :meth:`QuickBooksClient.create_once` looks the document up
(DocNumber / name / marker) before creating again. Updates are sparse and carry the SyncToken
the caller expects; a stale one (5010) raises :class:`Conflict` with QBO's current copy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote as urlquote

import httpx

from ..errors import (
    Conflict,
    ConnectorError,
    Duplicate,
    Exchange,
    OutcomeUnknown,
    PermanentError,
    TransientError,
)
from ..http import ApiClient, RetryPolicy
from ..limits import Combined, LimitBackend, Limiter, MemoryLimits, RedisLimits
from ..tokens import TokenManager, TokenStore
from . import query as q
from .auth import refresher
from .errors import SYSTEM, classify, error_for
from .schemas import (
    LIST_ENTITIES,
    TRANSACTIONS,
    CompanyInfo,
    Deleted,
    Entity,
    canonical,
    parse,
    utc,
)

log = logging.getLogger(__name__)

DEFAULT_API = "https://quickbooks.api.intuit.com"
MINOR_VERSION = "75"  # §1.2: every request is served as 75 since 2025-08-01; sent explicitly
REQUEST_ID_MAX = 50  # §1.4
BATCH_REQUEST_ID_MAX = 36  # §1.4: with a batch, requestid ≤ 36 and each bId ≤ 10 chars
BATCH_MAX = 30  # §1.6: 30 items per batch ([PQ], node-quickbooks, the API reference)
CDC_MAX = 1000  # §1.7: at most 1000 objects per CDC response

# §1.3: void differs per entity. Invoice: ?operation=void; BillPayment (and Payment, following
# python-quickbooks' VoidMixin, where the reference lists both): ?operation=update&include=void
# with a sparse body. Bill/PO/JournalEntry have no void, only delete.
VOID_PARAMS = {
    "Invoice": {"operation": "void"},
    "BillPayment": {"operation": "update", "include": "void"},
    "Payment": {"operation": "update", "include": "void"},
}


def default_limiter(
    settings: Mapping[str, Any],
    redis: Any = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    limits: LimitBackend | None = None,
) -> Limiter:
    """QBO's per-realm limits (§3.1), shared by every worker through ``limits`` (the product's
    database or Redis backend; ``redis`` is the short form for Redis).

    500 requests/minute per realm (batch calls included) and 10 in flight per realm+app (the
    2016 definition); the current limits page words the latter as 10 requests/second, so both
    are enforced. The keys carry the realm id: every worker for one company shares them.
    """
    key = f"quickbooks:{settings['realm_id']}"
    if limits is None:
        limits = RedisLimits(redis) if redis is not None else MemoryLimits(clock)
    return Combined(
        limits.rate_window(f"{key}:minute", 500, 60.0, sleep=sleep),
        limits.rate_window(f"{key}:second", 10, 1.0, sleep=sleep),
        limits.concurrency(key, 10, sleep=sleep),
    )


def default_batch_limiter(
    settings: Mapping[str, Any],
    redis: Any = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    limits: LimitBackend | None = None,
) -> Limiter:
    """§1.6/§3.1: 40 batch requests/minute per realm+app (on top of the general limits)."""
    if limits is None:
        limits = RedisLimits(redis) if redis is not None else MemoryLimits(clock)
    return limits.rate_window(f"quickbooks:{settings['realm_id']}:batch", 40, 60.0, sleep=sleep)


def request_id(key: str, limit: int = REQUEST_ID_MAX) -> str:
    """A QBO ``requestid`` from the caller's idempotency key: the key itself when it fits,
    otherwise a stable digest of it (same key → same requestid, every time, on every worker)."""
    key = str(key)
    if not key:
        raise ValueError("a write needs an idempotency key")
    if len(key) <= limit and key.isascii() and key.replace("-", "").replace("_", "").isalnum():
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:limit]


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            # JSON has one number type; a float carries ≤ 15 significant digits exactly, which
            # covers every amount QBO stores. Refuse anything that would round.
            as_float = float(o)
            if Decimal(repr(as_float)) != o.normalize() and Decimal(repr(as_float)) != o:
                raise ValueError(f"amount {o} cannot be sent exactly")
            return as_float
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


def dumps(data: Any) -> bytes:
    return json.dumps(data, cls=_Encoder, separators=(",", ":")).encode()


def loads(raw: bytes) -> Any:
    return json.loads(raw, parse_float=Decimal)


@dataclass
class CdcResult:
    """One CDC answer: changed records (and :class:`Deleted` stubs) per entity, and the
    server's ``time`` to use as the next ``changedSince`` (§1.7)."""

    changes: dict[str, list[Entity | Deleted]]
    time: datetime | None
    truncated: bool  # hit the 1000-object cap: read the window again in smaller pieces

    def __iter__(self) -> Iterator[Entity | Deleted]:
        for records in self.changes.values():
            yield from records


@dataclass
class BatchOp:
    operation: str  # create | update | delete
    entity: str
    payload: dict[str, Any]
    key: Any = None  # the caller's handle for mapping the result back (a Change id)


@dataclass
class BatchResult:
    op: BatchOp
    record: Entity | Deleted | None = None
    error: ConnectorError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Page:
    records: list[dict[str, Any]] = field(default_factory=list)
    total: int | None = None


class QuickBooksClient(ApiClient):
    system = SYSTEM

    def __init__(
        self,
        *,
        realm_id: str,
        minorversion: str | None = None,
        batch_limiter: Limiter | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.realm_id = str(realm_id)
        self.minorversion = str(minorversion or MINOR_VERSION)
        self.batch_limiter = batch_limiter or default_batch_limiter({"realm_id": realm_id})
        self.last_tid: str | None = None

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
        monotonic: Callable[[], float] = time.monotonic,
        redis: Any = None,
        retry: RetryPolicy | None = None,
        limits: LimitBackend | None = None,
    ) -> QuickBooksClient:
        tokens = TokenManager(token_store, refresher(settings, transport), clock=clock)
        return cls(
            realm_id=settings["realm_id"],
            minorversion=settings.get("minorversion"),
            base_url=settings.get("api_base_url") or DEFAULT_API,
            tokens=tokens,
            transport=transport,
            limiter=limiter
            or default_limiter(settings, redis, sleep=sleep, clock=monotonic, limits=limits),
            batch_limiter=default_batch_limiter(
                settings, redis, sleep=sleep, clock=monotonic, limits=limits
            ),
            retry=retry,
            sleep=sleep,
        )

    # -- plumbing -----------------------------------------------------------------------------

    def classify(
        self, response: httpx.Response, exchange: Exchange | None
    ) -> ConnectorError | None:
        return classify(response, exchange)

    def observe(self, response: httpx.Response) -> None:
        # Intuit support asks for the Intuit-Tid of a failing call (§1.1): keep and log it.
        self.last_tid = response.headers.get("intuit-tid")
        if response.status_code >= 400:
            log.info(
                "qbo %s %s -> %s tid=%s",
                response.request.method,
                response.request.url.path,
                response.status_code,
                self.last_tid,
            )

    def _path(self, *parts: str) -> str:
        return "/v3/company/" + "/".join(urlquote(p, safe="") for p in (self.realm_id, *parts))

    def _params(self, **extra: Any) -> dict[str, str]:
        params = {k: str(v) for k, v in extra.items() if v is not None}
        params["minorversion"] = self.minorversion
        return params

    def _get(self, path: str, **params: Any) -> Any:
        return loads(self.send("GET", path, params=self._params(**params)).content)

    def _post(self, path: str, body: Any, *, rid: str, **params: Any) -> Any:
        """A write: ``requestid`` makes it safe to resend, so the HTTP layer may retry it."""
        sent_before = self.calls
        try:
            response = self.send(
                "POST",
                path,
                params=self._params(requestid=rid, **params),
                content=dumps(body),
                headers={"Content-Type": "application/json"},
                idempotent=True,
            )
        except OutcomeUnknown:
            raise
        except TransientError as exc:
            if self.calls == sent_before:
                raise  # nothing left this process (limiter timeout): nothing to find out
            # Retries ran out, and an earlier attempt may have committed: the caller must look
            # (or resend with the same requestid) before writing anew.
            raise OutcomeUnknown(
                exc.message,
                system=SYSTEM,
                code=exc.code,
                status=exc.status,
                exchange=exc.exchange,
                retry_after=exc.retry_after,
                details=exc.details,
            ) from exc
        return loads(response.content)

    # -- reads --------------------------------------------------------------------------------

    def company_info(self) -> CompanyInfo:
        body = self._get(self._path("companyinfo", self.realm_id))
        return CompanyInfo.parse(body["CompanyInfo"])

    def read(self, entity: str, entity_id: str) -> Entity:
        name = canonical(entity)
        body = self._get(self._path(name.lower(), str(entity_id)))
        return parse(name, body[name])  # type: ignore[return-value]

    def read_raw(self, entity: str, entity_id: str) -> dict[str, Any]:
        name = canonical(entity)
        return self._get(self._path(name.lower(), str(entity_id)))[name]

    def query_page(self, sql: str) -> dict[str, Any]:
        """One raw ``QueryResponse`` for a statement (see :mod:`.query` to build it)."""
        return self._get(self._path("query"), query=sql).get("QueryResponse") or {}

    def count(self, entity: str, where: q.Where = None) -> int:
        page = self.query_page(q.select(canonical(entity), where, count=True))
        return int(page.get("totalCount", 0))

    def iter_query(
        self,
        entity: str,
        where: q.Where = None,
        *,
        order_by: str | None = None,
        descending: bool = False,
        include_inactive: bool = False,
        page_size: int = q.MAX_PAGE,
        raw: bool = False,
    ) -> Iterator[Any]:
        """Every matching record, one page (≤ 1000 records) in memory at a time.

        Paging stops at a short page, or as soon as a ``totalCount`` in the answer says the
        last row was read (saving the empty trailing request when the total is a multiple of
        the page size).
        """
        name = canonical(entity)
        conds = q.conditions(where)
        if include_inactive and name in LIST_ENTITIES:
            # §1.3: inactive list rows are hidden unless asked for explicitly.
            conds = [c for c in conds if c[0] != "Active"] + [("Active", "IN", [True, False])]
        start = 1
        while True:
            sql = q.select(
                name,
                conds,
                order_by=order_by,
                descending=descending,
                start=start,
                max_results=page_size,
            )
            page = self.query_page(sql)
            rows = page.get(name) or []
            total = page.get("totalCount")
            for row in rows:
                yield row if raw else parse(name, row)
            got = len(rows)
            del page
            if got < page_size or (total is not None and start + got - 1 >= int(total)):
                return
            start += got

    def iter_entities(
        self,
        entity: str,
        *,
        updated_since: datetime | None = None,
        where: q.Where = None,
        include_inactive: bool = False,
        page_size: int = q.MAX_PAGE,
    ) -> Iterator[Entity]:
        """All records of one type, optionally only those updated after ``updated_since``."""
        conds = q.conditions(where)
        if updated_since is not None:
            conds.append(("MetaData.LastUpdatedTime", ">", updated_since))
        return self.iter_query(
            entity, conds, include_inactive=include_inactive, page_size=page_size
        )

    def cdc(self, entities: Iterable[str], changed_since: datetime) -> CdcResult:
        """Everything changed since ``changed_since`` (≤ 30 days back), deletions as stubs."""
        if changed_since.tzinfo is None:
            raise ValueError("changed_since must be timezone-aware")
        names = [canonical(e) for e in entities]
        body = self._get(
            self._path("cdc"),
            entities=",".join(names),
            changedSince=changed_since.isoformat(timespec="seconds"),
        )
        changes: dict[str, list[Entity | Deleted]] = {n: [] for n in names}
        total = 0
        for block in body.get("CDCResponse") or []:
            for group in block.get("QueryResponse") or []:
                for key, rows in group.items():
                    if not isinstance(rows, list):
                        continue  # startPosition / maxResults / totalCount
                    try:
                        name = canonical(key)
                    except ValueError:  # a type we did not ask for and do not model
                        log.warning("qbo cdc: skipping %d %s rows", len(rows), key)
                        continue
                    changes.setdefault(name, []).extend(parse(name, r) for r in rows)
                    total += len(rows)
        return CdcResult(changes, utc(body.get("time")), truncated=total >= CDC_MAX)

    # -- lookups (the "look before you create again" half of rule 1) --------------------------

    def find_by_marker(
        self,
        entity: str,
        marker: str,
        *,
        field: str = "PrivateNote",
        where: q.Where = None,
    ) -> Entity | None:
        """The record whose ``field`` holds ``marker``.

        QBO filters only some fields server-side (DocNumber, DisplayName/Name, refs, dates);
        ``PrivateNote`` is matched here, over the rows ``where`` narrows the query to (the
        party and the TxnDate of the write, say), one page at a time. More than one match is a
        :class:`Duplicate` for a person to sort out.
        """
        found: list[Entity] = []
        for row in self.iter_query(entity, where, include_inactive=True, raw=True):
            if marker in str(row.get(field) or ""):
                found.append(parse(entity, row))  # type: ignore[arg-type]
        return _one(entity, found, f"{field} contains {marker!r}")

    def find_by_doc_number(
        self,
        entity: str,
        doc_number: str,
        *,
        vendor: str | None = None,
        customer: str | None = None,
    ) -> Entity | None:
        """The transaction with this DocNumber (for this vendor / customer, when given)."""
        conds: list[q.Condition] = [("DocNumber", "=", doc_number)]
        if vendor:
            conds.append(("VendorRef", "=", vendor))
        if customer:
            conds.append(("CustomerRef", "=", customer))
        found = list(self.iter_query(entity, conds))
        return _one(entity, found, f"DocNumber={doc_number!r}")

    def find_by_name(self, entity: str, name: str) -> Entity | None:
        """A list entity by its unique name (DisplayName for Customer/Vendor), active or not."""
        ename = canonical(entity)
        name_field = "DisplayName" if ename in ("Customer", "Vendor") else "Name"
        found = list(self.iter_query(ename, [(name_field, "=", name)], include_inactive=True))
        return _one(ename, found, f"{name_field}={name!r}")

    def default_lookup(self, entity: str, payload: Mapping[str, Any]) -> Callable[[], Any] | None:
        """How to find the record ``payload`` would create: by DocNumber (+ the party) for
        transactions, by unique name for list entities, else by the erpbridge marker the writer
        puts in ``PrivateNote`` (Payment, BillPayment carry no DocNumber of ours), narrowed by
        the party. ``None`` when nothing identifies it: then only the requestid replay helps."""
        name = canonical(entity)
        vendor = (payload.get("VendorRef") or {}).get("value")
        customer = (payload.get("CustomerRef") or {}).get("value")
        if payload.get("DocNumber"):
            return lambda: self.find_by_doc_number(
                name, payload["DocNumber"], vendor=vendor, customer=customer
            )
        if name in LIST_ENTITIES:
            for name_field in ("DisplayName", "Name"):
                if payload.get(name_field):
                    return lambda: self.find_by_name(name, payload[name_field])
            return None
        if payload.get("PrivateNote"):
            where = {k: v for k, v in (("VendorRef", vendor), ("CustomerRef", customer)) if v}
            if payload.get("TxnDate"):
                where["TxnDate"] = payload["TxnDate"]
            return lambda: self.find_by_marker(name, payload["PrivateNote"], where=where)
        return None

    # -- writes -------------------------------------------------------------------------------

    def create(self, entity: str, payload: Mapping[str, Any], *, request_id: str) -> Entity:
        name = canonical(entity)
        body = self._post(self._path(name.lower()), dict(payload), rid=_rid(request_id))
        return parse(name, body[name])  # type: ignore[return-value]

    def create_once(
        self,
        entity: str,
        payload: Mapping[str, Any],
        request_id: str,
        lookup: Callable[[], Entity | None] | None = None,
        *,
        rounds: int = 3,
    ) -> Entity:
        """Create exactly once, even when answers get lost.

        Each round sends the create with the same ``requestid`` (QBO replays a committed one).
        When a round ends with the outcome unknown, ``lookup`` (default: by DocNumber plus the
        party for transactions, by name for list entities) checks whether the record exists and
        returns it if so; otherwise the next round resends. A duplicate fault after an unknown
        outcome is our own first attempt: the lookup finds it.
        """
        lookup = lookup or self.default_lookup(entity, payload)
        unknown: OutcomeUnknown | None = None
        for _ in range(rounds):
            try:
                return self.create(entity, payload, request_id=request_id)
            except OutcomeUnknown as exc:
                unknown = exc
            except Duplicate:
                if unknown is None or lookup is None:
                    raise
            if lookup is not None:
                found = lookup()
                if found is not None:
                    return found
        assert unknown is not None
        raise unknown

    def update(
        self,
        entity: str,
        payload: Mapping[str, Any],
        *,
        sync_token: str,
        request_id: str,
        sparse: bool = True,
    ) -> Entity:
        """Update the fields in ``payload`` (must hold ``Id``) if QBO still has ``sync_token``.

        A stale token (someone edited the record) raises :class:`Conflict` whose ``current``
        is QBO's copy now, for the three-way diff (DESIGN.md rule 2).
        """
        name = canonical(entity)
        body = {**payload, "SyncToken": str(sync_token)}
        if sparse:
            body["sparse"] = True
        return self._write_versioned(name, body, request_id)

    def _write_versioned(
        self, name: str, body: dict[str, Any], request_id: str, **params: Any
    ) -> Entity:
        if not body.get("Id"):
            raise ValueError("an update needs the record's Id")
        try:
            answer = self._post(self._path(name.lower()), body, rid=_rid(request_id), **params)
        except Conflict as exc:
            exc.current = self._current(name, str(body["Id"]))
            raise
        return parse(name, answer[name])  # type: ignore[return-value]

    def _current(self, name: str, entity_id: str) -> dict[str, Any] | None:
        try:
            return self.read_raw(name, entity_id)
        except ConnectorError as exc:
            if isinstance(exc, PermanentError):
                raise
            return None  # the conflict stands; the copy can be fetched later

    def deactivate(
        self, entity: str, entity_id: str, *, sync_token: str, request_id: str
    ) -> Entity:
        """List entities cannot be deleted; they are made inactive (§1.3)."""
        name = canonical(entity)
        if name not in LIST_ENTITIES:
            raise ValueError(f"{name} is a transaction: delete or void it")
        return self.update(
            name,
            {"Id": str(entity_id), "Active": False},
            sync_token=sync_token,
            request_id=request_id,
        )

    def delete(self, entity: str, entity_id: str, *, sync_token: str, request_id: str) -> Deleted:
        name = canonical(entity)
        if name not in TRANSACTIONS:
            raise ValueError(f"{name} is a list entity: deactivate it")
        body = {"Id": str(entity_id), "SyncToken": str(sync_token)}
        try:
            answer = self._post(
                self._path(name.lower()), body, rid=_rid(request_id), operation="delete"
            )
        except Conflict as exc:
            exc.current = self._current(name, str(entity_id))
            raise
        stub = answer.get(name) or {"Id": entity_id, "status": "Deleted"}
        return Deleted(name, str(stub.get("Id", entity_id)), utc(answer.get("time")), stub)

    def void(self, entity: str, entity_id: str, *, sync_token: str, request_id: str) -> Entity:
        name = canonical(entity)
        if name not in VOID_PARAMS:
            raise ValueError(f"QBO has no void for {name}; delete it instead")
        body: dict[str, Any] = {"Id": str(entity_id), "SyncToken": str(sync_token)}
        if VOID_PARAMS[name].get("include") == "void":
            body["sparse"] = True
        return self._write_versioned(name, body, request_id, **VOID_PARAMS[name])

    # -- batch --------------------------------------------------------------------------------

    def batch(self, ops: Sequence[BatchOp], *, request_id: str) -> list[BatchResult]:
        """Run many writes, ≤ 30 per call; one result per op, in order, each with its record
        or its own family error. An auth failure raises; a chunk whose answer was lost gives
        each of its items :class:`OutcomeUnknown` (resend with the same ``request_id``: the
        chunk's requestid is derived from it and the chunk number, so QBO replays)."""
        results: list[BatchResult] = []
        for number, chunk in enumerate(q.chunks(ops, BATCH_MAX)):
            results.extend(self._batch_chunk(chunk, request_id_for_chunk(request_id, number)))
        return results

    def _batch_chunk(self, chunk: list[BatchOp], rid: str) -> list[BatchResult]:
        items = []
        for n, op in enumerate(chunk):
            name = canonical(op.entity)
            if op.operation not in ("create", "update", "delete"):
                raise ValueError(f"batch operation {op.operation!r} is not supported")
            payload = dict(op.payload)
            if op.operation == "update":
                payload.setdefault("sparse", True)
            items.append({"bId": str(n), "operation": op.operation, name: payload})
        try:
            with self.batch_limiter.slot():
                body = self._post(self._path("batch"), {"BatchItemRequest": items}, rid=rid)
        except (OutcomeUnknown, TransientError) as exc:
            return [BatchResult(op, error=exc) for op in chunk]
        answers = {str(a.get("bId")): a for a in body.get("BatchItemResponse") or []}
        results = []
        for n, op in enumerate(chunk):
            answer = answers.get(str(n))
            results.append(_batch_result(op, answer))
        return results


def _batch_result(op: BatchOp, answer: dict[str, Any] | None) -> BatchResult:
    name = canonical(op.entity)
    if answer is None:
        return BatchResult(op, error=OutcomeUnknown("no answer for this batch item", system=SYSTEM))
    if "Fault" in answer:
        fault = answer["Fault"] or {}
        error = error_for(fault.get("Error") or [], fault.get("type", ""))
        return BatchResult(op, error=error)
    record = answer.get(name)
    if record is None:
        return BatchResult(
            op,
            error=OutcomeUnknown("unexpected batch item answer", system=SYSTEM, details=[answer]),
        )
    return BatchResult(op, record=parse(name, record))


def request_id_for_chunk(key: str, number: int) -> str:
    return hashlib.sha256(f"{key}\x00{number}".encode()).hexdigest()[:BATCH_REQUEST_ID_MAX]


def _rid(key: str) -> str:
    return request_id(key, REQUEST_ID_MAX)


def _one(entity: str, found: list[Any], what: str) -> Any:
    if not found:
        return None
    if len(found) > 1:
        ids = ", ".join(r.id for r in found[:10])
        raise Duplicate(
            f"{len(found)} {entity} records match {what}: {ids}",
            system=SYSTEM,
            code="lookup_ambiguous",
        )
    return found[0]
