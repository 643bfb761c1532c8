"""Request guards that must act before Django reads a body."""

from django.conf import settings
from django.http import JsonResponse

from obico_api.api.exceptions import error_body


class RequestSizeLimitMiddleware:
    """Refuse bodies over ``UPLOAD_MAX_BYTES`` with a JSON 413, from the Content-Length alone.

    Django caps form fields (``DATA_UPLOAD_MAX_MEMORY_SIZE``) but not file uploads, so without this
    a client could stream any amount of data into a predict.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(error_body("Invalid Content-Length header.", code="bad_request"), status=400)
        if length > settings.UPLOAD_MAX_BYTES:
            message = f"The request body is larger than the limit of {settings.UPLOAD_MAX_BYTES} bytes."
            return JsonResponse(error_body(message, code="too_large"), status=413)
        return self.get_response(request)
