"""Scope checks shared by every API view, the toolkit's way (``TokenMatchesOASRequirements``).

Each view declares, for each method it serves, the alternative sets of scopes that let a token in:

    class PrinterListApi(APIView):
        required_alternate_scopes = {"GET": [[READ]], "POST": [[WRITE]]}

The check fails closed. A method the view serves but does not declare (OPTIONS, DRF's metadata, is
served by every view and declared by none) is refused whatever the token's scopes; a view without the
attribute raises the toolkit's ``ImproperlyConfigured``, and ``accounts.checks`` makes both an error
at start-up (``migrate`` and ``check`` run it). Two rules on top of the toolkit's: HEAD needs what GET
needs, since Django answers it with the GET handler; and a method the view has no handler for is let
through to DRF's 405, since nothing stands behind it. drf-spectacular reads the same declaration for
each operation's ``security`` (``accounts.oauth.HeaderOnlyOAuth2Scheme``).
"""

from oauth2_provider.contrib.rest_framework import TokenMatchesOASRequirements
from oauth2_provider.settings import oauth2_settings

READ = oauth2_settings.READ_SCOPE
WRITE = oauth2_settings.WRITE_SCOPE


def view_serves(view, method: str) -> bool:
    """Whether ``view`` has a handler for ``method``, as ``APIView.dispatch`` looks it up."""
    name = method.lower()
    return name in view.http_method_names and hasattr(view, name)


class _DeclaredScopes(TokenMatchesOASRequirements):
    """The toolkit's check of the view's ``required_alternate_scopes``, with a 403 message that names them."""

    def get_required_alternate_scopes(self, request, view) -> dict[str, list[list[str]]]:
        declared = super().get_required_alternate_scopes(request, view)
        if "GET" in declared and "HEAD" not in declared:
            return {**declared, "HEAD": declared["GET"]}
        return declared

    def has_scope(self, request, view) -> bool:
        alternatives = self.get_required_alternate_scopes(request, view).get(request.method)
        if alternatives is None and request.auth is not None and not view_serves(view, request.method):
            return True  # DRF answers 405, as for any caller with a token
        if super().has_permission(request, view):
            return True
        if alternatives is None:
            self.message = f"This endpoint declares no scope for {request.method}, so no token may use it."
        else:
            needed = "' or '".join(" ".join(scopes) for scopes in alternatives)
            self.message = f"This token lacks the '{needed}' scope this request needs."
        return False


class UserTokenHasScope(_DeclaredScopes):
    """A user's OAuth token with the scope the method needs.

    Client-credentials tokens carry no user, so they are refused: printers belong to people.
    """

    def has_permission(self, request, view) -> bool:
        if request.auth is not None and request.user is None:
            self.message = "This token is not tied to a user; use the authorization-code flow."
            return False
        return self.has_scope(request, view)


class AppTokenHasScope(_DeclaredScopes):
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
