"""``connection_alerts``: the connections needing attention, for the banner on every page.

Only users who manage connections get it, and the query runs only when a template reads it.
"""

from django.utils.functional import SimpleLazyObject

from accounts.roles import MANAGE_CONNECTIONS
from sync.selectors import connections_needing_attention


def connection_alerts(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm(MANAGE_CONNECTIONS):
        return {}
    return {"connection_alerts": SimpleLazyObject(connections_needing_attention)}
