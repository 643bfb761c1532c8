"""JSON answers for requests that never reach an API view, the OpenAPI schema's view and Swagger UI's redirect page."""

import logging
import threading
from typing import ClassVar

from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponse, JsonResponse
from django.templatetags.static import static
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from obico_api.api.exceptions import error_body, suspicious_request_error
from obico_api.errors import ErrorCode

logger = logging.getLogger(__name__)


@csrf_exempt  # an unknown URL is a 404 whatever the method, not a CSRF 403
def not_found(request, exception=None, **kwargs):
    """404 for unknown URLs, in JSON whatever DEBUG says."""
    return JsonResponse(error_body("Not found.", code=ErrorCode.NOT_FOUND), status=404)


def server_error(request):
    """500 outside the API views (their own handler covers them)."""
    return JsonResponse(error_body("Internal server error.", code=ErrorCode.SERVER_ERROR), status=500)


def bad_request(request, exception=None):
    """400 outside the API views: Django's answer to a ``SuspiciousOperation`` there.

    Sign-in, consent and the OAuth endpoints read form bodies through Django, so too many fields
    or files end here; they get the same body as the API gives them.
    """
    if isinstance(exception, SuspiciousOperation):
        status, body = suspicious_request_error(exception)
        return JsonResponse(body, status=status)
    return JsonResponse(error_body("Bad request.", code=ErrorCode.BAD_REQUEST), status=400)


def permission_denied(request, exception=None):
    return JsonResponse(error_body("Permission denied.", code=ErrorCode.PERMISSION_DENIED), status=403)


# Swagger UI's script that takes the authorization code back to the UI that opened the sign-in popup.
SWAGGER_OAUTH2_REDIRECT_SCRIPT = "drf_spectacular_sidecar/swagger-ui-dist/oauth2-redirect.js"


def swagger_oauth2_redirect(request):
    """Swagger UI's OAuth 2 redirect page, at its default address beside the UI (``/api/docs/``).

    The sidecar's own oauth2-redirect.html, with its script from the static files. Served here rather
    than redirected to /static/ (drf-spectacular's SpectacularSwaggerOauthRedirectView): the popup hands
    the code to ``window.opener``, which the browser keeps only while every page of the popup answers the
    opener's Cross-Origin-Opener-Policy (``SwaggerUi``), and static files skip the middleware that sets it
    under runserver.
    """
    page = format_html(
        '<!doctype html>\n<html lang="en-US">\n<body>\n<script src="{}"></script>\n</body>\n</html>\n',
        static(SWAGGER_OAUTH2_REDIRECT_SCRIPT),
    )
    return HttpResponse(page, content_type="text/html; charset=utf-8")


class SwaggerUi(SpectacularSwaggerView):
    """Swagger UI, with the site's Cross-Origin-Opener-Policy (same-origin) instead of drf-spectacular's unsafe-none.

    Its OAuth 2 popup goes through our own sign-in and consent pages, which answer same-origin: a popup
    whose pages answer another policy than its opener's loses ``window.opener``, and the redirect page could
    then never hand the code back (the popup stayed open, the UI never authorized).
    """

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        del response.headers["Cross-Origin-Opener-Policy"]  # SecurityMiddleware then sets the site's
        return response


class SchemaApi(SpectacularAPIView):
    """The OpenAPI schema, generated once per process and rendered once per format.

    It depends on the code alone (public: every endpoint, whoever asks), yet generating and
    rendering it for each anonymous request cost about one predict of CPU (issue 23). So it is
    served from memory, as one bytes string per renderer (YAML or JSON). ``?lang``, ``?version`` and
    media-type parameters such as ``indent`` are ignored: the API has one language and one version,
    and a cache keyed on what clients send would grow with whatever they send.
    """

    _schema: ClassVar[dict | None] = None
    _rendered: ClassVar[dict[type, bytes]] = {}  # renderer class -> its rendering of _schema
    _lock = threading.Lock()

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        renderer = request.accepted_renderer
        with self._lock:
            if SchemaApi._schema is None:
                # No request: nothing in the schema depends on one.
                generator = self.generator_class(urlconf=self.urlconf, patterns=self.patterns)
                SchemaApi._schema = generator.get_schema(request=None, public=self.serve_public)
            if type(renderer) not in self._rendered:
                self._rendered[type(renderer)] = renderer.render(SchemaApi._schema, renderer.media_type)
            content = self._rendered[type(renderer)]
        content_type = f"{renderer.media_type}; charset={renderer.charset}" if renderer.charset else renderer.media_type
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="{self._get_filename(request, None)}"'
        return response
