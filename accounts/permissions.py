"""Scope checks shared by every API view: ``read`` for safe methods, ``write`` for the rest."""

from oauth2_provider.contrib.rest_framework import TokenHasReadWriteScope
from oauth2_provider.settings import oauth2_settings
from rest_framework.permissions import SAFE_METHODS


class _ReadWriteScope(TokenHasReadWriteScope):
    """The toolkit's read/write check, with a 403 message that names the missing scope."""

    def has_scope(self, request, view) -> bool:
        if super().has_permission(request, view):
            return True
        needed = oauth2_settings.READ_SCOPE if request.method in SAFE_METHODS else oauth2_settings.WRITE_SCOPE
        self.message = f"This token lacks the '{needed}' scope this request needs."
        return False


class UserTokenHasReadWriteScope(_ReadWriteScope):
    """A user's OAuth token with the scope the method needs.

    Client-credentials tokens carry no user, so they are refused: printers belong to people.
    """

    def has_permission(self, request, view) -> bool:
        if request.auth is not None and request.user is None:
            self.message = "This token is not tied to a user; use the authorization-code flow."
            return False
        return self.has_scope(request, view)


class AppTokenHasReadWriteScope(_ReadWriteScope):
    """A confidential application's own token (client-credentials grant, no user) with the scope.

    Used for settings that belong to the app rather than to one of its users, such as its
    webhook: a user's token, which may live on that user's device, cannot redirect every
    user's events.
    """

    message = "This endpoint needs the application's own client-credentials token."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if token is None or request.user is not None:
            return False
        if token.application.client_type != token.application.CLIENT_CONFIDENTIAL:
            return False
        return self.has_scope(request, view)
