"""/api/v1/mappings/: the mapping tables per ERP connection (list, create, update, delete)
and bulk upload with the pages' steps: upload = validate + preview (nothing written), then
apply (all or nothing, re-checked) or discard. Same services as the pages and the admin."""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts import roles
from api.base import ApiView
from api.pagination import Ascending
from api.permissions import ManageMappings, any_of
from mappings import files, selectors, services
from mappings.models import MappingChange, MappingUpload
from mappings.specs import TABLES

Source = MappingChange.Source
# Who may reach the row endpoints at all; each method then checks the table's own permission.
ReadSomeTable = any_of(
    roles.MANAGE_MAPPINGS,
    *(f"mappings.view_{spec.model._meta.model_name}" for spec in TABLES.values()),
)

# -- serializers ---------------------------------------------------------------------------


class ColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    required = serializers.BooleanField()
    kind = serializers.CharField()
    help = serializers.CharField()


class TableSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    key = serializers.ListField(child=serializers.CharField())
    columns = ColumnSerializer(many=True)
    help = serializers.CharField()


class ErpConnectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class MappingIndexSerializer(serializers.Serializer):
    tables = TableSerializer(many=True)
    connections = ErpConnectionSerializer(many=True)


class RowSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    connection = serializers.IntegerField(read_only=True)
    table = serializers.CharField(read_only=True)
    row = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text="Column name → text, as in the upload files (dates YYYY-MM-DD, lists "
        "separated by '|'). See /api/v1/mappings/ for each table's columns.",
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=255)
    updated_at = serializers.DateTimeField(read_only=True)


def row_data(spec, obj) -> dict:
    return {
        "id": obj.pk,
        "connection": obj.connection_id,
        "table": spec.name,
        "row": spec.row_of(obj),
        "notes": obj.notes,
        "updated_at": obj.updated_at,
    }


class UploadSerializer(serializers.ModelSerializer):
    class Meta:
        model = MappingUpload
        fields = (
            "id",
            "connection",
            "table",
            "filename",
            "file_format",
            "status",
            "uploaded_at",
            "status_changed_at",
            "counts",
            "preview",
        )


class UploadInput(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or XLSX with the table's headers.")


# -- helpers -------------------------------------------------------------------------------


def _spec(table: str):
    if table not in TABLES:
        raise NotFound("No such mapping table.")
    return TABLES[table]


def _connection(pk: int):
    return get_object_or_404(selectors.erp_connections(), pk=pk)


def _require(user, *perms: str) -> None:
    if not any(user.has_perm(p) for p in perms):
        raise PermissionDenied("Your role does not allow this.")


def _model_perm(spec, action: str) -> str:
    return f"mappings.{action}_{spec.model._meta.model_name}"


def _unknown_columns(spec, row: dict) -> None:
    unknown = sorted(set(row) - set(spec.column_names))
    if unknown:
        raise ValidationError({"row": [f"Unknown column(s): {', '.join(unknown)}."]})


# -- views ---------------------------------------------------------------------------------


class MappingIndex(ApiView):
    permission_classes = [ManageMappings]

    @extend_schema(
        responses=MappingIndexSerializer,
        operation_id="mappings_index",
        summary="Tables, columns, connections",
    )
    def get(self, request):
        tables = [
            {
                "name": spec.name,
                "label": spec.label,
                "key": list(spec.key),
                "help": spec.help,
                "columns": [
                    {
                        "name": c.name,
                        "label": c.label,
                        "required": c.required,
                        "kind": c.kind,
                        "help": c.help,
                    }
                    for c in spec.columns
                ],
            }
            for spec in TABLES.values()
        ]
        connections = [
            {"id": c.pk, "name": c.name, "kind": c.kind} for c in selectors.erp_connections()
        ]
        return Response({"tables": tables, "connections": connections})


class MappingRows(ApiView):
    """Rows of one table of one ERP connection. Permissions are the tables' own: viewing
    needs ``view_<table>`` (controllers have it), creating ``add_<table>``."""

    pagination_class = Ascending
    permission_classes = [ReadSomeTable]

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="Text search over the columns")],
        responses=RowSerializer(many=True),
        summary="List rows",
    )
    def get(self, request, connection_id: int, table: str):
        spec = _spec(table)
        _require(request.user, roles.MANAGE_MAPPINGS, _model_perm(spec, "view"))
        conn = _connection(connection_id)
        rows = spec.model.objects.filter(connection=conn)
        query = request.query_params.get("q", "").strip()[:100]
        if query:
            match = Q()
            for name in spec.column_names:
                if spec.column(name).kind not in ("date", "list"):
                    match |= Q(**{f"{name}__icontains": query})
            rows = rows.filter(match)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response([row_data(spec, obj) for obj in page])

    @extend_schema(request=RowSerializer, responses={201: RowSerializer}, summary="Create a row")
    def post(self, request, connection_id: int, table: str):
        spec = _spec(table)
        _require(request.user, _model_perm(spec, "add"))
        conn = _connection(connection_id)
        body = RowSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _unknown_columns(spec, body.validated_data["row"])
        values = dict(body.validated_data["row"])
        if "notes" in body.validated_data:
            values["notes"] = body.validated_data["notes"]
        obj = services.mapping_create(
            table=spec.name, connection=conn, values=values, user=request.user, source=Source.API
        )
        return Response(row_data(spec, obj), status=status.HTTP_201_CREATED)


