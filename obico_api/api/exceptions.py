"""One error body everywhere, the spec's own: ``{"error": "sentence"}`` plus ``code`` and ``details``."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler, set_rollback

from obico_api.errors import ErrorCode, InvalidInput, ServiceError

logger = logging.getLogger(__name__)

# The status of a service's refusal (obico_api.errors.ServiceError) by its code; any other code is a 400.
SERVICE_ERROR_STATUS = {ErrorCode.MODEL_UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE}


def error_body(message: str, *, code: str, details: Any = None) -> dict[str, Any]:
    """The JSON body of every error response."""
    body: dict[str, Any] = {"error": message, "code": code}
    if details is not None:
        body["details"] = details
    return body


def suspicious_request_error(exc: SuspiciousOperation) -> tuple[int, dict[str, Any]]:
    """Status and error body for a request Django refuses as suspicious.

    Django raises these while it reads a body (too many fields or files, too many bytes) or
    meets a forged header; they are the client's doing, so a 4xx. Django logs them to
    ``django.security.<name>`` when it answers them itself, and so do we when DRF catches them.
    """
    logging.getLogger(f"django.security.{exc.__class__.__name__}").warning("%s", exc)
    if isinstance(exc, RequestDataTooBig):
        message = f"The request body is larger than the limit of {settings.UPLOAD_MAX_BYTES} bytes."
        return status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, error_body(message, code=ErrorCode.TOO_LARGE)
    if isinstance(exc, TooManyFieldsSent):
        message = f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields."
        return status.HTTP_400_BAD_REQUEST, error_body(message, code=ErrorCode.TOO_MANY_FIELDS)
    if isinstance(exc, TooManyFilesSent):
        message = f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files."
        return status.HTTP_400_BAD_REQUEST, error_body(message, code=ErrorCode.TOO_MANY_FILES)
    return status.HTTP_400_BAD_REQUEST, error_body("Bad request.", code=ErrorCode.BAD_REQUEST)


def service_error_response(exc: ServiceError) -> Response:
    """A service's refusal as the spec's body, with its code's status; the transaction is rolled back."""
    set_rollback()
    details = {api_settings.NON_FIELD_ERRORS_KEY: [exc.message]} if isinstance(exc, InvalidInput) else None
    body = error_body(exc.message, code=exc.code, details=details)
    return Response(body, status=SERVICE_ERROR_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST))


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """Turn every exception raised in an API view into the spec's error body.

    DRF's handler first (it sets the ``WWW-Authenticate`` and ``Retry-After`` headers and
    rolls back the transaction); then our own shape. Anything else is a fault
    of ours: logged with its traceback and answered with a JSON 500, never an HTML page.
    """
    # Services raise ServiceError, selectors Django's Http404: both stay free of DRF.
    if isinstance(exc, ServiceError):
        return service_error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, DjangoValidationError):
        if not hasattr(exc, "error_dict"):
            # A model's rule about the whole object: invalid input, as a service's would be.
            set_rollback()
            details = {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
            body = error_body(exc.messages[0], code=ErrorCode.INVALID, details=details)
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        exc = exceptions.ValidationError(detail=exc.message_dict)
    elif isinstance(exc, SuspiciousOperation):
        # Raised by Django's body parsing inside DRF's request, which knows only its own errors.
        set_rollback()
        status_code, body = suspicious_request_error(exc)
        return Response(body, status=status_code)
    elif isinstance(exc, exceptions.NotAuthenticated):
        # A token was sent and refused (unknown, expired, revoked): say so, as WWW-Authenticate does,
        # rather than "not provided". The bearer authentication leaves oauthlib's verdict on the request.
        oauth2_error = getattr(context.get("request"), "oauth2_error", None) or {}
        challenge = getattr(exc, "auth_header", None)  # put on it by APIView.handle_exception
        if oauth2_error.get("error") == "invalid_token" and challenge:
            refused = exceptions.AuthenticationFailed(oauth2_error["error_description"], code=ErrorCode.INVALID_TOKEN)
            refused.auth_header = challenge
            exc = refused
    response = exception_handler(exc, context)
    if response is None:
        set_rollback()
        if isinstance(exc, (OperationalError, InterfaceError)):
            logger.error("Database unavailable: %s", exc)
            return Response(
                error_body("The database is unavailable; try again shortly.", code=ErrorCode.DATABASE_UNAVAILABLE),
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": "5"},
            )
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return Response(
            error_body("Internal server error.", code=ErrorCode.SERVER_ERROR),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            _first_message(exc.detail), code=ErrorCode.INVALID, details=field_messages(exc.detail)
        )
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes()
        response.data = error_body(str(exc.detail), code=code if isinstance(code, str) else exc.default_code)
    return response


def field_messages(detail: Any) -> dict[str, list[str]]:
    """DRF's validation detail, of any nesting, as the schema's ``details``: field -> its messages.

    A list or a sentence (an error of the whole request) goes under DRF's ``non_field_errors``; a nested
    field is named by its path (``roi.x1``, ``urls.0``), so every value is a flat list of strings.
    """
    if not isinstance(detail, dict):
        detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}
    flat: dict[str, list[str]] = {}

    def collect(value: Any, name: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                collect(inner, f"{name}.{key}")
        elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
            for index, inner in enumerate(value):
                collect(inner, f"{name}.{index}")
        elif isinstance(value, list):
            flat.setdefault(name, []).extend(str(item) for item in value)
        else:
            flat.setdefault(name, []).append(str(value))

    for key, value in detail.items():
        collect(value, str(key))
    return flat


def _first_message(detail: Any, field: str | None = None) -> str:
    """A one-sentence summary of a (possibly nested) validation error, naming the field."""
    if isinstance(detail, dict):
        name, value = next(iter(detail.items()))
        return _first_message(value, None if name == "non_field_errors" else name)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0], field)
    return f"{field}: {detail}" if field else str(detail)
