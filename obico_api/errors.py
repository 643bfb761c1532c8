"""The API's error vocabulary: every ``code`` an error body carries, and the exception services raise.

A service that refuses a request raises ``ServiceError`` (or ``InvalidInput``) with a sentence for
people and an ``ErrorCode`` for programs; the API's exception handler
(``obico_api.api.exceptions.api_exception_handler``) turns it into the status and the spec's body,
once for all. Plain Python, no Django: any module may import it (HackSoft's ``core/exceptions.py``,
Saleor's ``error_codes.py``).

The pure core (``detection.image``, ``detection.region``) keeps its own ``ValueError``s: they say
what is wrong with some bytes or numbers, not which field of which request they came from, so the
API turns them into a field's error where it names the field (predict's ``img``, the ``roi``
serializer field).
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every code an error body carries, grouped by the status it comes with.

    DRF's own exceptions bring theirs (``default_code``); a test holds them to this list.
    """

    # 400
    INVALID = "invalid"  # a field's value, with details; DRF's ValidationError
    ALREADY_PRINTING = "already_printing"  # start_print on a printing printer
    PRINTER_PRINTING = "printer_printing"  # deleting a printing printer
    TOO_MANY_PRINTERS = "too_many_printers"  # PRINTERS_MAX_PER_USER reached
    PARSE_ERROR = "parse_error"  # a body that is not JSON (DRF)
    BAD_REQUEST = "bad_request"  # Django refused the request as suspicious
    TOO_MANY_FIELDS = "too_many_fields"  # DATA_UPLOAD_MAX_NUMBER_FIELDS
    TOO_MANY_FILES = "too_many_files"  # DATA_UPLOAD_MAX_NUMBER_FILES
    # 401
    NOT_AUTHENTICATED = "not_authenticated"  # no bearer token (DRF)
    INVALID_TOKEN = "invalid_token"  # noqa: S105 (a code, not a secret): an unknown, expired or revoked token
    AUTHENTICATION_FAILED = "authentication_failed"  # DRF's, for a malformed credential
    # 403
    PERMISSION_DENIED = "permission_denied"  # the token lacks the scope, or belongs to no user (DRF)
    INVALID_SIGNATURE = "invalid_signature"  # a snapshot link's signature is wrong or expired
    # 404, 405, 406
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    # 413, 415, 429
    TOO_LARGE = "too_large"  # a body or a JSON document over its limit
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    # 500, 503
    SERVER_ERROR = "server_error"  # our fault, logged
    MODEL_UNAVAILABLE = "model_unavailable"  # the detector cannot be loaded or run
    DATABASE_UNAVAILABLE = "database_unavailable"


class ServiceError(Exception):
    """A service refused the request: ``message`` for people, ``code`` for programs; nothing was changed.

    The exception handler answers ``{"error": message, "code": code}`` with the code's status
    (``obico_api.api.exceptions.SERVICE_ERROR_STATUS``, 400 unless it says otherwise).
    """

    def __init__(self, message: str, *, code: ErrorCode) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class InvalidInput(ServiceError):
    """The request breaks a rule about its input as a whole (start_print on a printing printer).

    The body adds ``details``: the message under ``non_field_errors``, as for any invalid input.
    """
