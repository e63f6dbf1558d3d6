"""WHO MAY OPEN WHAT: the one table the permission matrix test checks every URL against.

A new URL must be added here, or tests/security/test_permission_matrix.py fails and says so.
Key: the URL name ("namespace:name"). Value: the roles allowed (any subset of PM,
CONTROLLER, ADMIN), or PUBLIC (no sign-in), or SIGNED_IN (any signed-in user), or
ADMIN_SITE (the Django admin: staff only, then the model permissions).

For an allowed role the URL must not refuse (no 401/403, no redirect to sign in) nor fail
(5xx); a dummy id may well answer 404 or a POST-only view 405. For every other role it must
refuse: 403 for a signed-in user; for an anonymous visitor a redirect to the sign-in page
(pages) or 401 (the API).
"""

PM = "pm"
CONTROLLER = "controller"
ADMIN = "admin"  # integration admin (is_staff)
PUBLIC = "public"
SIGNED_IN = "signed_in"
ADMIN_SITE = "admin_site"

QUEUE_READ = {PM, CONTROLLER, ADMIN}
QUEUE_WORK = {CONTROLLER, ADMIN}
CONNECTIONS = {ADMIN}
MAPPINGS = {ADMIN}
MAPPINGS_VIEW = {CONTROLLER, ADMIN}  # the tables' view permissions (inline fixes)
RUN_HISTORY = {PM, CONTROLLER, ADMIN}  # sync.view_syncrun
RUN_RECORDS = {CONTROLLER, ADMIN}  # sync.view_syncrunrecord: records of every project
REPORTS = {PM, CONTROLLER, ADMIN}  # PMs their projects; the others every project
AUDIT = {ADMIN}

ACCESS: dict[str, object] = {
    # The site
    "home": SIGNED_IN,
    "login": PUBLIC,
    "logout": SIGNED_IN,
    "healthz": PUBLIC,
    # Webhooks authenticate their sender themselves (signature / shared secret).
    "webhooks:procore": PUBLIC,
    "webhooks:netsuite": PUBLIC,
    "webhooks:quickbooks": PUBLIC,
    # Connections and runs (integration admins)
    "sync:connections": CONNECTIONS,
    "sync:connection_create": CONNECTIONS,
    "sync:connection_edit": CONNECTIONS,
    "sync:connection_connect": CONNECTIONS,
    "sync:connection_test": CONNECTIONS,
    "sync:procore_callback": CONNECTIONS,
    "sync:quickbooks_callback": CONNECTIONS,
    "sync:runs": CONNECTIONS,
    "sync:run_detail": CONNECTIONS,
    "sync:sync_now": CONNECTIONS,
    "sync:reconcile_now": CONNECTIONS,
    # Mappings
    "mappings:index": MAPPINGS,
    "mappings:template": MAPPINGS,
    "mappings:table": MAPPINGS_VIEW,
    "mappings:history": MAPPINGS_VIEW,
    "mappings:export": MAPPINGS,
    "mappings:upload": MAPPINGS,
    "mappings:upload_detail": MAPPINGS,
    "mappings:upload_apply": MAPPINGS,
    "mappings:upload_errors": MAPPINGS,
    "mappings:coverage": MAPPINGS,
    "mappings:suggestions": MAPPINGS,
    "mappings:refresh": MAPPINGS,
    # The exception queue: PMs read their projects' items, controllers and admins work them.
    "exceptions_ui:queue": QUEUE_READ,
    "exceptions_ui:item": QUEUE_READ,
    "exceptions_ui:status": QUEUE_READ,
    "exceptions_ui:approve": QUEUE_WORK,
    "exceptions_ui:reject": QUEUE_WORK,
    "exceptions_ui:link": QUEUE_WORK,
    "exceptions_ui:retry": QUEUE_WORK,
    "exceptions_ui:replay": QUEUE_WORK,
    "exceptions_ui:assign": QUEUE_WORK,
    "exceptions_ui:comment": QUEUE_WORK,
    "exceptions_ui:edit": QUEUE_WORK,
    "exceptions_ui:fix": QUEUE_WORK,
    "exceptions_ui:bulk": QUEUE_WORK,
    # The PM reports (reconciliation figures, document status)
    "exceptions_ui:reports": REPORTS,
    "exceptions_ui:report_project": REPORTS,
    "exceptions_ui:report_document": REPORTS,
    "exceptions_ui:reports_refresh": REPORTS,
    "exceptions_ui:reports_refresh_status": REPORTS,
    # The API (same permissions as the pages)
    "api:schema": SIGNED_IN,
    "api:docs": SIGNED_IN,
    "api:not_found": PUBLIC,  # a JSON 404 that reveals nothing
    "api:exceptions": QUEUE_READ,
    "api:exception": QUEUE_READ,
    "api:approve": QUEUE_WORK,
    "api:reject": QUEUE_WORK,
    "api:retry": QUEUE_WORK,
    "api:assign": QUEUE_WORK,
    "api:comment": QUEUE_WORK,
    "api:runs": RUN_HISTORY,
    "api:run": RUN_HISTORY,
    "api:run_records": RUN_RECORDS,
    "api:run_trigger": CONNECTIONS,
    "api:connections": CONNECTIONS,
    "api:connection": CONNECTIONS,
    "api:mappings": MAPPINGS,
    "api:mapping_rows": MAPPINGS_VIEW,
    "api:mapping_row": MAPPINGS_VIEW,
    "api:upload_create": MAPPINGS,
    "api:upload": MAPPINGS,
    "api:upload_apply": MAPPINGS,
    "api:upload_discard": MAPPINGS,
    "api:portfolio": REPORTS,
    "api:projects": REPORTS,
    "api:project": REPORTS,
    "api:audit": AUDIT,
}
# Every URL under /admin/ (named or not): the Django admin.
ADMIN_PREFIX = "/admin/"
