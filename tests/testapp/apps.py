from django.apps import AppConfig


class TestappConfig(AppConfig):
    """Models that exist only in the test database, to exercise shared fields."""

    name = "tests.testapp"
    label = "testapp"
