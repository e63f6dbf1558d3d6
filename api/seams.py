"""Where the API calls a service another part of the product owns, in one place.

Each function is a thin pass-through so the API and the pages share one service; when the
owning module grows (or moves), only this file follows.
"""

from __future__ import annotations

from sync.models import Connection


def sync_now_request(
    *, actor, connection: Connection, object_type: str, procore_id: str, full: bool
) -> str:
    """The "Sync now" / "Full resync" buttons' service (sync.triggers)."""
    from sync.triggers import sync_now_request

    return sync_now_request(
        connection_id=connection.pk, object_type=object_type, procore_id=procore_id, full=full
    )