class MappingRow(ApiView):
    permission_classes = [ReadSomeTable]

    def _get(self, request, connection_id, table, pk, action):
        spec = _spec(table)
        _require(request.user, _model_perm(spec, action))
        conn = _connection(connection_id)
        return spec, get_object_or_404(spec.model, connection=conn, pk=pk)

    @extend_schema(responses=RowSerializer, summary="One row")
    def get(self, request, connection_id: int, table: str, pk: int):
        spec, obj = self._get(request, connection_id, table, pk, "view")
        return Response(row_data(spec, obj))

    @extend_schema(
        request=RowSerializer,
        responses=RowSerializer,
        summary="Change a row (the columns given; the others keep their values)",
    )
    def patch(self, request, connection_id: int, table: str, pk: int):
        spec, obj = self._get(request, connection_id, table, pk, "change")
        body = RowSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data.get("row") or {})
        _unknown_columns(spec, values)
        if "notes" in body.validated_data:
            values["notes"] = body.validated_data["notes"]
        obj = services.mapping_update(obj=obj, values=values, user=request.user, source=Source.API)
        return Response(row_data(spec, obj))

    @extend_schema(responses={204: None}, summary="Delete a row (kept in the history)")
    def delete(self, request, connection_id: int, table: str, pk: int):
        _spec_, obj = self._get(request, connection_id, table, pk, "delete")
        services.mapping_delete(obj=obj, user=request.user, source=Source.API)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadCreate(ApiView):
    permission_classes = [ManageMappings]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": UploadInput},
        responses={201: UploadSerializer},
        summary="Upload a file: validate and preview (writes no mapping)",
        description="`status` is `previewed` when every row is valid (then apply it) or "
        "`refused` with the rows' problems in `preview.errors`. An unusable file (format, "
        "headers, size) is a 400 with the reason under `fields.file`.",
    )
    def post(self, request, connection_id: int, table: str):
        spec = _spec(table)
        conn = _connection(connection_id)
        body = UploadInput(data=request.data)
        body.is_valid(raise_exception=True)
        uploaded = body.validated_data["file"]
        limit = files.max_upload_bytes()
        if uploaded.size > limit:
            raise ValidationError(
                {"file": [f"The file is larger than {limit // (1024 * 1024)} MB; split it."]}
            )
        upload = services.upload_preview(
            connection=conn,
            table=spec.name,
            filename=uploaded.name,
            content=uploaded.read(),
            user=request.user,
        )
        return Response(UploadSerializer(upload).data, status=status.HTTP_201_CREATED)


class UploadDetail(ApiView):
    permission_classes = [ManageMappings]

    @extend_schema(responses=UploadSerializer, summary="An upload and its preview")
    def get(self, request, pk: int):
        return Response(UploadSerializer(get_object_or_404(MappingUpload, pk=pk)).data)


class UploadApply(ApiView):
    permission_classes = [ManageMappings]

    @extend_schema(
        request=None,
        responses={200: UploadSerializer},
        summary="Apply a previewed upload, all or nothing",
        description="409 `refused` when it was already applied or discarded, or when the "
        "table changed since the preview (upload again for a fresh preview).",
    )
    def post(self, request, pk: int):
        upload = get_object_or_404(MappingUpload, pk=pk)
        upload = services.upload_apply(upload=upload, user=request.user)
        return Response(UploadSerializer(upload).data)


class UploadDiscard(ApiView):
    permission_classes = [ManageMappings]

    @extend_schema(request=None, responses={200: UploadSerializer}, summary="Discard an upload")
    def post(self, request, pk: int):
        upload = get_object_or_404(MappingUpload, pk=pk)
        if not services.upload_discard(upload=upload, user=request.user):
            from api.errors import Refused

            raise Refused("This upload was already applied or discarded.")
        upload.refresh_from_db()
        return Response(UploadSerializer(upload).data)
