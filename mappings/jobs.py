"""django-q2 jobs (scheduled and queued by dotted path; renaming one needs a migration)."""

from __future__ import annotations

from mappings.services.reference import reference_cache_refresh as _refresh


def reference_cache_refresh(connection_id: int) -> dict[str, int]:
    """Re-read the reference lists of one connection; idempotent."""
    return _refresh(connection_id=connection_id)
