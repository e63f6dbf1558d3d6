"""FlowLock: a lease per connection and flow, so two overlapping runs never both write.

Taken by a conditional UPDATE (``holder = '' OR expires_at < now``), not a transaction-long
row lock: a run lasts minutes and makes network calls, and a worker killed mid-run must not
hold the flow forever (the lease expires; live runs renew it as they go).
"""

from __future__ import annotations

from django.db import models

from sync.models.connection import Connection


class FlowLock(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    flow = models.CharField(max_length=40)
    holder = models.CharField(max_length=64, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "flow"], name="flowlock_unique")
        ]

    def __str__(self) -> str:
        return f"lock {self.flow} on {self.connection_id}: {self.holder or 'free'}"
