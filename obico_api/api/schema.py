"""OpenAPI pieces shared by the apps: the error body and the errors each kind of call can answer."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The spec's error body, with a machine-readable code and, for validation, per-field details."""

    error = serializers.CharField(help_text="A sentence for humans.")
    code = serializers.CharField(
        help_text="A stable machine-readable code, e.g. `invalid`, `already_printing`, `not_found`, `invalid_token`."
    )
    details = serializers.DictField(
        required=False,
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Only on a 400 for invalid input: each field's messages (a nested field by its path, such as "
        "`roi.x1`), and those about the request as a whole (such as `already_printing`) under `non_field_errors`.",
    )


class ErrorSerializerScheme(OpenApiSerializerExtension):
    """The error body closed to other keys, so a client (and schemathesis) may rely on exactly these."""

    target_class = ErrorSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


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
