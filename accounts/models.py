"""What the OAuth toolkit does not keep: which tokens each authorization code was exchanged for."""

from django.conf import settings
from django.db import models


class UsedAuthorizationCode(models.Model):
    """An authorization code that was exchanged, and the tokens it gave.

    The toolkit deletes a code's grant when the code is used, so a second use would only be
    refused. RFC 6749 §4.1.2 asks the server to also revoke the tokens of the first use (the code
    leaked: one of the two callers is not the app); this row is how we find them. It holds the
    code's SHA-256, never the code.
    """

    code_hash = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE)
    # Every refresh token rotated from the first one shares this family, so revoking the family
    # takes back the tokens refreshed from the code too.
    token_family = models.UUIDField(null=True)
    access_token = models.ForeignKey(
        settings.OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"Used authorization code #{self.pk}"
