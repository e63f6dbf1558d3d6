"""Forms of the exception queue: the filter bar (read from the URL), the actions' inputs and
the inline mapping form built from the mapping table's description (mappings.specs)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts import roles
from mappings.models import ReferenceRecord
from mappings.specs import TABLES
from sync.models import Connection, Kind
from sync.queue_selectors import MAX_PER_PAGE, SORTS, TABS, QueueFilters
from sync.reasons import REASONS

OBJECT_TYPES = [
    ("", "Any type"),
    ("commitment", "Commitment"),
    ("commitment_change_order", "Commitment change order"),
    ("commitment_revision", "Commitment revision"),
    ("project", "Project"),
    ("vendor", "Vendor"),
    ("requisition", "Requisition / bill"),
    ("owner_invoice", "Owner invoice"),
    ("direct_cost", "Direct cost"),
]


def queue_users():
    """Active people who can work the queue (assignees, mentions)."""
    app_label, codename = roles.WORK_EXCEPTION_QUEUE.split(".")
    perm = Q(
        groups__permissions__content_type__app_label=app_label,
        groups__permissions__codename=codename,
    ) | Q(is_superuser=True)
    return get_user_model().objects.filter(perm, is_active=True).distinct().order_by("username")


class QueueFilterForm(forms.Form):
    tab = forms.ChoiceField(choices=[(k, v[0]) for k, v in TABS.items()], required=False)
    status = forms.CharField(required=False)
    reason = forms.ChoiceField(required=False)
    connection = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    subsidiary = forms.CharField(required=False, max_length=64)
    project = forms.CharField(required=False, max_length=64, label="Procore project id")
    vendor = forms.CharField(required=False, max_length=64, label="Procore vendor id")
    object_type = forms.ChoiceField(choices=OBJECT_TYPES, required=False, label="Type")
    amount_min = forms.DecimalField(required=False, label="Amount from", decimal_places=2)
    amount_max = forms.DecimalField(required=False, label="Amount to", decimal_places=2)
    older_than_days = forms.IntegerField(required=False, min_value=1, label="Older than (days)")
    past_sla = forms.BooleanField(required=False, label="Past SLA only")
    assignee = forms.ChoiceField(required=False)
    q = forms.CharField(required=False, max_length=100, label="Search")
    sort = forms.ChoiceField(choices=list(SORTS.items()), required=False)
    after = forms.CharField(required=False, max_length=200)
    per_page = forms.TypedChoiceField(
        choices=[(n, n) for n in (25, 50, 100, 200)], coerce=int, required=False, empty_value=50
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "Any reason")] + [
            (code, r.title) for code, r in REASONS.items()
        ]
        self.fields["connection"].choices = [("", "Any ERP connection")] + list(
            Connection.objects.filter(kind__in=(Kind.NETSUITE, Kind.QUICKBOOKS))
            .order_by("name")
            .values_list("pk", "name")
        )
        self.fields["assignee"].choices = [
            ("", "Anyone"),
            ("me", "Assigned to me"),
            ("none", "Unassigned"),
        ] + [(str(u.pk), u.get_username()) for u in queue_users()]

    def filters(self) -> QueueFilters:
        # A field that does not validate (a hand-edited per_page, an unknown reason) falls back
        # to its default; the others still apply, so a bookmarked view never widens silently.
        data = {}
        if self.is_bound:
            self.is_valid()  # fills cleaned_data with every field that validates
            data = self.cleaned_data
        tab = data.get("tab") or "open"
        return QueueFilters(
            tab=tab,
            status=data.get("status") or "",
            reason=data.get("reason") or "",
            connection=data.get("connection"),
            subsidiary=data.get("subsidiary") or "",
            project=data.get("project") or "",
            vendor=data.get("vendor") or "",
            object_type=data.get("object_type") or "",
            amount_min=data.get("amount_min"),
            amount_max=data.get("amount_max"),
            older_than_days=data.get("older_than_days"),
            past_sla=bool(data.get("past_sla")),
            assignee=data.get("assignee") or "",
            q=(data.get("q") or "").strip(),
            sort=data.get("sort") or "oldest",
            after=data.get("after") or "",
            per_page=min(data.get("per_page") or 50, MAX_PER_PAGE),
        )


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Required: why this write must not go to the ERP. Kept with the item.",
    )


class NoteForm(forms.Form):
    note = forms.CharField(required=False, max_length=2000)


class LinkForm(forms.Form):
    erp_id = forms.CharField(max_length=64, label="ERP record id")
    note = forms.CharField(required=False, max_length=2000)


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(required=False, label="Assign to")
    expected = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "No one")] + [
            (str(u.pk), u.get_username()) for u in queue_users()
        ]


class CommentForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        label="Comment",
        help_text="Mention a colleague with @username: they get an email.",
    )
    reply_to = forms.IntegerField(required=False, widget=forms.HiddenInput)


class BulkForm(forms.Form):
    ACTIONS = [
        ("approve", "Approve"),
        ("reject", "Reject"),
        ("assign", "Assign"),
        ("retry", "Retry"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    scope = forms.ChoiceField(choices=[("selected", "Selected"), ("all", "Whole view")])
    ids = forms.CharField(required=False)  # comma-separated, or repeated `item` fields
    reason = forms.CharField(required=False, max_length=2000)
    assignee = forms.CharField(required=False)
    confirm = forms.BooleanField(required=False)


# -- inline mapping ------------------------------------------------------------------------

CHOICE_LIMIT = 2000  # a select beyond this is unusable; the field falls back to text


def _reference_choices(connection: Connection, kinds, subsidiary: str) -> list | None:
    rows = ReferenceRecord.objects.filter(connection=connection, kind__in=kinds, active=True)
    rows = rows.order_by("code", "name").values_list("remote_id", "code", "name", "subsidiary_ids")
    choices = []
    for remote_id, code, name, subs in rows[: CHOICE_LIMIT + 1]:
        if subsidiary and subs and subsidiary not in [str(s) for s in subs]:
            continue
        label = " · ".join(x for x in (code, name) if x) or remote_id
        choices.append((remote_id, f"{label} ({remote_id})"))
    if not choices or len(choices) > CHOICE_LIMIT:
        return None
    return choices


class MappingFixForm(forms.Form):
    """The missing mapping's row, its key filled in from the item; ERP references offered
    from the connection's reference cache."""

    def __init__(self, *args, item=None, defaults=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = TABLES[item.blocked_table]
        connection = item.connection
        defaults = defaults or {}
        fixed = set((item.details or {}).get("mapping", {}).get("key", {}))
        subsidiary = defaults.get("subsidiary_id", "")
        for column in self.spec.columns:
            if column.ref and connection.kind not in column.ref.erp_kinds:
                continue  # subsidiaries: NetSuite only
            initial = defaults.get(column.name, "")
            help_text = column.help
            choices = None
            if column.ref and column.ref.side == "erp" and column.name not in fixed:
                choices = _reference_choices(connection, column.ref.kinds, subsidiary)
            if column.name in fixed and initial:
                field = forms.CharField(
                    initial=initial,
                    label=column.label,
                    required=False,
                    widget=forms.TextInput(attrs={"readonly": True}),
                )
            elif column.kind == "role":
                from mappings.models import AccountRole

                field = forms.ChoiceField(
                    choices=AccountRole.choices, initial=initial, label=column.label
                )
            elif choices is not None and column.kind != "list":
                field = forms.ChoiceField(
                    choices=[("", "—")] + choices,
                    required=column.required,
                    initial=initial,
                    label=column.label,
                )
            elif column.kind == "date":
                field = forms.DateField(
                    required=False,
                    label=column.label,
                    widget=forms.DateInput(attrs={"type": "date"}),
                )
            else:
                field = forms.CharField(
                    required=column.required, initial=initial, label=column.label, max_length=400
                )
            field.help_text = help_text
            self.fields[column.name] = field
        self.fixed = fixed
        self.defaults = defaults

    def values(self) -> dict:
        values = {}
        for name, value in self.cleaned_data.items():
            if name in self.fixed and self.defaults.get(name):
                value = self.defaults[name]  # read-only: never what the browser sent
            values[name] = "" if value is None else value
        return values


def payload_form(leaves: dict, data=None) -> forms.Form:
    """One text field per scalar leaf of the proposed payload, named by its path."""
    form = forms.Form(data)
    for path, value in leaves.items():
        form.fields[path] = forms.CharField(
            required=False,
            initial=""
            if value is None
            else str(value).lower()
            if isinstance(value, bool)
            else value,
            label=path,
            max_length=4000,
        )
    return form
