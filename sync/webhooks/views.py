"""The public webhook endpoints: no session, no CSRF token; each authenticates its sender.

They only record and enqueue (``services.delivery_receive``), so they answer well within the
senders' limits (Procore 5 s, Intuit 3 s).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sync.models import Kind
from sync.webhooks.services import delivery_receive


def _receive(request, connection_id: int, kind: str) -> JsonResponse:
    answer = delivery_receive(
        connection_id=connection_id,
        kind=kind,
        headers=dict(request.headers),
        body=request.body,
        addr=request.META.get("REMOTE_ADDR", ""),
    )
    data = {"status": answer.message or ("ok" if answer.status == 200 else "refused")}
    if answer.delivery is not None:
        data["delivery"] = answer.delivery.pk
    return JsonResponse(data, status=answer.status)


@login_not_required
@csrf_exempt
@require_POST
def procore(request, connection_id: int):
    return _receive(request, connection_id, Kind.PROCORE)


@login_not_required
@csrf_exempt
@require_POST
def quickbooks(request, connection_id: int):
    return _receive(request, connection_id, Kind.QUICKBOOKS)


@login_not_required
@csrf_exempt
@require_POST
def netsuite(request, connection_id: int):
    return _receive(request, connection_id, Kind.NETSUITE)
