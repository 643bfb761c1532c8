"""Pagination of unbounded collections (prints, predictions)."""

from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """``?page=N&page_size=M`` with a ``{count, next, previous, results}`` envelope."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
