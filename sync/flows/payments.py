"""Payment status, ERP → Procore (a pull flow): what the ERP paid on the bills and invoices we
bound, written back to the Procore documents.

Per ERP payment applied to a bound bill (NetSuite vendorPayment / QuickBooks BillPayment):
one Procore contract payment on the requisition's commitment, referencing the requisition,
with ``origin_id`` = ``eb-<company>-<erp>:<account>-<payment type>-<payment id>-<bill id>``
(Procore refuses a second payment with the same origin_id, and ``create_contract_payment``
looks it up first and after a lost answer: at most once). Partial payments are separate
applications, so they add
up. Then the requisition gets ``erp_status`` (paid / partially_paid), ``payment_date`` (the
latest payment) and ``origin_id`` / ``origin_data`` (bill id, number, total, balance, payments).

Customer payments (NetSuite customerPayment / QuickBooks Payment) on bound owner invoices: the
Procore API has no writable "paid" on a payment application (``total_amount_paid`` is computed
and a synced pay app is locked except its origin fields, §5), and contract payments exist only
on commitments; so the pay app's ``origin_id`` / ``origin_data`` carry the invoice and what was
paid, and the applications are recorded here (Binding ``owner_payment``).

Idempotent: each application is recorded as a Binding (ERP ``<payment>:<doc>`` unique per
connection), each status write keeps a fingerprint of what it wrote; a second run finds both
and sends nothing. Incremental: a Cursor per connection and side (``payments:vendor`` /
``payments:customer``) holds the newest ``lastmodifieddate`` / ``LastUpdatedTime`` read; it
moves after each batch of payments (the reads are ``>=``, so a restart re-reads at most one
batch, which the bindings make harmless). An application whose amount changed in the ERP after
it was recorded in Procore is not rewritten: it opens RECONCILIATION_DRIFT for a person.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from connectors.errors import ConnectorError, DataError
from connectors.procore.writes import Origin
from sync.erp.payments import Applied, Batch, DocState, reader_for
from sync.fingerprint import canonical, fingerprint
from sync.flows.base import Flow
from sync.flows.payment_targets import Target, locate, origin_data, paid_status
from sync.models import Binding, Change, ChangeState, Cursor, Operation, Outcome
from sync.reasons import explain
from sync.services.exceptions import item_open

CONTRACT_PAYMENT = "contract_payment"  # Procore contract payment ↔ ERP payment application
OWNER_PAYMENT = "owner_payment"  # an ERP customer payment recorded on a Procore pay app
APPLIED = {"vendor": CONTRACT_PAYMENT, "customer": OWNER_PAYMENT}
PAID = "_paid"  # suffix of the status bindings: "requisition_paid", "owner_invoice_paid"…
SIDES = ("vendor", "customer")

Record = Callable[[str, str, str], None]  # (procore id, outcome, note)


class PaymentsFlow(Flow):
    name = "payments"
    binding_type = CONTRACT_PAYMENT
    direction = "pull"
    writes_back = False

    def pull(
        self,
        ctx: Any,
        *,
        record: Record,
        renew: Callable[[], None],
        procore_id: str | None = None,
    ) -> None:
        """Read what changed since the cursors, write it to Procore, move the cursors.
        With ``procore_id`` (one requisition or pay app) every payment is read and only that
        record's are written; the cursors stay where they are."""
        reader = reader_for(ctx.kind, ctx.erp.client)
        for side in SIDES:
            cursor, _ = Cursor.objects.get_or_create(
                connection=ctx.connection, object_type=f"payments:{side}"
            )
            since = None if procore_id else cursor.watermark
            for batch in reader.changed(side, since):
                self._batch(ctx, reader, side, batch, record, procore_id)
                if procore_id is None and batch.watermark is not None:
                    Cursor.objects.filter(
                        Q(watermark__isnull=True) | Q(watermark__lt=batch.watermark), pk=cursor.pk
                    ).update(watermark=batch.watermark)
                renew()

    def write(self, ctx, change):
        """A drift item's change is not an ERP write: approving it must not reach the ERP."""
        raise LookupError("a payment is corrected in the ERP or in Procore by hand, not re-sent")

    # -- one batch --------------------------------------------------------------------------

    def _batch(self, ctx, reader, side: str, batch: Batch, record: Record, only) -> None:
        if not batch.applied:
            return
        doc_type = batch.applied[0].doc_type
        docs = {
            b.erp_id: b
            for b in Binding.objects.filter(
                connection=ctx.connection,
                erp_type=doc_type,
                erp_id__in={a.doc_id for a in batch.applied},
            ).exclude(object_type__endswith=PAID)
        }
        if only is not None:
            docs = {k: b for k, b in docs.items() if b.procore_id == str(only)}
        wanted = [a for a in batch.applied if a.doc_id in docs]
        if not wanted:
            return
        known = {
            b.erp_id: b
            for b in Binding.objects.filter(
                connection=ctx.connection,
                object_type=APPLIED[side],
                erp_id__in={a.key for a in wanted},
            )
        }
        status = {
            b.erp_id: b
            for b in Binding.objects.filter(
                connection=ctx.connection,
                object_type__in={b.object_type + PAID for b in docs.values()},
                erp_id__in=set(docs),
            )
        }
        touched: dict[str, Binding] = {}
        for app in wanted:
            doc = docs[app.doc_id]
            try:
                target = locate(ctx, side, doc, (status.get(doc.erp_id) or _none).payload)
                if target is None:
                    record(doc.procore_id, Outcome.FAILED, f"{doc.procore_id} not found in Procore")
                    continue
                ctx.cache.setdefault("payments:targets", {})[doc.procore_id] = target
                note = self._apply(ctx, side, app, doc, target, known.get(app.key))
            except DataError as exc:
                record(doc.procore_id, Outcome.FAILED, f"Procore refused: {exc}")
                continue
            if note:
                record(doc.procore_id, Outcome.QUEUED if "drift" in note else Outcome.SYNCED, note)
            touched[doc.erp_id] = doc
        if touched:
            states = reader.documents(doc_type, [b.erp_id for b in touched.values()])
            for doc in touched.values():
                target = ctx.cache["payments:targets"][doc.procore_id]
                try:
                    if self._status(ctx, side, doc, target, states.get(doc.erp_id), status):
                        record(doc.procore_id, Outcome.SYNCED, "paid status written to Procore")
                except ConnectorError as exc:
                    record(doc.procore_id, Outcome.FAILED, f"status write failed: {exc}")

    def _apply(self, ctx, side, app: Applied, doc: Binding, target: Target, known) -> str:
        """Record one application in Procore (once); '' when it was there already."""
        if known is not None:
            if Decimal(known.payload.get("amount", "0")) == app.amount:
                return ""
            return _drift(ctx, app, doc, known)
        # Scoped by the ERP account for the reason origin_id_for gives (two ERPs, one company).
        origin_id = (
            f"eb-{ctx.company_id}-{ctx.origin_scope}-{app.payment_type}-{app.payment_id}"
            f"-{app.doc_id}"
        )
        data = {"erp": ctx.kind, "type": app.payment_type, "id": app.payment_id}
        if app.number:
            data["number"] = app.number
        procore_id = f"{target.procore_id}:{app.key}"
        if side == "vendor":
            payment = ctx.procore.create_contract_payment(
                target.project_id,
                target.parent_id,
                origin_id=origin_id,
                amount=app.amount,
                paid_on=app.paid_on or date.today(),
                requisition_id=target.procore_id,
                invoice_number=doc.erp_number or None,
                check_number=app.number or None,
                notes=(app.memo or None) and app.memo[:250],
                origin_data=_json(data),
            )
            procore_id = payment.id
        payload = {
            "amount": app.amount,
            "paid_on": app.paid_on,
            "number": app.number,
            "payment_type": app.payment_type,
            "payment_id": app.payment_id,
        }
        try:
            with transaction.atomic():
                Binding.objects.create(
                    connection=ctx.connection,
                    object_type=APPLIED[side],
                    procore_id=procore_id,
                    parent_procore_id=target.procore_id,
                    erp_type=app.payment_type,
                    erp_id=app.key,
                    erp_number=app.number,
                    fingerprint=fingerprint(payload),
                    payload=canonical(payload),
                    synced_at=ctx.now(),
                )
        except IntegrityError:  # another worker recorded the same application first
            return ""
        what = "contract payment" if side == "vendor" else "payment recorded"
        return f"{what} {app.amount} from {app.payment_type} {app.number or app.payment_id}"

    def _status(self, ctx, side, doc: Binding, target: Target, state: DocState | None, status):
        """Write paid status / date / origin to the Procore record when it differs from what
        we wrote last; True when something was written."""
        payments = sorted(
            (
                {
                    "amount": b.payload.get("amount"),
                    "paid_on": b.payload.get("paid_on"),
                    "erp_id": b.payload.get("payment_id"),
                    "number": b.erp_number,
                }
                for b in Binding.objects.filter(
                    connection=ctx.connection,
                    object_type=APPLIED[side],
                    parent_procore_id=target.procore_id,
                    erp_id__endswith=f":{doc.erp_id}",
                )
            ),
            key=lambda p: (p["paid_on"] or "", p["erp_id"] or ""),
        )
        paid = sum((Decimal(p["amount"]) for p in payments), Decimal("0.00"))
        last = max((p["paid_on"] for p in payments if p["paid_on"]), default=None)
        wanted = {
            "erp_status": paid_status(state, paid),
            "payment_date": last,
            "origin_id": ctx.origin_id(doc.erp_id),
            "origin_data": origin_data(ctx.kind, doc.erp_type, state, payments),
        }
        fp = fingerprint(wanted)
        current = status.get(doc.erp_id)
        if current is not None and current.fingerprint == fp:
            return False
        if side == "vendor":
            ctx.procore.update_requisition(target.procore_id, target.project_id, **wanted)
        else:
            origin = Origin(wanted["origin_id"], wanted["origin_data"])
            ctx.procore.set_payment_application_origin(
                target.procore_id, target.parent_id, target.project_id, origin
            )
        Binding.objects.update_or_create(
            connection=ctx.connection,
            object_type=doc.object_type + PAID,
            procore_id=doc.procore_id,
            defaults={
                "erp_type": doc.erp_type,
                "erp_id": doc.erp_id,
                "erp_number": doc.erp_number,
                "fingerprint": fp,
                "payload": canonical(
                    {**wanted, "project_id": target.project_id, "parent_id": target.parent_id}
                ),
                "written_back_at": ctx.now(),
                "synced_at": ctx.now(),
            },
        )
        return True


