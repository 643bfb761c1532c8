"""Scope checks shared by every API view."""

from oauth2_provider.contrib.rest_framework import TokenHasReadWriteScope
from oauth2_provider.settings import oauth2_settings
from rest_framework.permissions import SAFE_METHODS


class UserTokenHasReadWriteScope(TokenHasReadWriteScope):
    """A user's OAuth token with ``read`` for safe methods and ``write`` for everything else.

    Client-credentials tokens carry no user, so they are refused: printers belong to people.
    """

    message = "This token does not grant the scope this request needs."

    def has_permission(self, request, view) -> bool:
        if request.auth is not None and request.user is None:
            self.message = "This token is not tied to a user; use the authorization-code flow."
            return False
        if not super().has_permission(request, view):
            needed = oauth2_settings.READ_SCOPE if request.method in SAFE_METHODS else oauth2_settings.WRITE_SCOPE
            self.message = f"This token lacks the '{needed}' scope this request needs."
            return False
        return True
