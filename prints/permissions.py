"""Who may fetch an alert's snapshot: its owner's token, or anyone holding its signed link."""

from rest_framework.exceptions import PermissionDenied

from accounts.permissions import UserTokenHasScope, view_serves
from obico_api.errors import ErrorCode
from prints.signing import SIGNATURE_PARAMETER, alert_snapshot_signature_valid


class UserTokenOrSignedSnapshotLink(UserTokenHasScope):
    """With a token, the token's rules (a user's, with the scope; the view then checks the owner).

    Without one, a ``signature`` made for this alert (``view.kwargs["alert_id"]``) that has not
    expired: the link the alert's JSON and webhook carry, for apps and the people they notify to
    open without a token. An invalid, expired or another alert's signature is a 403: a credential
    was presented and refused, and no bearer token would make that link work. No token and no
    signature is the API's usual 401 with the bearer challenge. A valid link opens what the view
    declares (GET, and HEAD with it), fails closed on a method it serves but does not declare
    (OPTIONS: 403), and leaves a method it does not serve to DRF's 405.
    """

    invalid_link = "The snapshot link is invalid or has expired."

    def has_permission(self, request, view) -> bool:
        if request.auth is not None:
            return super().has_permission(request, view)
        signature = request.query_params.get(SIGNATURE_PARAMETER)
        if signature is None:
            return False  # DRF answers 401 with the bearer challenge: nobody authenticated
        if not alert_snapshot_signature_valid(alert_id=view.kwargs["alert_id"], signature=signature):
            raise PermissionDenied(self.invalid_link, code=ErrorCode.INVALID_SIGNATURE)
        if request.method in self.get_required_alternate_scopes(request, view) or not view_serves(view, request.method):
            return True
        raise PermissionDenied(f"The snapshot link does not open {request.method} requests.")
