from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    """Opaque cursors over a unique ordering: page N costs what page 1 costs, and rows
    added while a client pages are neither skipped nor repeated."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-pk"


class Ascending(Cursor):
    ordering = "pk"
