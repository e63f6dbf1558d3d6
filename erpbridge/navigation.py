"""The site navigation: one registry, filtered per user.

An entry shows when its URL name resolves (the area exists in this build) and the user holds
its permission. Later issues add their area by adding its URL; the entry is already here, so
the menu never links to a page that does not exist.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from accounts import roles


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    # One permission, or a tuple of which any one is enough.
    permission: str | tuple[str, ...] | None = None
    staff_only: bool = False

    def allows(self, user) -> bool:
        if not user.is_authenticated or not user.is_active:
            return False
        if self.staff_only and not user.is_staff:
            return False
        if self.permission is None:
            return True
        wanted = (self.permission,) if isinstance(self.permission, str) else self.permission
        return any(user.has_perm(name) for name in wanted)


NAV_ENTRIES = (
    # Project managers see their projects' items there, read only.
    NavEntry(
        "Exception queue",
        "exceptions_ui:queue",
        (roles.WORK_EXCEPTION_QUEUE, roles.VIEW_REPORTS),
    ),
    # Who may open the reports (reconciliation.report_selectors.can_view): PMs their projects,
    # controllers and integration admins every project.
    NavEntry(
        "Reports",
        "exceptions_ui:reports",
        (roles.VIEW_REPORTS, roles.WORK_EXCEPTION_QUEUE, roles.MANAGE_CONNECTIONS),
    ),
    NavEntry("Connections", "sync:connections", roles.MANAGE_CONNECTIONS),
    NavEntry("Sync runs", "sync:runs", roles.MANAGE_CONNECTIONS),
    NavEntry("Mappings", "mappings:index", roles.MANAGE_MAPPINGS),
    NavEntry("Admin", "admin:index", staff_only=True),
)


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str


def nav_links(user, entries=NAV_ENTRIES) -> list[NavLink]:
    links = []
    for entry in entries:
        if not entry.allows(user):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        links.append(NavLink(entry.label, url))
    return links


def user_roles(user) -> list[str]:
    if not user.is_authenticated:
        return []
    return sorted(
        user.groups.filter(name__in=roles.ROLE_PERMISSIONS).values_list("name", flat=True)
    )


def navigation(request) -> dict:
    """Template context processor: `nav_links` for the base layout."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    return {"nav_links": nav_links(user)}
