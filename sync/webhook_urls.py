"""URLs under /webhooks/: the only views reachable without signing in, besides login and
/healthz. Each view here must be decorated with @login_not_required (and @csrf_exempt: the
sender has no CSRF token) and authenticate the sender itself (signature or shared secret),
since no session protects it. tests/erpbridge/test_login_required.py treats this prefix as
public and every other URL as login-only.
"""

from django.urls import path

from sync.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("procore/<int:connection_id>/", views.procore, name="procore"),
    path("quickbooks/<int:connection_id>/", views.quickbooks, name="quickbooks"),
    path("netsuite/<int:connection_id>/", views.netsuite, name="netsuite"),
]
