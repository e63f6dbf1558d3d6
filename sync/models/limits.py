"""Tables behind the database-backed limiters (used when no REDIS_URL is configured).

The remote limits are per account, so every qcluster worker must see the same counters; with
Redis they live there (connectors.limits.Redis*), otherwise here.
"""

from django.db import models


class LimiterWindow(models.Model):
    """One row per limiter key; its row lock serialises the bookkeeping for that key."""

    key = models.CharField(max_length=200, unique=True)
    paused_until = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return self.key


class LimiterLease(models.Model):
    """One request start (rate windows) or one request in flight (concurrency), per key."""

    window = models.ForeignKey(LimiterWindow, on_delete=models.CASCADE, related_name="leases")
    started_at = models.FloatField()
    expires_at = models.FloatField(db_index=True)
    kind = models.CharField(max_length=10)  # "rate" or "conc"

    class Meta:
        indexes = [models.Index(fields=["window", "kind", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.kind} lease until {self.expires_at:.0f}"
