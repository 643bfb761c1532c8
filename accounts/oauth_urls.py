"""The OAuth 2 endpoints we serve, under /o/.

The toolkit's own application and token pages are left out: owners and developers use ours
(``accounts.urls``), which apply our redirect-URI rule.
"""

from django.urls import path

from accounts import brute_force, oauth

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", oauth.CheckedAuthorizationView.as_view(), name="authorize"),
    # The three that check client secrets answer a 429 while an address or a client guesses them.
    path("token/", brute_force.ThrottledTokenView.as_view(), name="token"),
    path("revoke_token/", brute_force.ThrottledRevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", brute_force.ThrottledIntrospectView.as_view(), name="introspect"),
]
