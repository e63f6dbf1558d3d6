"""The checks behind GET /healthz. Each returns a dict with at least {"ok": bool}.

A check never raises and never reports an exception's message (it may carry a host name or a
URL); the log gets the exception's type, the response gets a short fixed description.
"""

import logging

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.db.models import Min
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import OrmQ
from django_q.status import Stat

logger = logging.getLogger(__name__)


def check_database() -> dict:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return _down("database", exc, "database unreachable")
    return {"ok": True, "vendor": connections["default"].vendor}


def check_broker() -> dict:
    """The django-q2 ORM broker: its queue table answers a query."""
    try:
        broker = get_broker()
        queued = broker.queue_size()
    except Exception as exc:
        return _down("broker", exc, "task queue table unreachable")
    return {"ok": True, "queued": queued}


def check_cluster() -> dict:
    """At least one qcluster has sent a heartbeat recently.

    Clusters store their status in the shared cache with a 3-second lifetime, refreshed
    continuously; no status means no cluster is processing tasks, which is "down": sync jobs,
    schedules and webhooks would queue up and nothing would run them.
    """
    try:
        stats = Stat.get_all()
    except Exception as exc:
        return _down("cluster", exc, "cluster status unavailable")
    if not stats:
        return {"ok": False, "clusters": 0, "detail": "no qcluster is running"}
    result = {
        "ok": True,
        "clusters": len(stats),
        "workers": sum(len(getattr(stat, "workers", [])) for stat in stats),
    }
    waited = oldest_wait_seconds()
    limit = getattr(settings, "ERPBRIDGE_HEALTH_MAX_TASK_WAIT", 900)
    if waited is not None and waited > limit:
        # A heartbeat alone is not enough: a worker SIGKILLed while it waited for a task can
        # leave its cluster beating but taking nothing (django-q2 issue #23). A task waiting
        # this long means no worker takes tasks (or the backlog outgrew the workers).
        result.update(
            ok=False,
            oldest_wait_s=int(waited),
            detail=f"a task has waited {int(waited)} s for a worker: restart the qcluster",
        )
    return result


def oldest_wait_seconds() -> float | None:
    """How long the longest-waiting task of the ORM broker has been ready to run (its lock is
    its enqueue time or the moment its lease ran out); ``None`` when nothing waits."""
    try:
        now = timezone.now()
        oldest = OrmQ.objects.filter(lock__lte=now).aggregate(oldest=Min("lock"))["oldest"]
    except Exception as exc:
        logger.warning("healthz: task wait unavailable (%s)", type(exc).__name__)
        return None
    return None if oldest is None else (now - oldest).total_seconds()


def check_cache() -> dict:
    cache = caches["default"]
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    try:
        cache.set("healthz:probe", "1", timeout=10)
        if cache.get("healthz:probe") != "1":
            return {"ok": False, "backend": backend, "detail": "cache lost a value"}
    except Exception as exc:
        return {**_down("cache", exc, "cache unreachable"), "backend": backend}
    return {"ok": True, "backend": backend}


CHECKS = {
    "database": check_database,
    "broker": check_broker,
    "cluster": check_cluster,
    "cache": check_cache,
}


def run_checks() -> dict:
    results = {name: check() for name, check in CHECKS.items()}
    return {"ok": all(result["ok"] for result in results.values()), "checks": results}


def _down(name: str, exc: Exception, detail: str) -> dict:
    logger.warning("healthz: %s check failed (%s)", name, type(exc).__name__)
    return {"ok": False, "detail": detail}