class _None:
    payload = None


_none = _None()


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _drift(ctx, app: Applied, doc: Binding, known: Binding) -> str:
    """The ERP changed a payment already recorded in Procore (a synced payment is locked
    there): stop for a person, once per (application, new amount)."""
    was = known.payload.get("amount")
    difference = f"{app.payment_type} {app.number or app.payment_id} was {was}, now {app.amount}"
    key = f"eb-{ctx.connection.pk}-paydrift-{app.key}-{app.amount}"[:120]
    facts = {"document": doc.erp_number or doc.erp_id, "amount": str(app.amount)}
    with transaction.atomic():
        change, created = Change.objects.get_or_create(
            idempotency_key=key,
            defaults={
                "connection": ctx.connection,
                "object_type": CONTRACT_PAYMENT,
                "procore_id": known.procore_id,
                "operation": Operation.UPDATE,
                "erp_type": app.payment_type,
                "erp_id": app.payment_id,
                "payload": canonical({"amount": app.amount, "was": was}),
                "context": {"facts": facts, "number": doc.erp_number},
                "reason_code": "RECONCILIATION_DRIFT",
                "explanation": explain(
                    "RECONCILIATION_DRIFT", document=facts["document"], difference=difference
                ),
                "state": ChangeState.HELD,
                "run": ctx.run,
            },
        )
        if created:
            item_open(
                change=change,
                reason_code="RECONCILIATION_DRIFT",
                explanation=change.explanation,
                details={"last_synced": known.payload, "erp_now": {"amount": app.amount}},
            )
    return f"payment drift: {difference}"
