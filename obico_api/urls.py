"""URL configuration: the API under /api/v1/, OAuth 2 under /o/, the admin under /admin/."""

from django.contrib import admin
from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from obico_api import brute_force, health, oauth
from obico_api.api import views
from obico_api.api.converters import ObjectIdConverter
from webhooks.api import WebhookApi

register_converter(ObjectIdConverter, "id")

# The OAuth 2 endpoints we serve. The toolkit's own application and token pages are left out:
# owners and developers use ours (accounts/), which apply our redirect-URI rule.
oauth_urlpatterns = [
    path("authorize/", oauth.CheckedAuthorizationView.as_view(), name="authorize"),
    # The three that check client secrets answer a 429 while an address or a client guesses them.
    path("token/", brute_force.ThrottledTokenView.as_view(), name="token"),
    path("revoke_token/", brute_force.ThrottledRevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", brute_force.ThrottledIntrospectView.as_view(), name="introspect"),
]

urlpatterns = [
    path("api/v1/printers/", include("printers.urls")),
    path("api/v1/prints/", include("prints.urls")),
    path("api/v1/webhook/", WebhookApi.as_view(), name="webhook"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("o/", include((oauth_urlpatterns, "oauth2_provider"))),
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
