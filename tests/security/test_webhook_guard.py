"""/webhooks/ refuses oversized bodies and floods before any webhook view runs, and says
nothing in the refusal."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


@override_settings(ERPBRIDGE_WEBHOOK_MAX_BYTES=100)
def test_a_body_over_the_limit_is_413_and_says_nothing(client):
    response = client.post("/webhooks/procore/1/", data="x" * 101, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {}


@override_settings(ERPBRIDGE_WEBHOOK_RATE_PER_MINUTE=3)
def test_a_flood_from_one_address_is_429_with_retry_after(client):
    answers = [
        client.post("/webhooks/procore/1/", data="{}", content_type="application/json")
        for _ in range(4)
    ]

    assert all(r.status_code != 429 for r in answers[:3])
    assert answers[3].status_code == 429 and answers[3].json() == {}
    assert 0 < int(answers[3]["Retry-After"]) <= 60
    other = client.post(
        "/webhooks/procore/1/", data="{}", content_type="application/json", REMOTE_ADDR="10.0.0.9"
    )
    assert other.status_code != 429


def test_other_paths_are_not_limited(client):
    with override_settings(ERPBRIDGE_WEBHOOK_MAX_BYTES=1):
        assert client.post("/login/", {"username": "a", "password": "b"}).status_code != 413
