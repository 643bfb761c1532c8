"""OAuth 2 policy: the authorization-code flow (with PKCE) and refresh tokens, nothing weaker;
redirect URIs over https, or plain http only back to this computer (RFC 8252 native apps);
bearer tokens from the Authorization header only; introspection of a client's own tokens only."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import JsonResponse
from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenMatchesOASRequirements
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import AccessToken, Grant, RefreshToken
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView, IntrospectTokenView
from oauthlib.common import Request as OauthlibRequest
from oauthlib.oauth2.rfc6749 import errors

from accounts.hashers import needs_rehash
from accounts.services import authorization_code_consume, authorization_code_reuse_revoke, client_secret_rehash
from accounts.token_cache import access_token_load

# RFC 9700 (OAuth 2.0 Security BCP): the implicit and the password grants must not be used.
REFUSED_GRANT_TYPES = frozenset({"password"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` may not be a redirect URI, or None when it may.

    https anywhere; http only to a loopback address, where a local development server or a
    native app listens and nothing crosses a network.
    """
    try:
        parts = urlsplit(uri)
        hostname = parts.hostname
        parts.port  # noqa: B018 - read for its check: a port out of 0-65535 or not a number raises
    except ValueError:
        # An unclosed or invalid [IPv6] host, or a bad port: the toolkit would raise on it later.
        return f"{uri} is not a valid URL (check the host and the port)."
    if not parts.scheme or not hostname:
        return f"{uri} is not an absolute URL."
    if parts.fragment or "#" in uri:
        return f"{uri} must not contain a fragment (#)."
    if "@" in parts.netloc:
        # The toolkit never matches a redirect URI with credentials in it (RFC 6749 §3.1.2).
        return f"{uri} must not contain a user name or password."
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    return f"{uri} must use https (plain http is allowed only for 127.0.0.1, [::1] or localhost)."


