"""The exception queue's daily digest to controllers: new, ageing past the SLA, resolved (by
a person / automatically), and what is open by reason. Sent through Django's email backend
(the console in the demo) by the ``sync.jobs.send_queue_digest`` job, scheduled daily.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.mail import send_mass_mail
from django.db.models import Count, Q
from django.utils import timezone

from accounts import roles
from sync.models import ACTIVE_STATUSES, ExceptionItem, ItemStatus
from sync.queue_selectors import sla_hours_by_connection
from sync.reasons import REASONS


@dataclass
class Digest:
    new: int = 0
    ageing: int = 0
    resolved_by_people: int = 0
    resolved_automatically: int = 0
    rejected: int = 0
    open_by_reason: list[tuple[str, int]] = field(default_factory=list)

    def text(self, queue_url: str = "") -> str:
        lines = [
            "Exception queue, the last 24 hours:",
            "",
            f"  new items:                 {self.new}",
            f"  past their SLA (ageing):   {self.ageing}",
            f"  resolved by a person:      {self.resolved_by_people}",
            f"  resolved automatically:    {self.resolved_automatically}",
            f"  rejected:                  {self.rejected}",
            "",
            "Waiting now, by reason:",
        ]
        lines += [f"  {title}: {n}" for title, n in self.open_by_reason] or ["  nothing"]
        if queue_url:
            lines += ["", f"Open the queue: {queue_url}"]
        return "\n".join(lines) + "\n"


def queue_digest(*, now=None) -> Digest:
    now = now or timezone.now()
    since = now - timedelta(days=1)
    late = Q(pk__in=[])
    for connection_id, hours in sla_hours_by_connection().items():
        late |= Q(connection_id=connection_id, opened_at__lte=now - timedelta(hours=hours))
    active = ExceptionItem.objects.filter(status__in=ACTIVE_STATUSES)
    closed = ExceptionItem.objects.filter(resolved_at__gte=since)
    by_reason = active.order_by().values_list("reason_code").annotate(n=Count("pk"))
    return Digest(
        new=ExceptionItem.objects.filter(opened_at__gte=since).count(),
        ageing=active.filter(late).count(),
        resolved_by_people=closed.filter(status=ItemStatus.RESOLVED).count(),
        resolved_automatically=closed.filter(status=ItemStatus.AUTO_RESOLVED).count(),
        rejected=closed.filter(status=ItemStatus.REJECTED).count(),
        open_by_reason=sorted(
            ((REASONS[c].title if c in REASONS else c, n) for c, n in by_reason),
            key=lambda r: (-r[1], r[0]),
        ),
    )


def digest_recipients() -> list[str]:
    """Active users holding the queue permission (through a role or directly), with email."""
    app_label, codename = roles.WORK_EXCEPTION_QUEUE.split(".")
    perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    users = get_user_model().objects.filter(
        Q(groups__permissions__in=perm) | Q(user_permissions__in=perm) | Q(is_superuser=True),
        is_active=True,
    )
    return sorted({u.email for u in users.exclude(email="")})


def queue_digest_send(*, now=None, queue_url: str = "") -> int:
    """Email the digest to every controller; returns how many emails went out."""
    now = now or timezone.now()
    digest = queue_digest(now=now)
    subject = f"[erpbridge] Exception queue digest {now:%Y-%m-%d}"
    body = digest.text(queue_url)
    messages = [(subject, body, None, [email]) for email in digest_recipients()]
    return send_mass_mail(messages, fail_silently=False) if messages else 0
