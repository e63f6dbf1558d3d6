"""Token lifecycle, session auth with CSRF, the one error shape, the schema and docs."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from api.models import ApiToken
from api.services import api_token_authenticate, api_token_create, api_token_revoke
from audit.models import AuditEntry
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_token_lifecycle_through_the_admin(client, admin_user):
    """Create in the admin → shown once → works → revoke → 401."""
    owner = UserFactory(username="bi-bot", roles=["Controller"])
    client.force_login(admin_user)

    page = client.post(
        reverse("admin:api_apitoken_add"), {"user": owner.pk, "name": "BI dashboard"}
    )

    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    token = ApiToken.objects.get()
    key = page.context["key"]
    assert key.startswith(f"erpb_{token.prefix}_") and key in page.content.decode()
    assert key not in str(list(ApiToken.objects.values_list()))  # stored hashed only
    assert token.key_hash != key and token.created_by == admin_user
    # Never shown again: the token's change page has the prefix only.
    detail = client.get(reverse("admin:api_apitoken_change", args=[token.pk]))
    assert key not in detail.content.decode() and token.prefix in detail.content.decode()

    works = bearer(key).get("/api/v1/exceptions/")
    assert works.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None

    refused = bearer(key).get("/api/v1/exceptions/")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"
    assert refused["WWW-Authenticate"].startswith("Bearer")
    actions = list(AuditEntry.objects.order_by("at", "pk").values_list("action", "actor_label"))
    assert actions == [("api_token.create", "ia"), ("api_token.revoke", "ia")]


def test_only_a_superuser_may_mint_a_token_for_a_superuser(client, admin_user):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin_user)

    page = client.post(reverse("admin:api_apitoken_add"), {"user": root.pk, "name": "x"})

    assert page.status_code == 200 and not ApiToken.objects.exists()
    assert "Only a superuser" in page.content.decode()


def test_tokens_cannot_be_deleted_in_the_admin(client, admin_user):
    issued = api_token_create(user=admin_user, name="x", created_by=admin_user)
    client.force_login(admin_user)

    response = client.post(reverse("admin:api_apitoken_delete", args=[issued.token.pk]), {})

    assert response.status_code == 403 and ApiToken.objects.count() == 1


@pytest.mark.parametrize(
    "header",
    [
        "Bearer erpb_nothing",
        "Bearer erpb_aaaaaaaaaaaa_" + "x" * 43,
        "Bearer",
        "Bearer a b",
        "Token ",
    ],
)
def test_malformed_or_unknown_tokens_are_401_in_the_error_shape(header):
    client = APIClient()
    response = client.get("/api/v1/runs/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message"}


def test_expired_and_inactive_tokens_fail(admin_user):
    from datetime import timedelta

    from django.utils import timezone

    issued = api_token_create(user=admin_user, name="x", created_by=admin_user)
    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert api_token_authenticate(issued.key) is None
    other = api_token_create(user=admin_user, name="y", created_by=admin_user)
    admin_user.is_active = False
    admin_user.save()
    assert bearer(other.key).get("/api/v1/runs/").status_code == 401


def test_a_revoked_token_is_revoked_once(admin_user):
    issued = api_token_create(user=admin_user, name="x", created_by=admin_user)
    assert api_token_revoke(token=issued.token, actor=admin_user) is True
    assert api_token_revoke(token=issued.token, actor=admin_user) is False


def test_session_auth_needs_the_csrf_token_on_writes(connections, admin_user):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="ia", password=TEST_PASSWORD)

    assert client.get("/api/v1/runs/").status_code == 200
    refused = client.post(f"/api/v1/mappings/{connections[1].pk}/currency/", {}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]["message"]


def test_errors_share_one_shape(api, connections):
    client = api("admin")

    missing = client.get("/api/v1/runs/999999/")
    unknown = client.get("/api/v1/nothing-here/")
    invalid = client.post(
        f"/api/v1/mappings/{connections[1].pk}/currency/", {"row": {}}, format="json"
    )
    forbidden = api("pm").get("/api/v1/connections/")
    not_allowed = client.delete("/api/v1/runs/")

    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert invalid.status_code == 400
    assert invalid.json()["error"]["code"] == "invalid"
    assert invalid.json()["error"]["fields"]
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "permission_denied"
    assert not_allowed.status_code == 405
    assert not_allowed.json()["error"]["code"] == "method_not_allowed"


def test_schema_generates_and_the_docs_page_loads_from_our_static_files(client, admin_user):
    client.force_login(admin_user)

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/exceptions/{id}/approve/" in spec["paths"]
    assert "apiToken" in spec["components"]["securitySchemes"]
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "<style" not in html and "<script>" not in html and "cdn" not in html.lower()
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


def test_the_schema_is_a_valid_openapi_document(client, admin_user):
    from drf_spectacular.validation import validate_schema

    client.force_login(admin_user)
    spec = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    validate_schema(spec)
