import pytest

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_renders_with_vendored_htmx_and_no_cdn(client):
    response = client.get("/login/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/vendor/htmx.min.js" in page
    assert "https://" not in page and "//unpkg" not in page and "cdn" not in page.lower()


def test_login_then_home_shows_the_role(client, controller):
    response = client.post("/login/", {"username": "ctrl", "password": TEST_PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == "/"
    page = response.content.decode()
    assert "Controller" in page
    assert "Sign out" in page


def test_wrong_password_is_refused(client, controller):
    response = client.post("/login/", {"username": "ctrl", "password": "wrong"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert 'role="alert"' in response.content.decode()


def test_login_returns_to_the_page_asked_for(client, controller):
    first = client.get("/")
    assert first.status_code == 302
    assert first["Location"] == "/login/?next=/"

    response = client.post("/login/?next=/", {"username": "ctrl", "password": TEST_PASSWORD})

    assert response["Location"] == "/"


def test_login_refuses_to_redirect_off_site(client, controller):
    response = client.post(
        "/login/",
        {"username": "ctrl", "password": TEST_PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/"


def test_logout_is_post_only_and_ends_the_session(client, controller):
    client.force_login(controller)

    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_user_without_role_is_told_so(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="norole"))

    assert "You have no role yet" in client.get("/").content.decode()


def test_htmx_request_carries_csrf_header_setup(client, controller):
    client.force_login(controller)

    page = client.get("/").content.decode()

    assert 'hx-headers=\'{"X-CSRFToken": "' in page


def test_static_files_are_served(client):
    response = client.get("/static/vendor/htmx.min.js")

    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body.startswith(b"var htmx=")
