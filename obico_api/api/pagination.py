"""Pagination of unbounded collections (prints, predictions)."""

from urllib.parse import urlsplit

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class StandardPagination(PageNumberPagination):
    """``?page=N&page_size=M`` with a ``{count, next, previous, results}`` envelope.

    A ``page`` or ``page_size`` that is not a whole number in range is a 400, not silently the
    default; a page past the end is a 404. The ``next`` and ``previous`` links are built on
    ``PUBLIC_BASE_URL``, as every link we hand out, never on the Host the request came with.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    # Nine digits: no collection of ours has a billion pages, and int() of them costs nothing.
    max_page = 999_999_999

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        return _whole_number(raw, name=self.page_size_query_param, maximum=self.max_page_size)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        return _whole_number(raw, name=self.page_query_param, maximum=self.max_page)

    def get_next_link(self) -> str | None:
        return _on_public_base_url(super().get_next_link())

    def get_previous_link(self) -> str | None:
        return _on_public_base_url(super().get_previous_link())

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
            if parameter["name"] == self.page_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page)
        return parameters


def _on_public_base_url(url: str | None) -> str | None:
    """``url``'s path and query under ``PUBLIC_BASE_URL``: DRF builds the link on the request's Host."""
    if url is None:
        return None
    parts = urlsplit(url)
    link = f"{settings.PUBLIC_BASE_URL}{parts.path}"
    if parts.query:
        link = f"{link}?{parts.query}"
    return link


def _whole_number(raw: str, *, name: str, maximum: int) -> int:
    """``raw`` as an int from 1 to ``maximum``, or a 400 naming the parameter.

    ASCII digits only: ``str.isdigit()`` also accepts "²" and other digits ``int()`` refuses, and
    ``int()`` refuses strings of over 4,300 digits; either was a 500. The length is checked first.
    """
    if len(raw) <= len(str(maximum)) and raw.isascii() and raw.isdigit() and 1 <= int(raw) <= maximum:
        return int(raw)
    raise ValidationError({name: [f"Must be a whole number from 1 to {maximum}."]})


def paginated_response(*, request, view, queryset, serializer_class, context: dict | None = None) -> Response:
    """One page of ``queryset`` in the standard envelope; ``context`` is the serializer's."""
    paginator = StandardPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)
