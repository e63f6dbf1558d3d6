"""SyncRun: one execution of a flow, with counts and one outcome row per record."""

from __future__ import annotations

from django.db import models
from django.db.models import JSONField, Value

from sync.models.change import Change
from sync.models.connection import Connection


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    LOCKED = "locked", "Skipped: another run holds the lock"


class Outcome(models.TextChoices):
    SYNCED = "synced", "Synced"
    QUEUED = "queued", "Waiting in the queue"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class SyncRun(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="runs")
    object_type = models.CharField(max_length=40)
    procore_id = models.CharField(max_length=64, blank=True, default="")
    trigger = models.CharField(max_length=30, default="manual")
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The last time the run recorded records or queued a batch: a run that stays "running"
    # with no progress for longer than a task can be retried was cut short by a dead worker
    # (sync.services.runs.runs_close_interrupted).
    progressed_at = models.DateTimeField(null=True, blank=True)
    # A fanned-out run (sync.services.batches): when its fetch had queued every batch. Until
    # then ``total`` is still growing, so a batch finding done == total does not close it.
    fetched_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    synced = models.PositiveIntegerField(default=0)
    queued = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    # What the run found worth saying that is not an error: a poll that found changes no
    # webhook had delivered, a full resync that bound existing ERP documents.
    note = models.TextField(blank=True, default="")
    missed_by_webhooks = models.PositiveIntegerField(default=0)
    # "Sync now" for every flow: the flows that start once this fanned-out run has succeeded,
    # in order (sync.services.batches.sync_flows). Its batches run on other workers, so the
    # next flow is started by whichever of them closes the run, not by the task that began it.
    # (db_default on both: workers still running the previous release insert runs without them)
    then_flows = models.JSONField(default=list, db_default=Value([], JSONField()), blank=True)
    # A poll run in batches (sync.polling): when it succeeds, the flow's cursor moves to
    # ``cursor_to`` (the newest change it was given), or for a full pass to the newest record
    # Procore then holds; until then the next poll of the flow waits for it.
    moves_cursor = models.BooleanField(default=False, db_default=False)
    cursor_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["connection", "object_type", "started_at"])]

    def __str__(self) -> str:
        return f"{self.object_type} run {self.pk} ({self.status})"

    def counts(self) -> dict[str, int]:
        return {o.value: getattr(self, o.value) for o in Outcome}


class SyncRunRecord(models.Model):
    """One record's outcome in a run: one narrow row each, so a run's history can be paged
    and filtered ("what failed?") with an index instead of parsing a large JSON blob."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="records")
    procore_id = models.CharField(max_length=64)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    change = models.ForeignKey(
        Change, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["run", "outcome"])]

    def __str__(self) -> str:
        return f"{self.procore_id}: {self.outcome}"


class RunBatch(models.Model):
    """A fanned-out run's batch of Procore records waiting for its task (sync.services.batches):
    the task carries only this row's id. Carried in the task itself, a batch (pickled, about
    225 KB for 50 commitments) was signed, pickled, copied and stored four or five times on its
    way through django-q2 (enqueue, pusher, worker, monitor, the task history): measured
    2026-12-05, about 40 % of a busy cluster's CPU, and the history kept a copy of every one.
    Deleted once the batch has recorded its records; a row still here belongs to a batch that
    has not finished, or never will (``runs_close_interrupted`` removes those with their run's
    close)."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="batches")
    object_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    # pickle of list[Source]: written and read only by this application, in its own database,
    # as django-q2 itself stores task arguments.
    sources = models.BinaryField()
    queued_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"batch {self.pk} of run {self.run_id} ({self.size} records)"
