"""OAuth 2 policy: the authorization-code flow (with PKCE) and refresh tokens, nothing weaker;
redirect URIs over https, or plain http only back to this computer (RFC 8252 native apps)."""

from urllib.parse import urlsplit

from oauth2_provider.oauth2_validators import OAuth2Validator

from accounts.token_cache import access_token_load

# RFC 9700 (OAuth 2.0 Security BCP): the implicit and the password grants must not be used.
REFUSED_GRANT_TYPES = frozenset({"password"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` may not be a redirect URI, or None when it may.

    https anywhere; http only to a loopback address, where a local development server or a
    native app listens and nothing crosses a network.
    """
    parts = urlsplit(uri)
    if not parts.scheme or not parts.hostname:
        return f"{uri} is not an absolute URL."
    if parts.fragment:
        return f"{uri} must not contain a fragment (#)."
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    return f"{uri} must use https (plain http is allowed only for 127.0.0.1, [::1] or localhost)."


class CodeFlowOnlyValidator(OAuth2Validator):
    """Refuses the implicit and password grants even for an application registered with them,
    and redirect URIs that break our https-or-loopback rule even if an admin registered them;
    lets confidential authorization-code apps also use the client-credentials grant."""

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

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        if redirect_uri_problem(redirect_uri):
            return False
        return super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs)
