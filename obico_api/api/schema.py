"""OpenAPI pieces shared by the apps: the error body and the errors each kind of call can answer."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The spec's error body, with a machine-readable code and, for validation, per-field details."""

    error = serializers.CharField(help_text="A sentence for humans.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. `invalid`, `not_found`.")
    details = serializers.DictField(
        required=False, help_text="Per-field messages of a validation error.", child=serializers.JSONField()
    )


ERROR_DESCRIPTIONS = {
    400: "Invalid input; nothing was changed.",
    401: "No token, or an unknown, expired or revoked one (`WWW-Authenticate: Bearer`).",
    403: "The token lacks the scope, or belongs to no user.",
    404: "Not found, or not the caller's.",
    405: "Method not allowed.",
    413: "The request body is over the upload limit.",
    415: "Unsupported content type.",
    429: "Too many requests (`Retry-After`).",
    503: "A dependency is unavailable; nothing was changed.",
}


def error_responses(*statuses: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """``{status: OpenApiResponse(ErrorSerializer)}`` for ``extend_schema(responses=...)``.

    Every authenticated, rate-limited call can answer 401, 403 and 429, so they are always included.
    """
    overrides = {int(key.removeprefix("s")): text for key, text in descriptions.items()}
    return {
        status: OpenApiResponse(ErrorSerializer, description=overrides.get(status, ERROR_DESCRIPTIONS[status]))
        for status in sorted({401, 403, 429, *statuses})
    }
