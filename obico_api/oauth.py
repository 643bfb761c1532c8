"""OAuth 2 policy: the authorization-code flow (with PKCE) and refresh tokens, nothing weaker."""

from oauth2_provider.oauth2_validators import OAuth2Validator

# RFC 9700 (OAuth 2.0 Security BCP): the implicit and the password grants must not be used.
REFUSED_GRANT_TYPES = frozenset({"password"})


class CodeFlowOnlyValidator(OAuth2Validator):
    """Refuses the implicit and password grants even for an application registered with them."""

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        if response_type != "code":
            return False
        return super().validate_response_type(client_id, response_type, client, request, *args, **kwargs)

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if grant_type in REFUSED_GRANT_TYPES:
            return False
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)
