"""Reads for the owner's pages: the apps an owner has connected, the apps a developer registered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken
from oauth2_provider.settings import oauth2_settings


@dataclass(frozen=True)
class ConnectedApp:
    """An application holding live access to the owner's account."""

    application_id: int
    name: str
    scope_descriptions: list[str]
    granted_at: datetime


def connected_app_list(*, user) -> list[ConnectedApp]:
    """Applications with an unexpired access token or an unrevoked refresh token of ``user``.

    ``granted_at`` is the oldest such token's creation: when the owner (last) allowed the app.
    """
    now = timezone.now()
    live_refresh = RefreshToken.objects.filter(user=user, revoked__isnull=True)
    tokens = (
        AccessToken.objects.filter(user=user)
        .filter(Q(expires__gt=now) | Q(pk__in=live_refresh.values("access_token")))
        .select_related("application")
        .order_by("created")
    )
    scopes = oauth2_settings.SCOPES
    apps: dict[int, dict] = {}
    for token in tokens:
        entry = apps.setdefault(
            token.application_id, {"name": token.application.name, "scopes": set(), "granted_at": token.created}
        )
        entry["scopes"].update(token.scope.split())
    for refresh in live_refresh.select_related("application").order_by("created"):
        apps.setdefault(
            refresh.application_id, {"name": refresh.application.name, "scopes": set(), "granted_at": refresh.created}
        )
    return [
        ConnectedApp(
            application_id=app_id,
            name=entry["name"],
            scope_descriptions=[scopes[s] for s in sorted(entry["scopes"]) if s in scopes],
            granted_at=entry["granted_at"],
        )
        for app_id, entry in sorted(apps.items(), key=lambda item: item[1]["name"].lower())
    ]


def registered_app_list(*, user) -> QuerySet[Application]:
    """The applications ``user`` registered as a developer."""
    return Application.objects.filter(user=user).order_by("name")
