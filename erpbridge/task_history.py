"""Keep django-q2's history of successful tasks bounded.

django-q2 can prune it itself (``save_limit`` N), but does so after *every* task by loading the
N newest successes whole, pickled arguments and results included, to count them; with sync
batches as arguments that was 35-45 % of a busy cluster's CPU (django_q/monitor.py,
``save_task``). So ``save_limit`` is 0 (django-q2 keeps everything) and this prune, run by the
recovery job every few minutes, deletes all but the newest ``ERPBRIDGE_TASK_HISTORY``
successes by id, reading no payloads. Failures are never pruned: they are what an admin
looks at.
"""

from __future__ import annotations

from django.conf import settings
from django_q.models import Success, Task

CHUNK = 500  # ids per DELETE: well under every backend's parameter limit


def task_history_prune(keep: int | None = None) -> int:
    """Delete the successful tasks older than the newest ``keep``; returns how many went."""
    if keep is None:
        keep = settings.ERPBRIDGE_TASK_HISTORY
    old = list(Success.objects.order_by("-stopped", "-id").values_list("id", flat=True)[keep:])
    deleted = 0
    for start in range(0, len(old), CHUNK):
        deleted += Task.objects.filter(success=True, id__in=old[start : start + CHUNK]).delete()[0]
    return deleted
