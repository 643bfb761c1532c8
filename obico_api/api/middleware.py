"""Request guards that must act before Django reads a body."""

from django.conf import settings
from django.http import JsonResponse

from obico_api.api.exceptions import error_body


class RequestSizeLimitMiddleware:
    """Refuse bodies over ``UPLOAD_MAX_BYTES`` with a JSON 413, from the Content-Length alone.

    A Content-Length that is not a plain number is a 400 here, before anything reads the body.

    Django caps form fields (``DATA_UPLOAD_MAX_MEMORY_SIZE``) but not file uploads, so without this
    a client could stream any amount of data into a predict.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH") or "0"
        # RFC 9110 §8.6: 1*DIGIT. int() would also take "-1" (Django then reads no body at all),
        # " 12", "1_0" and non-ASCII digits, and refuses over 4,300 digits with a ValueError.
        if not (declared.isascii() and declared.isdigit()):
            return JsonResponse(error_body("Invalid Content-Length header.", code="bad_request"), status=400)
        digits = declared.lstrip("0")
        if len(digits) > len(str(settings.UPLOAD_MAX_BYTES)) or int(digits or 0) > settings.UPLOAD_MAX_BYTES:
            message = f"The request body is larger than the limit of {settings.UPLOAD_MAX_BYTES} bytes."
            return JsonResponse(error_body(message, code="too_large"), status=413)
        return self.get_response(request)
