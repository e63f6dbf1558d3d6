"""Send one Change (DESIGN.md rules 1, 4, 5): claim it (``sending``, conditional UPDATE),
write idempotently, bind, close the record's open items, write back to Procore.

Errors, by family (classified at the connector boundary, never by message text):

* ``Conflict`` (the ERP copy changed under us): held as ERP_EDITED with the current copy;
* other ``DataError`` (validation, duplicate, not found): failed + WRITE_REJECTED dead letter
  with the masked request and response;
* ``TransientError`` (the connector already retried, in its one layer): failed +
  RETRIES_EXHAUSTED dead letter; replayable, and the next run retries it by itself;
* ``PermanentError`` (auth, permission): the connection is marked and the change goes back to
  where it was, untouched, for when an admin has repaired the connection.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from connectors.errors import (
    AuthError,
    Conflict,
    ConnectorError,
    DataError,
    PermanentError,
    TransientError,
)
from sync.context import SyncContext
from sync.flows.base import Flow
from sync.models import Binding, Change, ChangeState, ConnectionStatus, ItemStatus, Outcome
from sync.reasons import explain
from sync.services.changes import change_claim, change_transition
from sync.services.connections import connection_set_status
from sync.services.exceptions import item_open, items_auto_resolve

log = logging.getLogger(__name__)


class ConnectionDown(Exception):
    """A permanent error: stop the run, nothing more can be sent on this connection."""


@dataclass
class Sent:
    outcome: str
    note: str = ""


def send_change(ctx: SyncContext, flow: Flow, change: Change) -> Sent:
    before = change.state
    if not change_claim(change=change):
        return Sent(Outcome.SKIPPED, "already claimed by another worker")
    try:
        written = flow.write(ctx, change)
    except Conflict as exc:
        return _conflict(ctx, change, exc)
    except DataError as exc:
        return _dead_letter(change, "WRITE_REJECTED", exc)
    except TransientError as exc:
        return _dead_letter(change, "RETRIES_EXHAUSTED", exc)
    except PermanentError as exc:
        back = before if before != ChangeState.SENDING else ChangeState.APPROVED
        change_transition(
            change=change, to=back, from_states=(ChangeState.SENDING,), last_error=exc.as_dict()
        )
        status = (
            ConnectionStatus.NEEDS_REAUTH
            if isinstance(exc, AuthError)
            else ConnectionStatus.UNHEALTHY
        )
        connection_set_status(connection_id=ctx.connection.pk, status=status, reason=str(exc))
        raise ConnectionDown(str(exc)) from exc
    except LookupError as exc:  # a link target that is gone
        return _dead_letter(change, "WRITE_REJECTED", ConnectorError(str(exc)))
    with transaction.atomic():
        binding = flow.bind(ctx, change, written)
        change_transition(
            change=change,
            to=ChangeState.SENT,
            from_states=(ChangeState.SENDING,),
            erp_id=written.erp_id,
            result={"erp_id": written.erp_id, "version": written.version, "number": written.number},
            last_error=None,
            sent_at=ctx.now(),
        )
        items_auto_resolve(
            connection_id=ctx.connection.pk,
            object_type=change.object_type,
            procore_id=change.procore_id,
            note="Closed automatically: the ERP now holds this record "
            f"({change.erp_type} {written.erp_id}).",
        )
    if binding is not None:
        write_back(ctx, flow, binding)
    return Sent(Outcome.SYNCED)


def write_back(ctx: SyncContext, flow: Flow, binding: Binding) -> None:
    """Best effort: a failed write-back leaves ``written_back_at`` empty and the next run
    repeats it (the PATCH sets fixed values, so repeating is harmless)."""
    if not flow.writes_back:
        return
    try:
        flow.write_back(ctx, binding)
    except ConnectorError as exc:
        log.warning("write-back of %s %s failed: %s", binding.object_type, binding.procore_id, exc)
        return
    Binding.objects.filter(pk=binding.pk).update(written_back_at=ctx.now())


def _dead_letter(change: Change, code: str, exc: ConnectorError) -> Sent:
    error = exc.as_dict()
    explanation = explain(code, message=exc.message or str(exc))
    with transaction.atomic():
        change_transition(
            change=change,
            to=ChangeState.FAILED,
            from_states=(ChangeState.SENDING,),
            last_error=error,
            reason_code=code,
            explanation=explanation,
        )
        item_open(
            change=change,
            reason_code=code,
            explanation=explanation,
            details={"error": error, "payload": change.payload},
            status=ItemStatus.DEAD_LETTER,
        )
    return Sent(Outcome.FAILED, code)


def _conflict(ctx: SyncContext, change: Change, exc: Conflict) -> Sent:
    current = exc.current or {}
    erp_type = change.erp_type
    diff = {
        "last_synced": (change.context.get("diff") or {}).get("last_synced"),
        "erp_now": ctx.erp.summary(erp_type, current) if current else None,
        "proposed": ctx.erp.summary(erp_type, change.payload),
    }
    version = str(current.get("SyncToken") or current.get("lastModifiedDate") or "")
    explanation = explain("ERP_EDITED", document=change.context.get("number", change.erp_id))
    with transaction.atomic():
        change_transition(
            change=change,
            to=ChangeState.HELD,
            from_states=(ChangeState.SENDING,),
            last_error=exc.as_dict(),
            reason_code="ERP_EDITED",
            explanation=explanation,
        )
        item_open(
            change=change,
            reason_code="ERP_EDITED",
            explanation=explanation,
            details={**diff, "erp_version": version, "error": exc.as_dict()},
        )
    return Sent(Outcome.QUEUED, "ERP_EDITED")
