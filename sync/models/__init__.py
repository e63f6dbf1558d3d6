"""The sync engine's models, one module per noun (DESIGN.md §2)."""

from sync.models.binding import Binding
from sync.models.change import PENDING_STATES, Change, ChangeState, Operation
from sync.models.connection import Connection, ConnectionStatus, Kind, OAuthState
from sync.models.cursor import Cursor
from sync.models.exceptions import ACTIVE_STATUSES, ExceptionEvent, ExceptionItem, ItemStatus
from sync.models.limits import LimiterLease, LimiterWindow
from sync.models.lock import FlowLock
from sync.models.runs import Outcome, RunBatch, RunStatus, SyncRun, SyncRunRecord
from sync.models.webhooks import Verdict, WebhookDelivery

__all__ = [
    "ACTIVE_STATUSES",
    "PENDING_STATES",
    "Binding",
    "Change",
    "ChangeState",
    "Connection",
    "ConnectionStatus",
    "Cursor",
    "ExceptionEvent",
    "ExceptionItem",
    "FlowLock",
    "ItemStatus",
    "Kind",
    "LimiterLease",
    "LimiterWindow",
    "OAuthState",
    "Operation",
    "Outcome",
    "RunBatch",
    "RunStatus",
    "SyncRun",
    "SyncRunRecord",
    "Verdict",
    "WebhookDelivery",
]
