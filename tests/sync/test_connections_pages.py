"""The Connections pages: forms (NetSuite validated on save), masked secrets, Test connection,
permissions, the admins' banner and the Connection admin."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.files.uploadedfile import SimpleUploadedFile

from sandboxes.netsuite import NetSuiteSandbox, keys
from sandboxes.procore import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from sync.models import Connection, ConnectionStatus, Kind
from tests.sync.conftest import make_procore, make_quickbooks, page_text

pytestmark = pytest.mark.django_db
NS_BASE = "https://ns.sandbox.invalid"


def pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def netsuite_form(key_pem: bytes | None, **over):
    data = {
        "name": "NetSuite",
        "account_id": keys.DEMO_ACCOUNT_ID,
        "base_url": NS_BASE,
        "auth_method": "m2m",
        "client_id": keys.DEMO_CLIENT_ID,
        "certificate_id": keys.DEMO_CERTIFICATE_ID,
        **over,
    }
    if key_pem is not None:
        data["private_key"] = SimpleUploadedFile("netsuite.pem", key_pem)
    return data


@pytest.fixture
def ns_sb(remote) -> NetSuiteSandbox:
    sb = NetSuiteSandbox(seed=1)
    remote(sb)
    return sb


# -- NetSuite: validated on save -----------------------------------------------------------------


def test_netsuite_with_the_demo_key_is_saved_with_a_token(client, integration_admin, ns_sb):
    procore = make_procore()
    client.force_login(integration_admin)
    demo_pem = keys.demo_private_key_pem()

    response = client.post(
        "/connections/new/netsuite/",
        netsuite_form(demo_pem, procore_connection=str(procore.pk)),
    )

    assert response.status_code == 302, page_text(response)
    conn = Connection.objects.get(kind=Kind.NETSUITE)
    assert conn.status == ConnectionStatus.OK and conn.last_success_at
    assert conn.token["access_token"] and conn.token["expires_at"] > 0
    assert conn.secrets == {"private_key_pem": demo_pem.decode()}
    assert conn.settings["certificate_id"] == keys.DEMO_CERTIFICATE_ID
    assert conn.procore_connection == procore
    # The key and token never come back: neither on the list nor on the edit page.
    for url in ("/connections/", f"/connections/{conn.pk}/"):
        html = page_text(client.get(url))
        assert "PRIVATE KEY" not in html and conn.token["access_token"] not in html
        body = demo_pem.decode().splitlines()[1]
        assert body not in html
    assert "RSA 3072-bit key" in page_text(client.get(f"/connections/{conn.pk}/"))


def test_netsuite_with_a_wrong_key_saves_nothing_and_says_why(client, integration_admin, ns_sb):
    client.force_login(integration_admin)
    wrong = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    response = client.post("/connections/new/netsuite/", netsuite_form(wrong))

    assert response.status_code == 200
    html = page_text(response)
    assert "NetSuite refused the credentials" in html
    assert "Invalid signature of the client assertion" in html and "Nothing was saved" in html
    assert not Connection.objects.exists()
    assert "PRIVATE KEY" not in html


def test_netsuite_accepts_an_ec_key_mapped_to_the_integration(client, integration_admin, ns_sb):
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ns_sb.register_certificate(keys.DEMO_CLIENT_ID, "ec-cert-1", public)
    client.force_login(integration_admin)

    response = client.post(
        "/connections/new/netsuite/", netsuite_form(pem(key), certificate_id="ec-cert-1")
    )

    assert response.status_code == 302
    assert Connection.objects.get().status == ConnectionStatus.OK


def test_netsuite_file_that_is_not_a_key_is_refused_before_calling(client, integration_admin):
    client.force_login(integration_admin)
    response = client.post("/connections/new/netsuite/", netsuite_form(b"hello"))
    assert "not an unencrypted PEM private key" in page_text(response)
    assert not Connection.objects.exists()


def test_netsuite_tba_and_editing_keeps_stored_secrets(client, integration_admin, ns_sb):
    client.force_login(integration_admin)
    tba = {
        "auth_method": "tba",
        "consumer_key": keys.DEMO_CONSUMER_KEY,
        "consumer_secret": keys.DEMO_CONSUMER_SECRET,
        "token_id": keys.DEMO_TOKEN_ID,
        "token_secret": keys.DEMO_TOKEN_SECRET,
    }
    assert client.post("/connections/new/netsuite/", netsuite_form(None, **tba)).status_code == 302
    conn = Connection.objects.get()
    assert conn.status == ConnectionStatus.OK and conn.token is None

    page = page_text(client.get(f"/connections/{conn.pk}/"))
    for secret in tba.values():
        if secret != "tba":
            assert secret not in page
    assert f"Stored: ••••••••{keys.DEMO_TOKEN_SECRET[-4:]}" in page
    assert 'type="password"' in page

    # Blank secrets keep the stored ones (re-validated against NetSuite).
    blanks = {k: "" for k in tba if k != "auth_method"}
    edit = netsuite_form(None, name="NetSuite US", auth_method="tba", **blanks)
    assert client.post(f"/connections/{conn.pk}/", edit).status_code == 302
    conn.refresh_from_db()
    assert conn.name == "NetSuite US" and conn.secrets["token_secret"] == keys.DEMO_TOKEN_SECRET

    # A wrong secret is refused by NetSuite and nothing changes.
    bad = netsuite_form(
        None,
        name="Renamed",
        auth_method="tba",
        consumer_secret="wrong",
        **{k: "" for k in blanks if k != "consumer_secret"},
    )
    assert "NetSuite refused the credentials" in page_text(
        client.post(f"/connections/{conn.pk}/", bad)
    )
    conn.refresh_from_db()
    assert (
        conn.name == "NetSuite US" and conn.secrets["consumer_secret"] == keys.DEMO_CONSUMER_SECRET
    )


# -- Procore / QuickBooks forms and Test connection ----------------------------------------------


def test_procore_form_masks_the_secret_and_blank_keeps_it(client, integration_admin):
    client.force_login(integration_admin)
    data = {
        "name": "Procore",
        "grant": "client_credentials",
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        "company_id": "4200",
        "auth_base_url": "https://login.sandbox.invalid",
        "api_base_url": "https://api.sandbox.invalid",
    }
    assert client.post("/connections/new/procore/", data).status_code == 302
    conn = Connection.objects.get()
    assert conn.secrets == {"client_secret": DEMO_CLIENT_SECRET}
    assert "client_secret" not in conn.settings

    html = page_text(client.get(f"/connections/{conn.pk}/"))
    assert DEMO_CLIENT_SECRET not in html
    assert f"Stored: ••••••••{DEMO_CLIENT_SECRET[-4:]}. Leave blank to keep" in html

    client.post(f"/connections/{conn.pk}/", {**data, "client_secret": "", "company_id": "4300"})
    conn.refresh_from_db()
    assert conn.secrets == {"client_secret": DEMO_CLIENT_SECRET}
    assert conn.settings["company_id"] == "4300"


def test_new_procore_connection_needs_a_secret(client, integration_admin):
    client.force_login(integration_admin)
    data = {"name": "P", "grant": "client_credentials", "client_id": "x", "client_secret": ""}
    assert "This field is required" in page_text(client.post("/connections/new/procore/", data))
    assert not Connection.objects.exists()


def test_quickbooks_edit_keeps_the_captured_realm(client, integration_admin):
    conn = make_quickbooks(realm_id="9341453050298467")
    client.force_login(integration_admin)
    data = {"name": "QBO", "client_id": conn.settings["client_id"], "client_secret": ""}
    assert client.post(f"/connections/{conn.pk}/", data).status_code == 302
    conn.refresh_from_db()
    assert conn.settings["realm_id"] == "9341453050298467" and conn.name == "QBO"


def test_dmsa_test_connection_fetches_a_token_and_lists_companies(
    client, integration_admin, procore_sb, remote
):
    remote(procore_sb)
    conn = make_procore(grant="client_credentials")
    client.force_login(integration_admin)
    html = page_text(client.get("/connections/"))
    assert "Test connection" in html and "Connect Procore" not in html

    page = client.post(f"/connections/{conn.pk}/test/", follow=True)

    assert "Test of Procore passed" in page_text(page)
    assert "Summit Builders (4200)" in page_text(page)
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.OK and conn.token["access_token"]


def test_dmsa_test_with_a_wrong_secret_says_so_and_changes_nothing(
    client, integration_admin, procore_sb, remote
):
    remote(procore_sb)
    conn = make_procore(grant="client_credentials", secret="wrong-secret")
    client.force_login(integration_admin)

    page = client.post(f"/connections/{conn.pk}/test/", follow=True)

    assert "Test of Procore failed. Procore refused the credentials" in page_text(page)
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.NEW and conn.token is None
    assert "wrong-secret" not in page_text(page)


def test_list_shows_status_reason_and_the_right_call_to_action(client, integration_admin):
    make_procore(name="Procore OK", status=ConnectionStatus.OK)
    make_procore(
        name="Procore revoked",
        status=ConnectionStatus.NEEDS_REAUTH,
        status_reason="invalid_grant: the refresh token was revoked",
    )
    make_quickbooks()
    client.force_login(integration_admin)

    html = page_text(client.get("/connections/"))

    assert "Needs re-authorisation" in html and "the refresh token was revoked" in html
    assert "Reconnect" in html and "Connect QuickBooks Online" in html and "Not connected" in html
    assert DEMO_CLIENT_SECRET not in html


# -- permissions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["project_manager", "controller"])
def test_other_roles_get_403(client, request, who):
    conn = make_procore()
    client.force_login(request.getfixturevalue(who))
    gets = [
        "/connections/",
        "/connections/new/procore/",
        f"/connections/{conn.pk}/",
        "/connections/procore/callback?state=x",
        "/connections/quickbooks/callback?state=x",
    ]
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in (
        f"/connections/{conn.pk}/connect/",
        f"/connections/{conn.pk}/test/",
        "/connections/new/procore/",
    ):
        assert client.post(url).status_code == 403, url
    assert 'href="/connections/"' not in page_text(client.get("/"))


def test_integration_admin_sees_the_nav_entry(client, integration_admin):
    client.force_login(integration_admin)
    assert 'href="/connections/"' in page_text(client.get("/"))


# -- the banner -----------------------------------------------------------------------------------


def test_banner_on_every_page_for_admins_when_a_connection_needs_reauth(
    client, integration_admin, project_manager
):
    healthy = make_procore(name="Procore", status=ConnectionStatus.OK)
    client.force_login(integration_admin)
    assert "needs attention" not in page_text(client.get("/"))

    broken = make_quickbooks()
    Connection.objects.filter(pk=broken.pk).update(
        status=ConnectionStatus.NEEDS_REAUTH, status_reason="invalid_grant"
    )
    for url in ("/", "/connections/", f"/connections/{healthy.pk}/"):
        html = page_text(client.get(url))
        assert "A connection needs attention" in html, url
        assert f'href="/connections/#connection-{broken.pk}">Reconnect</a>' in html
        assert "needs re-authorisation: invalid_grant" in html

    client.force_login(project_manager)
    assert "needs attention" not in page_text(client.get("/"))


def test_healthz_ignores_connections(client):
    make_procore(status=ConnectionStatus.NEEDS_REAUTH)
    body = client.get("/healthz").json()
    assert set(body["checks"]) == {"database", "broker", "cluster", "cache"}


# -- the Connection admin -------------------------------------------------------------------------


def test_admin_never_shows_secrets_or_tokens_and_can_mark_reauth(client, integration_admin):
    conn = make_procore(status=ConnectionStatus.OK)
    token = '{"access_token": "eyJ-access-1234567890", "refresh_token": "rt-abcdefgh12"}'
    Connection.objects.filter(pk=conn.pk).update(token_encrypted=token)
    client.force_login(integration_admin)

    listing = page_text(client.get("/admin/sync/connection/?status__exact=ok"))
    change = page_text(client.get(f"/admin/sync/connection/{conn.pk}/change/"))

    assert "Procore" in listing
    for html in (listing, change):
        assert DEMO_CLIENT_SECRET not in html
        assert "eyJ-access-1234567890" not in html and "rt-abcdefgh12" not in html
    assert f"client_secret: ••••••••{DEMO_CLIENT_SECRET[-4:]}" in change
    assert 'name="directions"' in change and 'name="policies"' in change

    response = client.post(
        "/admin/sync/connection/",
        {"action": "mark_needs_reauth", "_selected_action": [str(conn.pk)]},
        follow=True,
    )
    assert "1 connection(s) marked as needing re-authorisation" in page_text(response)
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.NEEDS_REAUTH and "ia" in conn.status_reason


def test_transport_seam_is_none_in_production():
    from sync import clients

    assert clients.auth_transport() is None