class CodeFlowOnlyValidator(OAuth2Validator):
    """Refuses the implicit and password grants even for an application registered with them,
    and redirect URIs that break our https-or-loopback rule even if an admin registered them;
    lets confidential authorization-code apps also use the client-credentials grant; stores a
    client secret again with the fast keyed hash when it verifies against an older hash.

    Also: a deactivated user's tokens, codes and refresh tokens stop working at once; of several
    concurrent refreshes of one refresh token only one succeeds; a reused authorization code
    revokes the tokens its first use gave (RFC 6749 §4.1.2).
    """

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        if response_type != "code":
            return False
        return super().validate_response_type(client_id, response_type, client, request, *args, **kwargs)

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if grant_type in REFUSED_GRANT_TYPES:
            return False
        if grant_type == "client_credentials" and client.client_type == client.CLIENT_CONFIDENTIAL:
            # A confidential app may also act as itself (its webhook settings), proving itself
            # with its secret; the toolkit stores one grant type an app, so we allow this here.
            return True
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def _load_access_token(self, token):
        return access_token_load(token, super()._load_access_token)

    def _check_secret(self, provided_secret, stored_secret):
        # The toolkit's check (``check_password`` for a hash, constant-time for a secret kept in
        # clear), then a secret stored before the fast keyed hash, or under an old SECRET_KEY, is
        # stored again: it was just proven, so this is the one moment we know it.
        if not super()._check_secret(provided_secret, stored_secret):
            return False
        if needs_rehash(provided_secret, stored_secret):
            client_secret_rehash(stored=stored_secret, secret=provided_secret)
        return True

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        if redirect_uri_problem(redirect_uri):
            return False
        try:
            return super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs)
        except ValueError:  # an admin-registered URI that cannot be parsed matches nothing
            return False

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        # Used when the request names no redirect_uri; oauthlib does not pass it through
        # validate_redirect_uri, so our rule is applied here (None: an error page, no redirect).
        uri = super().get_default_redirect_uri(client_id, request, *args, **kwargs)
        if uri is None or redirect_uri_problem(uri):
            return None
        return uri

    # --- deactivated users ------------------------------------------------------------------

    def validate_bearer_token(self, token, scopes, request):
        if not super().validate_bearer_token(token, scopes, request):
            return False
        # The token's user came with the token (select_related, or the token cache, which
        # tombstones a user's tokens whenever the user is saved), so this costs no query.
        if request.user is not None and not request.user.is_active:
            request.oauth2_error = {"error": "invalid_token", "error_description": "The access token is invalid."}
            return False
        return True

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        return request.user.is_active  # loaded by the toolkit above

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            # A code we have seen exchanged before was stolen or replayed: take back its tokens.
            authorization_code_reuse_revoke(code=code, application=client)
            return False
        return request.user.is_active  # the grant's user, loaded by the toolkit above

    # --- one refresh per refresh token, one exchange per code ----------------------------------

    def _code_grant(self, code, request):
        """The code's grant, read once per token request.

        The toolkit reads it afresh in each check after ``validate_code``; an exchange of the
        same code that commits in between deletes it, and each read was a DoesNotExist (a 500).
        Gone means used, and that exchange has committed its tokens: revoke them, invalid_grant.
        """
        grant = getattr(request, "code_grant", None)
        if grant is None:
            grant = Grant.objects.filter(code=code, application=request.client).first()
            if grant is None:
                authorization_code_reuse_revoke(code=code, application=request.client)
                raise errors.InvalidGrantError(description="The authorization code was already used.", request=request)
            request.code_grant = grant
        return grant

    def get_code_challenge(self, code, request):
        return self._code_grant(code, request).code_challenge or None

    def get_code_challenge_method(self, code, request):
        return self._code_grant(code, request).code_challenge_method or None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs):
        return self._code_grant(code, request).redirect_uri_allowed(redirect_uri)

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        request.issued_access_token = access_token
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        refresh_token = super()._create_refresh_token(request, refresh_token_code, access_token, previous_refresh_token)
        request.issued_refresh_token = refresh_token
        return refresh_token

    def save_bearer_token(self, token, request, *args, **kwargs):
        try:
            return super().save_bearer_token(token, request, *args, **kwargs)
        except errors.InvalidGrantError:
            # Revoked after the transaction that raised rolled back, and after the winner of
            # the race committed (we waited on its lock), so its tokens are revoked too.
            if getattr(request, "authorization_code_reused", False):
                authorization_code_reuse_revoke(code=request.code, application=request.client)
            if getattr(request, "refresh_token_reused", False):
                RefreshToken.revoke_family(request.refresh_token_instance.token_family)
            raise

    def _save_bearer_token(self, token, request, *args, **kwargs):
        """Runs in the toolkit's transaction; both checks below raise to roll it back."""
        if request.grant_type == "refresh_token":
            self._lock_live_refresh_token(request)
        super()._save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "authorization_code":
            if not authorization_code_consume(
                code=request.code,
                application=request.client,
                access_token=getattr(request, "issued_access_token", None),
                refresh_token=getattr(request, "issued_refresh_token", None),
            ):
                request.authorization_code_reused = True
                raise errors.InvalidGrantError(description="The authorization code was already used.", request=request)
            request.authorization_code_consumed = True

    def _lock_live_refresh_token(self, request) -> None:
        """Lock the refresh token being used and check, under the lock, that it is still live.

        ``validate_refresh_token`` reads it before any transaction, so concurrent refreshes all
        pass it; the toolkit then treats every one after the first as a retry within a grace
        period and answers with the first one's tokens, which under hashed storage it no longer
        has (a blank token, then a DoesNotExist and a 500). Only the first may rotate; the others
        get invalid_grant.

        A loser presented a token that had been rotated by the time it was checked, which is
        reuse, exactly as if it had come a second later: RFC 9700 §4.14.2 has the server revoke
        the active refresh token then, because it "cannot determine which party submitted the
        invalid refresh token". So its family is revoked (``save_bearer_token``), the winner's new
        pair included. The outcome does not depend on how the requests interleave.
        """
        refresh_token = getattr(request, "refresh_token_instance", None)
        if refresh_token is None:
            return
        live = RefreshToken.objects.select_for_update().filter(pk=refresh_token.pk, revoked__isnull=True).first()
        if live is None:
            request.refresh_token_reused = oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION
            raise errors.InvalidGrantError(description="The refresh token was already used.", request=request)

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        if getattr(request, "authorization_code_consumed", False):
            return  # already deleted in the transaction that saved its tokens
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)


# --- the consent form ---------------------------------------------------------------------------


class CheckedAuthorizationView(AuthorizationView):
    """The toolkit's consent view: always shown, and checking the posted answer as strictly as the page.

    The toolkit validates the request when it shows the page, but on Deny it redirects to
    whatever ``redirect_uri`` the form posts back, unchecked (a malformed one was a 500). The
    posted fields are validated again first: a bad client or redirect URI is the error page.
    """

    def get(self, request, *args, **kwargs):
        # The toolkit skips the page when the request says approval_prompt=auto and the user has a
        # live token of the app with these scopes: any page could then send the signed-in owner here
        # and the app would get a code without a click. The consent page is always shown.
        request.GET = request.GET.copy()
        request.GET["approval_prompt"] = "force"
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        return super().post(request, *args, **kwargs)


# --- bearer tokens from the Authorization header only ------------------------------------------


class HeaderOnlyOAuthLibCore(OAuthLibCore):
    """The toolkit's request wrapper, blind to the request body.

    oauthlib takes a token from an ``access_token`` form field when there is no Authorization
    header (RFC 6750 §2.2 allows it; RFC 9700 and our README do not). Reading no body also keeps
    authentication from parsing an unauthenticated upload.
    """

    def extract_body(self, request):
        return []


