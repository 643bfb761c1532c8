"""Writes for the owner's pages (revoking a connected app, registering an app), owners' accounts, and
the OAuth bookkeeping the toolkit lacks (which tokens an authorization code gave, client secrets re-hashed)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken
from oauth2_provider.settings import oauth2_settings

from accounts.models import UsedAuthorizationCode


@transaction.atomic
def owner_create(*, username: str, email: str, password: str):
    """Create an ordinary printer owner: active, not staff, signing in with ``password``.

    Raises Django's ``ValidationError`` and writes nothing for a username that is taken or invalid,
    an invalid email, or a password that ``AUTH_PASSWORD_VALIDATORS`` refuse.
    """
    owner = get_user_model()(username=username, email=email)
    owner.full_clean(exclude=["password"])  # the username's rules and uniqueness, the email's format
    validate_password(password, owner)
    owner.set_password(password)
    owner.save()
    return owner


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


def client_secret_rehash(*, stored: str, secret: str) -> bool:
    """Store ``secret``, just verified against ``stored``, with the client-secret hasher and the current key.

    The toolkit checks a secret without naming its application, so the row is found by its stored
    hash, which is salted and so one application's. That also makes it a compare-and-swap: a secret
    replaced meanwhile is left alone. Returns whether a row changed.
    """
    rehashed = make_password(secret, hasher=oauth2_settings.CLIENT_SECRET_HASHER)
    return bool(Application.objects.filter(client_secret=stored).update(client_secret=rehashed))


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def authorization_code_consume(
    *, code: str, application, access_token: AccessToken, refresh_token: RefreshToken | None
) -> bool:
    """Use up ``code`` for the tokens just minted from it; False if it was already used.

    Call inside the transaction that saved the tokens, and roll it back on False. Deleting the
    grant row is what serialises two exchanges of one code: the second waits on the first's row
    lock and then deletes nothing. The record of the code's tokens is kept as long as a refresh
    token may live, so a replay long after still revokes them; older records go on each use.
    """
    deleted, _ = Grant.objects.filter(code=code, application=application).delete()
    if not deleted:
        return False
    UsedAuthorizationCode.objects.create(
        code_hash=_code_hash(code),
        application=application,
        access_token=access_token,
        token_family=refresh_token.token_family if refresh_token is not None else None,
    )
    keep = timedelta(seconds=oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS)
    UsedAuthorizationCode.objects.filter(created__lt=timezone.now() - keep).delete()
    return True


def authorization_code_reuse_revoke(*, code: str, application) -> bool:
    """``code`` was presented again: revoke every token its first use gave (RFC 6749 §4.1.2).

    That is its access token and its refresh token's whole family, so tokens refreshed from
    it go too. Returns whether the code had been used (False for a code never exchanged).
    """
    used = UsedAuthorizationCode.objects.filter(code_hash=_code_hash(code), application=application).first()
    if used is None:
        return False
    with transaction.atomic():
        if used.token_family is not None:
            RefreshToken.revoke_family(used.token_family)
        if used.access_token_id is not None:
            # Deleted one by one (not a bare UPDATE) so the token cache's signal tombstones it.
            AccessToken.objects.filter(pk=used.access_token_id).delete()
    return True
