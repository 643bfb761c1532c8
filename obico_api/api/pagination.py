"""Pagination of unbounded collections (prints, predictions)."""

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class StandardPagination(PageNumberPagination):
    """``?page=N&page_size=M`` with a ``{count, next, previous, results}`` envelope."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def paginated_response(*, request, view, queryset, serializer_class) -> Response:
    """One page of ``queryset`` in the standard envelope."""
    paginator = StandardPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