class HeaderOnlyOAuth2Authentication(OAuth2Authentication):
    """DRF authentication with a bearer token from the ``Authorization`` header and nowhere else.

    The query string is refused by the toolkit (``COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT``),
    the body by :class:`HeaderOnlyOAuthLibCore`; a request without the header is not looked at.
    """

    def authenticate(self, request):
        if request is None or "HTTP_AUTHORIZATION" not in request.META:
            return None
        try:
            valid, oauthlib_request = HeaderOnlyOAuthLibCore().verify_request(request, scopes=[])
        except ValueError as error:
            if str(error) == "Invalid hex encoding in query string.":
                raise SuspiciousOperation(error) from error
            raise
        if valid:
            return oauthlib_request.user, oauthlib_request.access_token
        request.oauth2_error = getattr(oauthlib_request, "oauth2_error", {})
        return None


# The schema's two ways to send the same bearer token: the OAuth 2 code flow (Swagger UI runs it) and a
# plain HTTP bearer scheme, where a token already in hand (manage.py demo_token's) is pasted.
OAUTH2_SCHEME = "oauth2"
BEARER_SCHEME = "bearer"


class HeaderOnlyOAuth2Scheme(DjangoOAuthToolkitScheme):
    """drf-spectacular's OAuth 2 scheme (flows, scopes per operation) for our subclass, with the bearer beside it."""

    target_class = HeaderOnlyOAuth2Authentication
    name = [OAUTH2_SCHEME, BEARER_SCHEME]

    def get_security_requirement(self, auto_schema):
        view = auto_schema.view
        # Every API view's permission is one of accounts.permissions' TokenMatchesOASRequirements subclasses:
        # each alternative set of scopes is one OAuth 2 requirement, and the bearer scheme is the other way in.
        for permission in view.get_permissions():
            if isinstance(permission, TokenMatchesOASRequirements):
                alternatives = permission.get_required_alternate_scopes(view.request, view)[auto_schema.method]
                return [*({OAUTH2_SCHEME: scopes} for scopes in alternatives), {BEARER_SCHEME: []}]
        return None

    def get_security_definition(self, auto_schema):
        bearer = {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token already in hand (from /o/token/, or `manage.py demo_token`); "
            "it needs the scope the operation's oauth2 requirement names.",
        }
        return [super().get_security_definition(auto_schema), bearer]


# --- introspection ----------------------------------------------------------------------------


class OwnTokenIntrospectView(IntrospectTokenView):
    """RFC 7662 introspection for confidential clients, about their own tokens only.

    Any other token is ``{"active": false}``, as RFC 7662 §2.2 suggests for a token the caller may
    not see, so the answer tells nothing about another app's tokens or users. Clients listed in
    ``OAUTH_INTROSPECTION_CLIENT_IDS`` (resource servers) may introspect every token. The token
    comes in a POST body only (§2.1), never a URL; a deactivated user's token is inactive.
    """

    http_method_names = ["post", "options"]

    def authenticate_client(self, request):
        """Basic or body client credentials of a confidential client; remembers which one."""
        core = self.get_oauthlib_core()
        uri, http_method, body, headers = core._extract_params(request)
        oauthlib_request = OauthlibRequest(uri, http_method, body, headers)
        if not core.server.request_validator.authenticate_client(oauthlib_request):
            return False
        client = oauthlib_request.client
        # A public client "authenticates" with its (public) id and an empty secret: refused.
        if client.client_type != client.CLIENT_CONFIDENTIAL:
            return False
        request.introspecting_client = client
        return True

    def verify_request(self, request):
        # The toolkit would also take a bearer token with an `introspection` scope; we issue
        # no such scope, so clients authenticate with their credentials.
        return False, None

    def unauthenticated_response(self, request, oauthlib_request=None):
        return JsonResponse(
            {"error": "invalid_client", "error_description": "A confidential client's credentials are required."},
            status=401,
            headers={"WWW-Authenticate": 'Basic realm="oauth"'},
        )

    def post(self, request, *args, **kwargs):
        token_value = request.POST.get("token")
        if token_value is not None and not self._may_see(request.introspecting_client, token_value):
            return JsonResponse({"active": False})
        return self.get_token_response(token_value)

    @staticmethod
    def _may_see(client, token_value: str) -> bool:
        """Whether ``client`` may learn about this token: its own app's, or any for a resource server."""
        token = (
            AccessToken.objects.select_related("user")
            .filter(token_checksum=hashlib.sha256(token_value.encode("utf-8")).hexdigest())
            .first()
        )
        if token is None or (token.user is not None and not token.user.is_active):
            return False
        return token.application_id == client.pk or client.client_id in settings.OAUTH_INTROSPECTION_CLIENT_IDS
