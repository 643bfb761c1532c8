"""Request guards that must act before Django reads a body, and after a view that did not read it."""

from contextlib import suppress

from django.conf import settings
from django.http import JsonResponse, UnreadablePostError

from obico_api.api.exceptions import error_body
from obico_api.errors import ErrorCode


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
            return JsonResponse(error_body("Invalid Content-Length header.", code=ErrorCode.BAD_REQUEST), status=400)
        digits = declared.lstrip("0")
        if len(digits) > len(str(settings.UPLOAD_MAX_BYTES)) or int(digits or 0) > settings.UPLOAD_MAX_BYTES:
            message = f"The request body is larger than the limit of {settings.UPLOAD_MAX_BYTES} bytes."
            return JsonResponse(error_body(message, code=ErrorCode.TOO_LARGE), status=413)
        return self.get_response(request)


class UnreadBodyDrainMiddleware:
    """Read to its end, and drop, a body the view left unread (a 401, a 429, a JSON body over its limit).

    gunicorn discards at most 64 KiB of a body left unread after the answer; past that it closes the
    connection with the rest unread, and the kernel then resets it. nginx, still sending the body or
    not yet reading our answer, turned that reset into its own 502 instead of our answer (issue 23: 16
    of 200 unauthenticated 570 KB uploads). The body is at most ``UPLOAD_MAX_BYTES``: this runs after
    ``RequestSizeLimitMiddleware``, which refuses larger ones from their Content-Length, and Django's
    stream stops at the Content-Length. It is read in chunks, so it never sits in memory whole.
    """

    CHUNK_BYTES = 64 * 1024

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A client that hangs up mid-body leaves nothing to drain; the answer goes nowhere anyway.
        with suppress(UnreadablePostError):
            while request.read(self.CHUNK_BYTES):
                pass
        return response
