"""A short-lived cache of bearer-token lookups, so most API calls skip the token query.

It is on only with a cache every worker shares (``CACHE_URL=redis://...``): a token that is
revoked, deleted or changed leaves a tombstone there, so every worker stops honouring it at the
moment its transaction commits, exactly as without the cache. Expiry and scopes are still checked on
every request (django-oauth-toolkit's ``is_valid`` runs on the cached token). A cached token carries
a copy of its user; saving the user (deactivating them, say) tombstones their tokens, so the
validator's ``is_active`` check never reads a stale copy.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from oauth2_provider.models import get_access_token_model

AccessToken = get_access_token_model()

# Written over a changed or deleted token's entry; a lookup seeing it goes to the database and
# caches nothing until it expires.
TOMBSTONE = "changed"


def _key(token_checksum: str) -> str:
    return f"access-token:{token_checksum}"


def access_token_load(token: str, load_from_database):
    """The access token for a bearer ``token`` (or None), from the cache when it is there.

    ``load_from_database(token)`` is django-oauth-toolkit's own lookup. Only tokens that exist are
    cached, so an unknown token costs a query every time, as before.
    """
    seconds = settings.ACCESS_TOKEN_CACHE_SECONDS
    if not seconds:
        return load_from_database(token)
    key = _key(hashlib.sha256(token.encode("utf-8")).hexdigest())
    cached = cache.get(key)
    if cached is not None and cached != TOMBSTONE:
        return cached
    access_token = load_from_database(token)
    if access_token is not None and cached is None:
        # add, not set: a tombstone written since our read (the token was revoked while we read
        # it) must win, or the revoked token would live on here until the entry expired.
        cache.add(key, access_token, timeout=seconds)
    return access_token


@receiver(post_save, sender=AccessToken, dispatch_uid="access_token_cache_on_save")
@receiver(post_delete, sender=AccessToken, dispatch_uid="access_token_cache_on_delete")
def access_token_forget(sender, instance, created: bool = False, **kwargs) -> None:
    """A token was revoked, deleted or changed: no worker may serve it from the cache again.

    A new token needs nothing: lookups of tokens that did not exist were never cached.
    """
    if settings.ACCESS_TOKEN_CACHE_SECONDS and instance.token_checksum and not created:
        cache.set(_key(instance.token_checksum), TOMBSTONE, timeout=settings.ACCESS_TOKEN_CACHE_SECONDS)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="access_token_cache_on_user_save")
def user_access_tokens_forget(sender, instance, created: bool = False, update_fields=None, **kwargs) -> None:
    """A user was saved, perhaps deactivated: no worker may serve their tokens' cached copies.

    Each cached token holds the user as it was; the next lookup reads the user afresh. Saves
    that name their fields and leave ``is_active`` alone (a sign-in's ``last_login``) skip the
    query. A bulk ``QuerySet.update(is_active=False)`` sends no signal: cached tokens then live
    on until their entry expires (``ACCESS_TOKEN_CACHE_SECONDS``).
    """
    seconds = settings.ACCESS_TOKEN_CACHE_SECONDS
    if not seconds or created or (update_fields is not None and "is_active" not in update_fields):
        return
    checksums = AccessToken.objects.filter(user=instance).values_list("token_checksum", flat=True)
    cache.set_many({_key(checksum): TOMBSTONE for checksum in checksums if checksum}, timeout=seconds)
