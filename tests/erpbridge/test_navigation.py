import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import override_settings

from erpbridge.navigation import nav_links
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ALL_AREAS = "tests.erpbridge.urls_all_areas"


def labels(user):
    return [link.label for link in nav_links(user)]


@override_settings(ROOT_URLCONF=ALL_AREAS)
def test_each_role_sees_only_its_areas(controller, project_manager, integration_admin):
    assert labels(controller) == ["Exception queue", "Reports"]
    # PMs read their projects' items in the queue; admins can do all a controller can.
    assert labels(project_manager) == ["Exception queue", "Reports"]
    assert labels(integration_admin) == [
        "Exception queue",
        "Reports",
        "Connections",
        "Mappings",
        "Admin",
    ]


@override_settings(ROOT_URLCONF=ALL_AREAS)
def test_user_without_role_and_anonymous_see_nothing():
    assert labels(UserFactory(username="nobody")) == []
    assert labels(AnonymousUser()) == []


@override_settings(ROOT_URLCONF=ALL_AREAS)
def test_admin_entry_needs_staff_even_with_the_role(integration_admin):
    integration_admin.is_staff = False

    assert "Admin" not in labels(integration_admin)


@override_settings(ROOT_URLCONF=ALL_AREAS)
def test_inactive_user_sees_nothing(controller):
    controller.is_active = False

    assert labels(controller) == []


def test_areas_that_do_not_exist_yet_are_hidden(controller, integration_admin):
    # No link may point at a page that is not there (the queue exists since issue 8).
    assert labels(controller) == ["Exception queue", "Reports"]
    assert labels(integration_admin)[:3] == ["Exception queue", "Reports", "Connections"]
    assert labels(integration_admin)[-1] == "Admin"


@override_settings(ROOT_URLCONF=ALL_AREAS)
def test_rendered_menu_matches_the_role(client, project_manager):
    client.force_login(project_manager)

    page = client.get("/").content.decode()

    assert 'href="/reports/"' in page
    assert 'href="/queue/"' in page  # their projects' items, read only
    assert 'href="/connections/"' not in page
    assert 'href="/admin/"' not in page
