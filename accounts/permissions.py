"""Scope checks shared by every API view: each view declares the scope of each of its methods.

    class PrinterListApi(APIView):
        required_scopes = {"GET": [READ], "POST": [WRITE]}

A method a view does not declare (HEAD, OPTIONS, or one it does not serve and answers 405 to) needs
``read`` if it is safe and ``write`` otherwise, as the toolkit's ``TokenHasReadWriteScope`` would.
drf-spectacular reads the same ``get_scopes`` for each operation's ``security``.
"""

from oauth2_provider.contrib.rest_framework import TokenHasScope
from oauth2_provider.settings import oauth2_settings
from rest_framework.permissions import SAFE_METHODS

READ = oauth2_settings.READ_SCOPE
WRITE = oauth2_settings.WRITE_SCOPE


class _DeclaredScope(TokenHasScope):
    """The toolkit's scope check on the view's declared scopes, with a 403 message that names them."""

    def get_scopes(self, request, view) -> list[str]:
        declared = getattr(view, "required_scopes", {})
        method = "GET" if request.method == "HEAD" else request.method
        if method in declared:
            return list(declared[method])
        return [READ if request.method in SAFE_METHODS else WRITE]

    def has_scope(self, request, view) -> bool:
        if super().has_permission(request, view):
            return True
        needed = " ".join(self.get_scopes(request, view))
        self.message = f"This token lacks the '{needed}' scope this request needs."
        return False


class UserTokenHasScope(_DeclaredScope):
    """A user's OAuth token with the scope the method needs.

    Client-credentials tokens carry no user, so they are refused: printers belong to people.
    """

    def has_permission(self, request, view) -> bool:
        if request.auth is not None and request.user is None:
            self.message = "This token is not tied to a user; use the authorization-code flow."
            return False
        return self.has_scope(request, view)


class AppTokenHasScope(_DeclaredScope):
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
