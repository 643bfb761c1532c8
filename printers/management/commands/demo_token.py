"""Create (or reuse) a demo user, OAuth application, access token and printer.

So a newcomer can call the API within a minute: ``python manage.py demo_token``.
"""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from oauth2_provider.settings import oauth2_settings

from printers.models import Printer
from printers.services import printer_create

DEMO_USERNAME = "demo"
DEMO_APP_NAME = "Demo app"
DEMO_SCOPE = "read write"


class Command(BaseCommand):
    help = "Create or reuse a demo user, OAuth app, 'read write' access token and printer; print them."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Print only the token and the printer id.")

    def handle(self, *args, quiet=False, **options):
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        if not user.has_usable_password():
            user.set_unusable_password()
            user.save()
        application, _ = Application.objects.get_or_create(
            name=DEMO_APP_NAME,
            user=user,
            defaults={
                "client_type": Application.CLIENT_PUBLIC,
                "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
                "redirect_uris": "http://127.0.0.1:8000/callback",
            },
        )
        # Reuse a token that still has at least an hour to live; otherwise issue a fresh one.
        token = (
            AccessToken.objects.filter(
                user=user, application=application, scope=DEMO_SCOPE, expires__gt=timezone.now() + timedelta(hours=1)
            )
            .order_by("-expires")
            .first()
        )
        if token is None:
            token = AccessToken.objects.create(
                user=user,
                application=application,
                scope=DEMO_SCOPE,
                token=secrets.token_urlsafe(32),
                expires=timezone.now() + timedelta(seconds=oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS),
            )
        printer = Printer.objects.filter(owner=user).order_by("id").first() or printer_create(
            owner=user, name="Demo printer"
        )
        if quiet:
            self.stdout.write(f"{token.token} {printer.pk}")
            return
        self.stdout.write(f"ACCESS_TOKEN={token.token}")
        self.stdout.write(f"PRINTER_ID={printer.pk}")
        self.stdout.write(
            f"# token for user '{user.username}', scopes '{DEMO_SCOPE}', expires {token.expires:%Y-%m-%d %H:%M} UTC"
        )
