"""The successful-task history is pruned by id (erpbridge.task_history), not by django-q2."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Task

from erpbridge.task_history import task_history_prune
from sync.jobs import recover_stale_changes

pytestmark = pytest.mark.django_db


def task(n: int, *, success: bool = True) -> Task:
    stopped = timezone.now() - timedelta(minutes=100 - n)  # a higher n finished later
    return Task.objects.create(
        id=f"{'ok' if success else 'ko'}{n:030d}",
        name=f"task-{n}",
        func="sync.jobs.sync_batch",
        args=(n, "commitments", ["a large batch of sources"]),
        result={"synced": n},
        started=stopped - timedelta(seconds=5),
        stopped=stopped,
        success=success,
    )


def test_keeps_the_newest_successes_and_every_failure():
    for n in range(10):
        task(n)
    for n in range(4):
        task(n, success=False)

    assert task_history_prune(keep=3) == 7

    kept = set(Task.objects.filter(success=True).values_list("name", flat=True))
    assert kept == {"task-7", "task-8", "task-9"}
    assert Task.objects.filter(success=False).count() == 4
    assert task_history_prune(keep=3) == 0  # nothing more to do


def test_the_recovery_job_prunes_to_the_configured_history(settings):
    settings.ERPBRIDGE_TASK_HISTORY = 2
    for n in range(5):
        task(n)

    counts = recover_stale_changes()

    assert counts["tasks_pruned"] == 3
    assert sorted(Task.objects.values_list("name", flat=True)) == ["task-3", "task-4"]
