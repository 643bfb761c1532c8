"""URL configuration: each app's URLs, included by name (this module imports no app).

The API under /api/v1/, OAuth 2 under /o/, the admin under /admin/, the schema and docs under
/api/schema/ and /api/docs/ (views of the shared plumbing, obico_api.api.views). The probes,
/healthz and /readyz, never reach these: config/health.py answers them first, in MIDDLEWARE.
"""

from django.contrib import admin
from django.urls import include, path, re_path, register_converter

from obico_api.api import views
from obico_api.api.converters import ObjectIdConverter

# Registered before the apps' URL modules are included: they use <id:...>.
register_converter(ObjectIdConverter, "id")

urlpatterns = [
    path("api/v1/", include("printers.urls")),
    path("api/v1/", include("prints.urls")),
    path("api/v1/", include("webhooks.urls")),
    # Generated once per process (views.SchemaApi): it depends on the code alone.
    path("api/schema/", views.SchemaApi.as_view(), name="schema"),
    path("api/docs/", views.SwaggerUi.as_view(url_name="schema"), name="swagger-ui"),
    # Where Swagger UI sends the browser back from /o/authorize/ (its default: beside the UI).
    path("api/docs/oauth2-redirect.html", views.swagger_oauth2_redirect, name="swagger-oauth2-redirect"),
    path("o/", include("accounts.oauth_urls")),
    path("", include("accounts.urls")),
    path("admin/", admin.site.urls),
    # Unknown paths answer JSON even with DEBUG on, where handler404 is not used; this also
    # spares a slashless POST Django's APPEND_SLASH error page.
    re_path(r"^", views.not_found),
]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.not_found
handler500 = views.server_error
