"""Writes for the owner's pages: revoking a connected app, registering an app."""

from __future__ import annotations

from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken


@transaction.atomic
def connected_app_revoke(*, user, application_id: int) -> int:
    """Take back every token and pending code ``user`` gave the application; returns tokens revoked.

    Access tokens are deleted (they stop working on the next request), refresh tokens are
    revoked so they cannot mint new ones.
    """
    revoked = 0
    for refresh in RefreshToken.objects.filter(user=user, application_id=application_id, revoked__isnull=True):
        refresh.revoke()  # also deletes its access token
        revoked += 1
    deleted, _ = AccessToken.objects.filter(user=user, application_id=application_id).delete()
    Grant.objects.filter(user=user, application_id=application_id).delete()
    return revoked + deleted


def oauth_application_register(
    *, user, name: str, redirect_uris: list[str], client_type: str
) -> tuple[Application, str | None]:
    """Register an authorization-code application owned by ``user``.

    Returns the application and, for a confidential client, its secret: stored hashed, so this
    is the only time anyone sees it.
    """
    secret = generate_client_secret() if client_type == Application.CLIENT_CONFIDENTIAL else None
    application = Application.objects.create(
        user=user,
        name=name,
        client_type=client_type,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirect_uris),
        client_secret=secret or "",
        skip_authorization=False,
    )
    return application, secret
