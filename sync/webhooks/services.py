"""Receiving and processing webhook deliveries.

``delivery_receive`` runs inside the request: authenticate, parse, record, de-duplicate and
enqueue; nothing remote. ``delivery_process`` runs in a django-q2 job: it syncs just the
records the delivery names. Processing re-reads the record's *current* state, so a replayed,
duplicated or out-of-order delivery can never write an older version: the engine's fingerprint
makes a second pass over an unchanged record a no-op, and its flow lock stops two runs of one
flow writing at once (a delivery that meets the lock is retried shortly after).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from sync.models import Binding, Connection, Kind, RunStatus, Verdict, WebhookDelivery
from sync.webhooks.senders import Malformed, Refused, authenticate, mask_headers, parse

log = logging.getLogger(__name__)

MAX_BODY_RECORDED = 200_000
# Procore resource names (sandboxes/procore/webhooks.py RESOURCES; procore-api.md §7.3) → flow.
PROCORE_RESOURCES = {
    "Projects": "projects",
    "Company Vendors": "vendors",
    "Work Order Contracts": "commitments",
    "Purchase Order Contracts": "commitments",
    "Commitment Change Orders": "commitment_change_orders",
    "Requisitions": "requisitions",
    "Direct Costs": "direct_costs",
    "Payment Applications": "owner_invoices",
}
# Which Procore events we subscribe to when installing the hook.
PROCORE_TRIGGERS = tuple(
    (resource, event) for resource in PROCORE_RESOURCES for event in ("create", "update", "delete")
)


@dataclass
class Answer:
    status: int
    delivery: WebhookDelivery | None
    message: str = ""


def _record(connection, headers, body, addr, verdict, *, event_id="", error="", events=None):
    return WebhookDelivery.objects.create(
        connection=connection,
        source=connection.kind,
        event_id=event_id[:120],
        remote_addr=addr[:64],
        headers=mask_headers(headers),
        body=body[:MAX_BODY_RECORDED].decode("utf-8", "replace"),
        verdict=verdict,
        error=error[:2000],
        events=events or [],
    )


def delivery_receive(
    *, connection_id: int, kind: str, headers: dict[str, str], body: bytes, addr: str
) -> Answer:
    connection = Connection.objects.filter(pk=connection_id, kind=kind).first()
    if connection is None:
        return Answer(404, None, "unknown connection")
    try:
        authenticate(connection, headers, body, addr)
    except Refused as exc:
        log.warning("webhook refused for %s: %s", connection.name, exc)
        return Answer(
            401, _record(connection, headers, body, addr, Verdict.UNAUTHORISED, error=str(exc))
        )
    try:
        parsed = parse(connection, body)
    except Malformed as exc:
        return Answer(
            400, _record(connection, headers, body, addr, Verdict.MALFORMED, error=str(exc))
        )
    if parsed.echo:
        verdict, error = Verdict.ECHO, parsed.note
    elif not parsed.events:
        verdict, error = Verdict.IGNORED, parsed.note or "names nothing we sync"
    else:
        verdict, error = Verdict.ACCEPTED, ""
    try:
        with transaction.atomic():
            delivery = _record(
                connection,
                headers,
                body,
                addr,
                verdict,
                event_id=parsed.event_id,
                error=error,
                events=parsed.events,
            )
    except IntegrityError:
        delivery = _record(
            connection,
            headers,
            body,
            addr,
            Verdict.DUPLICATE,
            event_id=parsed.event_id,
            error="already received",
            events=parsed.events,
        )
        return Answer(200, delivery, "duplicate")
    if verdict == Verdict.ACCEPTED:
        delivery_enqueue(delivery_id=delivery.pk)
    return Answer(200, delivery, verdict)


def delivery_enqueue(*, delivery_id: int) -> None:
    from django_q.tasks import async_task

    async_task(
        "sync.jobs_triggers.process_delivery", delivery_id, task_name=f"webhook-{delivery_id}"
    )


def _retry_later(delivery: WebhookDelivery, seconds: int = 30) -> None:
    """The flow was locked by another run: try again shortly (the other run may have read
    the record before this change)."""
    from django_q.models import Schedule

    from erpbridge.schedules import schedule_ensure

    schedule_ensure(
        name=f"webhook-retry-{delivery.pk}",
        func="sync.jobs_triggers.process_delivery",
        schedule_type=Schedule.ONCE,
        args=str(delivery.pk),
        next_run=timezone.now() + timedelta(seconds=seconds),
        repeats=1,
    )


def delivery_process(*, delivery_id: int, clients=None, lookup=None) -> dict[str, Any]:
    """Sync what the delivery names. Safe to repeat (at-least-once queue)."""
    delivery = WebhookDelivery.objects.select_related("connection").get(pk=delivery_id)
    if delivery.verdict not in (Verdict.ACCEPTED, Verdict.FAILED, Verdict.PROCESSED):
        return {"skipped": delivery.verdict}
    connection = delivery.connection
    outcome: dict[str, Any] = {"runs": [], "reconciled": 0, "locked": 0}
    try:
        if connection.kind == Kind.PROCORE:
            _procore_events(connection, delivery.events, outcome, clients, lookup)
        else:
            _erp_events(connection, delivery.events, outcome, clients, lookup)
    except Exception as exc:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            verdict=Verdict.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    if outcome["locked"]:
        _retry_later(delivery)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        verdict=Verdict.PROCESSED, processed_at=timezone.now(), error=""
    )
    return outcome


def _procore_events(connection, events, outcome, clients, lookup) -> None:
    from sync.config import pushes
    from sync.flows import FLOWS
    from sync.services.runs import sync_run

    wanted: list[tuple[str, str]] = []
    for event in events:
        flow = PROCORE_RESOURCES.get(event.get("resource", ""))
        record_id = event.get("id", "")
        if event.get("resource") == "Direct Cost Line Items":
            parent = next(
                (r for r in event.get("related", []) if r["name"] == "Direct Costs"), None
            )
            flow, record_id = ("direct_costs", parent["id"]) if parent else (None, "")
        if flow and record_id and (flow, record_id) not in wanted:
            wanted.append((flow, record_id))
    for erp in connection.erp_connections.all():
        for flow, record_id in wanted:
            if flow not in FLOWS or not pushes(erp, flow):
                continue
            run = sync_run(
                connection_id=erp.pk,
                object_type=flow,
                procore_id=record_id,
                trigger="webhook",
                clients=clients,
                lookup=lookup,
            )
            outcome["runs"].append(run.pk)
            outcome["locked"] += run.status == RunStatus.LOCKED


def _erp_events(connection, events, outcome, clients, lookup) -> None:
    """An ERP change to a record we bound: compare it now (a hand edit, a payment) instead of
    waiting for the nightly reconciliation."""
    ids = {str(e.get("id")) for e in events if e.get("id")}
    bindings = list(Binding.objects.filter(connection=connection, erp_id__in=ids))
    if not bindings:
        return
    from reconciliation.services import bindings_reconcile

    outcome["reconciled"] = bindings_reconcile(
        connection_id=connection.pk,
        binding_ids=[b.pk for b in bindings],
        clients=clients,
        lookup=lookup,
    )


def deliveries_naming(*, procore_connection_id: int, since) -> set[tuple[str, str]]:
    """(flow, record id) pairs that webhooks delivered since ``since`` (echoes included:
    they were delivered, we chose to drop them)."""
    named: set[tuple[str, str]] = set()
    rows = WebhookDelivery.objects.filter(
        connection_id=procore_connection_id,
        verdict__in=(Verdict.ACCEPTED, Verdict.PROCESSED, Verdict.FAILED, Verdict.ECHO),
    )
    if since is not None:
        rows = rows.filter(received_at__gte=since)
    for events in rows.values_list("events", flat=True):
        for event in events or []:
            flow = PROCORE_RESOURCES.get(event.get("resource", ""))
            if flow:
                named.add((flow, str(event.get("id"))))
    return named
