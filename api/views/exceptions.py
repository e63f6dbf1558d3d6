"""/api/v1/exceptions/: the exception queue, with the same selector (sync.queue_selectors)
and the same review services (sync.services.review) as the controllers' pages."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts import roles
from api.base import ApiView
from api.permissions import ReadQueue, WorkQueue
from sync import queue_selectors as queue
from sync.models import ExceptionItem
from sync.queue_selectors import MAX_PER_PAGE, SORTS, TABS, QueueFilters
from sync.services import review

# -- serializers ---------------------------------------------------------------------------


class QueueQuery(serializers.Serializer):
    tab = serializers.ChoiceField(choices=list(TABS), required=False, default="open")
    status = serializers.CharField(required=False, default="")
    reason = serializers.CharField(required=False, default="", max_length=40)
    connection = serializers.IntegerField(required=False, min_value=1)
    subsidiary = serializers.CharField(required=False, default="", max_length=64)
    project = serializers.CharField(required=False, default="", max_length=64)
    vendor = serializers.CharField(required=False, default="", max_length=64)
    object_type = serializers.CharField(required=False, default="", max_length=40)
    amount_min = serializers.DecimalField(max_digits=18, decimal_places=2, required=False)
    amount_max = serializers.DecimalField(max_digits=18, decimal_places=2, required=False)
    older_than_days = serializers.IntegerField(required=False, min_value=1, max_value=36500)
    past_sla = serializers.BooleanField(required=False, default=False)
    assignee = serializers.RegexField(r"^(me|none|\d{1,18})$", required=False, default="")
    q = serializers.CharField(required=False, default="", max_length=100)
    sort = serializers.ChoiceField(choices=list(SORTS), required=False, default="oldest")
    cursor = serializers.CharField(required=False, default="", max_length=200)
    page_size = serializers.IntegerField(
        required=False, default=50, min_value=1, max_value=MAX_PER_PAGE
    )

    def filters(self) -> QueueFilters:
        data = dict(self.validated_data)
        return QueueFilters(after=data.pop("cursor"), per_page=data.pop("page_size"), **data)


class UserRef(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class ItemSerializer(serializers.ModelSerializer):
    connection_name = serializers.CharField(source="connection.name", read_only=True)
    assignee = serializers.SerializerMethodField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)

    class Meta:
        model = ExceptionItem
        fields = (
            "id",
            "status",
            "reason_code",
            "explanation",
            "fix",
            "connection",
            "connection_name",
            "object_type",
            "procore_id",
            "procore_project_id",
            "project_name",
            "subsidiary",
            "vendor",
            "vendor_name",
            "document_number",
            "amount",
            "currency",
            "assignee",
            "blocked_table",
            "opened_at",
            "updated_at",
            "resolved_at",
        )

    @extend_schema_field(UserRef(allow_null=True))
    def get_assignee(self, item) -> dict | None:
        user = item.assignee
        return {"id": user.pk, "username": user.get_username()} if user else None


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    action = serializers.CharField()
    actor = serializers.SerializerMethodField()
    note = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)

    def get_actor(self, event) -> str | None:
        return event.actor.get_username() if event.actor else None


class ChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    operation = serializers.CharField()
    state = serializers.CharField()
    erp_type = serializers.CharField()
    erp_id = serializers.CharField()
    payload = serializers.JSONField()
    attempts = serializers.IntegerField()
    last_error = serializers.JSONField(allow_null=True)
    updated_at = serializers.DateTimeField()


class ItemDetailSerializer(ItemSerializer):
    details = serializers.JSONField()
    change = ChangeSerializer(allow_null=True)
    events = serializers.SerializerMethodField()
    approve_refusal = serializers.SerializerMethodField()

    class Meta(ItemSerializer.Meta):
        fields = (*ItemSerializer.Meta.fields, "details", "change", "events", "approve_refusal")

    @extend_schema_field(EventSerializer(many=True))
    def get_events(self, item):
        return EventSerializer(queue.item_events(item), many=True).data

    def get_approve_refusal(self, item) -> str:
        """Why the caller may not approve now ('' when they may): same words as the page."""
        user = self.context["request"].user
        if not user.has_perm(roles.WORK_EXCEPTION_QUEUE):
            return "Your role does not allow approving."
        return review.approve_refusal(item, user)


class QueuePageSerializer(serializers.Serializer):
    results = ItemSerializer(many=True)
    next = serializers.CharField(allow_null=True)
    next_cursor = serializers.CharField(allow_blank=True)
    total = serializers.IntegerField()
    tab_counts = serializers.DictField(child=serializers.IntegerField())


class NoteInput(serializers.Serializer):
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


class RejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class CommentInput(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    reply_to = serializers.IntegerField(required=False, allow_null=True, default=None)


class AssignInput(serializers.Serializer):
    assignee = serializers.IntegerField(
        allow_null=True, help_text="A user id who works the queue, or null to unassign."
    )
    expected = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The assignee you saw (id or null); if someone changed it since, nothing "
        "is overwritten (409). Leave out to assign regardless.",
    )

    def validate_assignee(self, value):
        if value is None:
            return None
        user = get_user_model().objects.filter(pk=value, is_active=True).first()
        if user is None or not user.has_perm(roles.WORK_EXCEPTION_QUEUE):
            raise serializers.ValidationError("No active user who works the queue has this id.")
        return user


class ActionResult(serializers.Serializer):
    message = serializers.CharField()
    sent = serializers.BooleanField()
    item = ItemSerializer()


# -- views ---------------------------------------------------------------------------------


class ExceptionList(ApiView):
    permission_classes = [ReadQueue]

    @extend_schema(
        parameters=[QueueQuery],
        responses=QueuePageSerializer,
        operation_id="exceptions_list",
        summary="The queue: one keyset page with the queue's filters",
        description="Filters are the queue page's (tab, reason, connection, subsidiary, "
        "project, vendor, type, amount range, age, SLA, assignee, search) and so are the "
        "rules of who sees what: project managers see the items of their projects only. "
        "Follow `next` (or pass `cursor=next_cursor`) for the next page.",
    )
    def get(self, request):
        query = QueueQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.filters()
        page = queue.queue_page(request.user, filters)
        next_url = None
        if page.next_cursor:
            params = request.query_params.copy()
            params["cursor"] = page.next_cursor
            next_url = request.build_absolute_uri(request.path + "?" + params.urlencode())
        return Response(
            {
                "results": ItemSerializer(page.items, many=True).data,
                "next": next_url,
                "next_cursor": page.next_cursor,
                "total": page.total,
                "tab_counts": page.tab_counts,
            }
        )


def _item(request, pk: int) -> ExceptionItem:
    try:
        return queue.item_detail(request.user, pk)
    except ExceptionItem.DoesNotExist:
        raise Http404 from None


class ExceptionDetail(ApiView):
    permission_classes = [ReadQueue]

    @extend_schema(responses=ItemDetailSerializer, summary="One item with its change and timeline")
    def get(self, request, pk: int):
        item = _item(request, pk)
        return Response(ItemDetailSerializer(item, context={"request": request}).data)


def _result(result: review.ReviewResult) -> Response:
    item = ExceptionItem.objects.select_related("connection", "assignee").get(pk=result.item.pk)
    return Response(
        {"message": result.message, "sent": result.sent, "item": ItemSerializer(item).data}
    )


class _Action(ApiView):
    permission_classes = [WorkQueue]
    input_class: type[serializers.Serializer] = NoteInput

    def post(self, request, pk: int):
        _item(request, pk)  # 404 for an item the caller may not see
        body = self.input_class(data=request.data)
        body.is_valid(raise_exception=True)
        return _result(self.act(request, pk, body.validated_data))

    def act(self, request, pk, data) -> review.ReviewResult:
        raise NotImplementedError


def _action_schema(cls, summary: str, request):
    return extend_schema(
        request=request,
        responses={200: ActionResult},
        summary=summary,
        description="409 `refused` with the reason when the action cannot happen (someone "
        "else acted first, a policy forbids it, the item is not in a state for it).",
    )(cls)


class ExceptionApprove(_Action):
    def act(self, request, pk, data):
        return review.item_approve(item_id=pk, actor=request.user, note=data["note"])


class ExceptionReject(_Action):
    input_class = RejectInput

    def act(self, request, pk, data):
        return review.item_reject(item_id=pk, actor=request.user, reason=data["reason"])


class ExceptionRetry(_Action):
    def act(self, request, pk, data):
        return review.item_retry(item_id=pk, actor=request.user, note=data["note"])


class ExceptionAssign(_Action):
    input_class = AssignInput

    def act(self, request, pk, data):
        expected = data.get("expected", "any")
        return review.item_assign(
            item_id=pk, actor=request.user, assignee=data["assignee"], expected=expected
        )


class ExceptionComment(_Action):
    input_class = CommentInput

    @extend_schema(request=CommentInput, responses={201: EventSerializer}, summary="Comment")
    def post(self, request, pk: int):
        _item(request, pk)
        body = CommentInput(data=request.data)
        body.is_valid(raise_exception=True)
        event = review.item_comment(
            item_id=pk,
            actor=request.user,
            text=body.validated_data["text"],
            reply_to=body.validated_data["reply_to"],
        )
        return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)


ExceptionApprove = _action_schema(ExceptionApprove, "Approve the proposed write", NoteInput)
ExceptionReject = _action_schema(ExceptionReject, "Reject (a reason is required)", RejectInput)
ExceptionRetry = _action_schema(ExceptionRetry, "Retry a dead letter's write", NoteInput)
ExceptionAssign = _action_schema(ExceptionAssign, "Assign or unassign", AssignInput)
