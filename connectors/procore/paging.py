"""Procore paging helpers (reference §2) and the ``filters[updated_at]`` range (§7.4)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

# Page size. §2: current docs "recommend keeping per_page at or below 2,000"; the older docs'
# hard maximum is 10,000 (the sandbox's clamp). We take the documented recommendation as the
# largest size the endpoints allow in practice (bigger pages risk 408 timeouts on the real
# service, §4) and let a connection lower or raise it with settings["per_page"].
DEFAULT_PER_PAGE = 2000
# Endpoints with their own documented maximum (§2).
ENDPOINT_MAX_PER_PAGE = {"/rest/v1.1/projects": 300}
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([a-z]+)"?')


def updated_range(
    updated_since: datetime | None = None,
    updated_between: tuple[datetime | None, datetime | None] | None = None,
    *,
    now: Callable[[], float] = time.time,
) -> str | None:
    """``filters[updated_at]=<start>...<end>`` (§7.4); ISO 8601 UTC with ``Z``."""
    if updated_between is None and updated_since is None:
        return None
    start, end = updated_between if updated_between is not None else (updated_since, None)

    def fmt(moment: datetime | None) -> str:
        if moment is None:
            return ""
        if moment.tzinfo is None:
            raise ValueError("updated_since/updated_between need aware datetimes")
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    if end is None:
        # §7.4 documents only closed ranges: "now" (+1 min of slack for clock skew) closes it.
        end = datetime.fromtimestamp(now() + 60, tz=UTC)
    return f"{fmt(start)}...{fmt(end)}"


def next_link(header: str | None) -> str | None:
    for url, rel in _LINK.findall(header or ""):
        if rel == "next":
            return url
    return None


def has_more(response: httpx.Response, page: int, per_page: int, count: int) -> bool:
    link = response.headers.get("Link")
    if link is not None and "rel=" in link:
        return next_link(link) is not None
    total = response.headers.get("Total")
    served = response.headers.get("Per-Page")
    if total and total.isdigit():
        size = int(served) if served and served.isdigit() else per_page
        return page * size < int(total)
    return count >= per_page and count > 0
