"""JSON answers for requests that never reach an API view."""

import logging

from django.core.exceptions import SuspiciousOperation
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from obico_api.api.exceptions import error_body, suspicious_request_error

logger = logging.getLogger(__name__)


@csrf_exempt  # an unknown URL is a 404 whatever the method, not a CSRF 403
def not_found(request, exception=None, **kwargs):
    """404 for unknown URLs, in JSON whatever DEBUG says."""
    return JsonResponse(error_body("Not found.", code="not_found"), status=404)


def server_error(request):
    """500 outside the API views (their own handler covers them)."""
    return JsonResponse(error_body("Internal server error.", code="server_error"), status=500)


def bad_request(request, exception=None):
    """400 outside the API views: Django's answer to a ``SuspiciousOperation`` there.

    Sign-in, consent and the OAuth endpoints read form bodies through Django, so too many fields
    or files end here; they get the same body as the API gives them.
    """
    if isinstance(exception, SuspiciousOperation):
        status, body = suspicious_request_error(exception)
        return JsonResponse(body, status=status)
    return JsonResponse(error_body("Bad request.", code="bad_request"), status=400)


def permission_denied(request, exception=None):
    return JsonResponse(error_body("Permission denied.", code="permission_denied"), status=403)
