"""/api/v1/audit/: the audit log for those who may read it (integration admins), filtered;
``export=csv`` streams the same filtered entries as CSV."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from api.base import ListApiView
from api.pagination import Cursor
from api.permissions import ReadAudit
from audit.models import AuditEntry
from audit.selectors import audit_csv_lines, audit_entries


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = AuditEntry
        fields = (
            "id",
            "at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
            "note",
            "source",
            "request_id",
            "ip",
        )


def _when(params, name):
    raw = params.get(name, "")
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None:
        raise ValidationError({name: ["An ISO 8601 date-time, e.g. 2026-11-23T00:00:00Z."]})
    return value if timezone.is_aware(value) else timezone.make_aware(value, timezone.utc)


class AuditList(ListApiView):
    permission_classes = [ReadAudit]
    serializer_class = AuditEntrySerializer
    pagination_class = Cursor

    @extend_schema(
        parameters=[
            OpenApiParameter("actor", str, description="Username"),
            OpenApiParameter("action", str, description="e.g. mapping.update"),
            OpenApiParameter("object_type", str, description="e.g. sync.exceptionitem"),
            OpenApiParameter("object_id", str),
            OpenApiParameter("source", str, enum=["web", "api", "admin", "system"]),
            OpenApiParameter("since", str, description="ISO date-time, inclusive"),
            OpenApiParameter("until", str, description="ISO date-time, exclusive"),
            OpenApiParameter(
                "export", str, enum=["csv"], description="csv: the filtered entries as a CSV file"
            ),
        ],
        summary="The audit log (newest first), filterable; export=csv to download",
        responses={
            (200, "application/json"): AuditEntrySerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request, *args, **kwargs):
        if request.query_params.get("export") == "csv":
            response = StreamingHttpResponse(
                audit_csv_lines(self.get_queryset().order_by("-at", "-pk")),
                content_type="text/csv; charset=utf-8",
            )
            response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
            return response
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        p = self.request.query_params
        return audit_entries(
            actor=p.get("actor", "")[:150],
            action=p.get("action", "")[:60],
            object_type=p.get("object_type", "")[:60],
            object_id=p.get("object_id", "")[:64],
            source=p.get("source", "")[:10],
            since=_when(p, "since"),
            until=_when(p, "until"),
        )
