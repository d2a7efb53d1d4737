from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Stable, index-friendly paging: `?cursor=` from `next`, page size by `?limit=` (≤ 500)."""

    ordering = "-id"
    page_size_query_param = "limit"
    max_page_size = 500
