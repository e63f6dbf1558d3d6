"""/api/v1/runs/, /api/v1/connections/: sync runs with progress, "sync now", health."""

from __future__ import annotations

from django.db.models import Max
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.base import ApiView, ListApiView, RetrieveApiView
from api.pagination import Ascending, Cursor
from api.permissions import ManageConnections, ReadRunRecords, ReadRuns
from sync.models import Connection, Outcome, RunStatus, SyncRun, SyncRunRecord
from sync.selectors import connection_list


class RunSerializer(serializers.ModelSerializer):
    connection_name = serializers.CharField(source="connection.name", read_only=True)
    progress = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()

    class Meta:
        model = SyncRun
        fields = (
            "id",
            "connection",
            "connection_name",
            "object_type",
            "procore_id",
            "trigger",
            "status",
            "started_at",
            "finished_at",
            "progress",
            "counts",
            "api_calls",
            "error",
            "note",
            "missed_by_webhooks",
        )

    def get_progress(self, run) -> dict:
        """``total`` is what the run has met so far (flows stream their records), so
        ``percent`` is 100 once the run finished and null while it runs."""
        finished = run.status != RunStatus.RUNNING
        return {"done": run.done, "total": run.total, "percent": 100 if finished else None}

    def get_counts(self, run) -> dict[str, int]:
        return run.counts()


class RunRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncRunRecord
        fields = ("id", "procore_id", "outcome", "change", "note")


RUN_FILTERS = [
    OpenApiParameter("connection", int),
    OpenApiParameter("object_type", str),
    OpenApiParameter("status", str, enum=RunStatus.values),
    OpenApiParameter("trigger", str),
]


class RunList(ListApiView):
    permission_classes = [ReadRuns]
    serializer_class = RunSerializer
    pagination_class = Cursor

    @extend_schema(parameters=RUN_FILTERS, summary="Sync runs, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        runs = SyncRun.objects.select_related("connection")
        params = self.request.query_params
        connection = params.get("connection", "")
        if connection:
            if not connection.isdigit():
                from rest_framework.exceptions import ValidationError

                raise ValidationError({"connection": ["A connection id (a number)."]})
            runs = runs.filter(connection_id=int(connection))
        for name in ("object_type", "status", "trigger"):
            if params.get(name):
                runs = runs.filter(**{name: params[name][:40]})
        return runs


class RunDetail(RetrieveApiView):
    permission_classes = [ReadRuns]
    serializer_class = RunSerializer
    queryset = SyncRun.objects.select_related("connection")


class RunRecords(ListApiView):
    permission_classes = [ReadRunRecords]
    serializer_class = RunRecordSerializer
    pagination_class = Ascending

    @extend_schema(
        parameters=[OpenApiParameter("outcome", str, enum=Outcome.values)],
        summary="One run's per-record outcomes",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        from django.shortcuts import get_object_or_404

        run = get_object_or_404(SyncRun, pk=self.kwargs["pk"])
        records = SyncRunRecord.objects.filter(run=run)
        outcome = self.request.query_params.get("outcome")
        if outcome:
            records = records.filter(outcome=outcome[:10])
        return records


class TriggerInput(serializers.Serializer):
    connection = serializers.IntegerField(help_text="An ERP connection id.")
    object_type = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="A flow name; blank = every flow."
    )
    procore_id = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=64, help_text="One record."
    )
    full = serializers.BooleanField(
        required=False, default=False, help_text="Full resync (binds documents already there)."
    )


class TriggerResult(serializers.Serializer):
    task_id = serializers.CharField()
    runs = serializers.CharField(help_text="Where the runs appear (filter by connection).")


class RunTrigger(ApiView):
    """Queue a sync like the "Sync now" button: the runs appear in /runs/ as they start."""

    permission_classes = [ManageConnections]

    @extend_schema(request=TriggerInput, responses={202: TriggerResult}, summary="Sync now")
    def post(self, request):
        from rest_framework.exceptions import ValidationError

        from api import seams

        body = TriggerInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        connection = Connection.objects.filter(pk=data["connection"]).first()
        if connection is None:
            raise ValidationError({"connection": ["No connection has this id."]})
        try:
            task_id = seams.sync_now_request(
                actor=request.user,
                connection=connection,
                object_type=data["object_type"],
                procore_id=data["procore_id"],
                full=data["full"],
            )
        except ValueError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from exc
        runs = request.build_absolute_uri(f"/api/v1/runs/?connection={connection.pk}")
        return Response({"task_id": str(task_id), "runs": runs}, status=status.HTTP_202_ACCEPTED)


class ConnectionHealthSerializer(serializers.ModelSerializer):
    last_run_at = serializers.DateTimeField(allow_null=True, read_only=True)

    class Meta:
        model = Connection
        fields = (
            "id",
            "name",
            "kind",
            "status",
            "status_reason",
            "status_changed_at",
            "last_success_at",
            "procore_connection",
            "last_run_at",
        )


class ConnectionList(ListApiView):
    """Every connection's health; never a secret or a token."""

    permission_classes = [ManageConnections]
    serializer_class = ConnectionHealthSerializer
    pagination_class = None

    def get_queryset(self):
        return connection_list().annotate(last_run_at=Max("runs__started_at"))


class ConnectionDetail(RetrieveApiView):
    permission_classes = [ManageConnections]
    serializer_class = ConnectionHealthSerializer

    def get_queryset(self):
        return connection_list().annotate(last_run_at=Max("runs__started_at"))
