"""Schemathesis against our own OpenAPI schema (/api/schema/), in process through Django's
WSGI application: for every operation, generated requests (valid and invalid ones) sent with
an integration admin's token never get a 5xx, and every answer has a status code, content
type and body the schema documents.

Hypothesis draws a bounded number of examples per operation (EXAMPLES), so the test runs in
the normal suite; raise it locally to dig deeper:
``ERPBRIDGE_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/api/test_schema_fuzz.py``.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import ProjectAccess
from api.services import api_token_create
from mappings.models import ReferenceRecord
from tests.api.conftest import make_item
from tests.reports.factories import make_run

EXAMPLES = int(os.environ.get("ERPBRIDGE_FUZZ_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def served_schema() -> dict:
    """The document /api/schema/ serves: the view's own generator and JSON renderer. Built at
    import (schemathesis makes one test per operation at collection time, before any
    database exists to authenticate a request); ``test_the_fuzzed_schema_is_the_served_one``
    checks it against the endpoint's answer."""
    from drf_spectacular.renderers import OpenApiJsonRenderer

    from api.views.docs import SchemaView

    view = SchemaView()
    generator = view.generator_class(urlconf=view.urlconf, api_version=None, patterns=None)
    return json.loads(OpenApiJsonRenderer().render(generator.get_schema(None, public=True)))


def _wsgi_app():
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


SPEC = served_schema()
schema = schemathesis.openapi.from_dict(
    SPEC, config=schemathesis.Config.from_dict({"generation": {"max-examples": EXAMPLES}})
)
schema.app = _wsgi_app()  # requests go in process to Django's WSGI handler
schema.location = "/api/schema/"


@pytest.fixture
def wsgi_requests(settings):
    """Django's own test client keeps the test's transaction open by not closing the database
    connection at the end of a request; requests through the WSGI handler must do the same."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_headers(db, wsgi_requests, connections, admin_user, monkeypatch) -> dict[str, str]:
    """Something behind most ids (connections, queue items, a reconciliation run with report
    figures, a reference record) and an integration admin's token."""
    procore, erp = connections
    for n in range(1, 4):
        make_item(erp, n)
    make_run("NetSuite", [("77", "USD", "100.00"), ("78", "CAD", "250.00")])
    ProjectAccess.objects.create(user=admin_user, procore_project_id="77")
    ReferenceRecord.objects.create(
        connection=erp,
        kind="currency",
        remote_id="1",
        name="USD",
        code="USD",
        refreshed_at=timezone.now(),
    )
    # Throttling has its own tests; here it would only turn later examples into 429s.
    for throttle in (UserRateThrottle, AnonRateThrottle):
        monkeypatch.setattr(throttle, "allow_request", lambda self, request, view: True)
    token = api_token_create(user=admin_user, name="fuzz", created_by=admin_user).key
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, admin_headers):
    case.call_and_validate(headers=admin_headers, checks=CHECKS)


def test_the_fuzzed_schema_is_the_served_one(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert json.loads(response.content) == SPEC


def test_the_fuzz_reaches_every_operation():
    """Every operation of the schema loads (none is skipped by the fuzz test above)."""
    operations = [op.ok() for op in schema.get_all_operations()]
    documented = sum(len(methods) for methods in SPEC["paths"].values())
    assert len(operations) == documented >= 25


# -- what the fuzz found --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/v1/exceptions/null,null/approve/", "/api/v1/nothing/", "/api/v1/exceptions/%0Ap/"],
)
def test_a_write_to_no_endpoint_is_the_json_404_not_the_csrf_page(path, admin_user):
    """A token client is never asked for a CSRF token: a POST to an address that matches no
    endpoint answered Django's HTML CSRF failure page (403) instead of the API's 404, and one
    with a newline in it the site's HTML 404."""
    from django.test import Client

    key = api_token_create(user=admin_user, name="t", created_by=admin_user).key
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.post(path, {"note": ""}, content_type="application/json")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"
