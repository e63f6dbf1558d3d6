"""Who may do what: the role -> permission mapping, in one place.

The groups below are created by migration 0002 and re-applied after every `migrate` and by
`manage.py sync_roles`: each group ends up with exactly these permissions (changes made to
these groups by hand in the admin are reverted). Later issues extend a role by adding
permission names ("app_label.codename") here.

The four `accounts.*` permissions gate whole areas of the site; model permissions
("mappings.change_…", "sync.view_…") are added as those models arrive.
"""

CONTROLLER = "Controller"
PROJECT_MANAGER = "Project manager"
INTEGRATION_ADMIN = "Integration admin"

# Area permissions, defined on accounts.Capability (a model without a table).
WORK_EXCEPTION_QUEUE = "accounts.work_exception_queue"
VIEW_REPORTS = "accounts.view_reports"
MANAGE_CONNECTIONS = "accounts.manage_connections"
MANAGE_MAPPINGS = "accounts.manage_mappings"

CAPABILITIES = [
    ("work_exception_queue", "Can work the exception queue (approve, fix, reject, retry)"),
    ("view_reports", "Can read reconciliation reports and document status"),
    ("manage_connections", "Can manage connections, schedules and sync settings"),
    ("manage_mappings", "Can manage mapping tables, including CSV/XLSX upload"),
]

# The mapping tables (mappings/models/tables.py).
MAPPING_TABLES = (
    "projectmapping",
    "costcodemapping",
    "vendormapping",
    "accountrolemapping",
    "currencymapping",
)
# Integration admins manage every mapping table, read the history, uploads and the reference
# cache; controllers may add a mapping inline from the exception queue and view them all.
MAPPINGS_MANAGE = frozenset(
    f"mappings.{action}_{model}"
    for model in MAPPING_TABLES
    for action in ("add", "change", "delete", "view")
) | {
    "mappings.view_mappingchange",
    "mappings.view_mappingupload",
    "mappings.view_referencerecord",
}
MAPPINGS_ADD_INLINE = frozenset(
    f"mappings.{action}_{model}" for model in MAPPING_TABLES for action in ("add", "view")
) | {"mappings.view_mappingchange", "mappings.view_referencerecord"}

# The sync engine's records (sync/models): controllers work the queue's items and read the
# changes and runs behind them; PMs and admins read run history and bindings.
SYNC_READ = frozenset(
    {"sync.view_syncrun", "sync.view_syncrunrecord", "sync.view_binding", "sync.view_change"}
)
SYNC_QUEUE = SYNC_READ | {
    "sync.view_exceptionitem",
    "sync.change_exceptionitem",
    "sync.view_exceptionevent",
}

# Reconciliation (reconciliation/): runs and the per-project totals the PM reports read;
# admins also read the webhook deliveries.
RECONCILIATION_READ = frozenset(
    {"reconciliation.view_reconciliationrun", "reconciliation.view_projecttotals"}
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    CONTROLLER: frozenset({WORK_EXCEPTION_QUEUE}) | MAPPINGS_ADD_INLINE | SYNC_QUEUE,
    PROJECT_MANAGER: frozenset({VIEW_REPORTS, "sync.view_syncrun", "sync.view_binding"})
    | RECONCILIATION_READ,
    INTEGRATION_ADMIN: frozenset(
        {
            MANAGE_CONNECTIONS,
            MANAGE_MAPPINGS,
            # Connections: the Connections pages (MANAGE_CONNECTIONS) run the connect flow;
            # the admin edits directions and policies (no add/delete there: secrets are
            # entered on the Connections pages).
            "sync.view_connection",
            "sync.change_connection",
            "sync.connect_connection",
            # Sync schedules live in django-q2's Schedule model, edited in the admin.
            "django_q.view_schedule",
            "django_q.add_schedule",
            "django_q.change_schedule",
            "django_q.delete_schedule",
            # Task outcomes, read-only: what ran and what failed.
            "django_q.view_success",
            "django_q.view_failure",
        }
    )
    | MAPPINGS_MANAGE
    | SYNC_QUEUE
    # Integration admins can do everything a controller can in the exception queue (issue 8)
    # and say which Procore projects each project manager follows.
    | {WORK_EXCEPTION_QUEUE, "sync.view_cursor", "sync.view_webhookdelivery"}
    | RECONCILIATION_READ
    | {f"accounts.{a}_projectaccess" for a in ("add", "change", "delete", "view")}
    # The audit log (read and export) and API tokens (create, revoke; never delete).
    | {"audit.view_auditentry", "api.view_apitoken", "api.add_apitoken", "api.change_apitoken"},
}

# Roles whose members need the Django admin (is_staff) to do their work.
STAFF_ROLES = frozenset({INTEGRATION_ADMIN})
