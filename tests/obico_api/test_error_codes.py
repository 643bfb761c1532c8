"""One error vocabulary (obico_api.errors): every code in one enum, a service's refusal answered by the handler."""

import pytest
from rest_framework import exceptions

from obico_api.api.exceptions import api_exception_handler
from obico_api.api.parsers import PayloadTooLarge
from obico_api.errors import ErrorCode, InvalidInput, ServiceError

# Every DRF exception an API view can end in, and ours: their codes are the enum's too.
API_EXCEPTIONS = [
    exceptions.ValidationError,
    exceptions.ParseError,
    exceptions.AuthenticationFailed,
    exceptions.NotAuthenticated,
    exceptions.PermissionDenied,
    exceptions.NotFound,
    exceptions.MethodNotAllowed,
    exceptions.NotAcceptable,
    exceptions.UnsupportedMediaType,
    exceptions.Throttled,
    PayloadTooLarge,
]


@pytest.mark.parametrize("exception", API_EXCEPTIONS, ids=lambda exception: exception.__name__)
def test_the_code_of_each_exception_an_api_view_can_raise_is_in_the_enum(exception):
    assert exception.default_code in set(ErrorCode)


@pytest.mark.parametrize(
    ("exception", "status", "body"),
    [
        (
            ServiceError("An account may have at most 2 printers.", code=ErrorCode.TOO_MANY_PRINTERS),
            400,
            {"error": "An account may have at most 2 printers.", "code": "too_many_printers"},
        ),
        (
            InvalidInput("The printer is already printing.", code=ErrorCode.ALREADY_PRINTING),
            400,
            {
                "error": "The printer is already printing.",
                "code": "already_printing",
                "details": {"non_field_errors": ["The printer is already printing."]},
            },
        ),
        (
            ServiceError("Failed to perform failure detection.", code=ErrorCode.MODEL_UNAVAILABLE),
            503,
            {"error": "Failed to perform failure detection.", "code": "model_unavailable"},
        ),
    ],
    ids=["a-rule", "invalid-input", "model-unavailable"],
)
def test_a_service_error_is_answered_with_its_codes_status_and_the_specs_body(exception, status, body):
    response = api_exception_handler(exception, {})

    assert response.status_code == status
    assert response.data == body
