from types import SimpleNamespace
from unittest import mock

import pytest
from django.db import OperationalError
from django_q.brokers.orm import ORM

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster_running():
    """A qcluster's heartbeat, as Stat.get_all() returns it from the shared cache."""
    stat = SimpleNamespace(cluster_id="c1", workers=[101, 102])
    with mock.patch("erpbridge.health.Stat.get_all", return_value=[stat]):
        yield


def test_all_up_is_200_with_every_check(client, cluster_running):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "cluster", "cache"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["cluster"] == {"ok": True, "clusters": 1, "workers": 2}
    assert body["checks"]["broker"]["queued"] == 0
    assert "no-cache" in response["Cache-Control"]


def test_no_cluster_running_is_down_and_says_so(client):
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["cluster"] == {
        "ok": False,
        "clusters": 0,
        "detail": "no qcluster is running",
    }
    assert body["checks"]["database"]["ok"] is True


def test_real_cluster_heartbeat_in_the_shared_cache_counts_as_up(client):
    """The heartbeat path without mocks: a Stat stored the way a cluster's sentinel does."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.signing import SignedPackage
    from django_q.status import Stat

    stat = Stat.__new__(Stat)
    stat.__dict__.update(cluster_id="heartbeat-test", workers=[1], broker=None)
    broker = get_broker()
    key = Stat.get_key("heartbeat-test")
    broker.set_stat(key, SignedPackage.dumps(stat, True), 30)
    try:
        body = client.get("/healthz").json()
    finally:
        # A Redis cache is not rolled back with the test's transaction.
        broker.cache.delete_many([key, Conf.Q_STAT])

    assert body["checks"]["cluster"] == {"ok": True, "clusters": 1, "workers": 1}


def test_database_down_is_503(client, cluster_running):
    from django.db import connections

    with mock.patch.object(
        type(connections["default"]), "cursor", side_effect=OperationalError("no route")
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "detail": "database unreachable"}


def test_broker_down_is_503_without_leaking_the_error(client, cluster_running):
    with mock.patch.object(ORM, "queue_size", side_effect=OperationalError("password=hunter2")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
    assert "hunter2" not in response.content.decode()


def test_cache_down_is_503(client, cluster_running):
    from django.core.cache import caches

    with mock.patch.object(
        type(caches["default"]), "set", side_effect=ConnectionError("redis gone")
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["ok"] is False


def test_healthz_is_public_and_read_only(client, cluster_running):
    assert client.get("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_a_cluster_that_beats_but_takes_no_task_is_down(client, cluster_running, settings):
    """django-q2 issue #23: a worker killed while waiting can freeze its cluster with the
    heartbeat still up. A task left waiting past the limit turns the cluster check red."""
    from datetime import timedelta

    from django.utils import timezone
    from django_q.models import OrmQ

    settings.ERPBRIDGE_HEALTH_MAX_TASK_WAIT = 600
    OrmQ.objects.create(key="erpbridge", payload="x", lock=timezone.now() - timedelta(minutes=5))
    assert client.get("/healthz").status_code == 200  # waiting, but not for long

    OrmQ.objects.create(key="erpbridge", payload="y", lock=timezone.now() - timedelta(hours=1))
    response = client.get("/healthz")
    assert response.status_code == 503
    cluster = response.json()["checks"]["cluster"]
    assert cluster["ok"] is False and cluster["oldest_wait_s"] >= 3600
    assert "restart the qcluster" in cluster["detail"]
