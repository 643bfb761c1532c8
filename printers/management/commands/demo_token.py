"""Create (or reuse) a demo user, OAuth application and printer, and issue a fresh access token.

So a newcomer can call the API within a minute: ``eval "$(python manage.py demo_token)"`` exports
ACCESS_TOKEN and PRINTER_ID. Tokens are stored hashed, so an earlier token cannot be shown again; each
run issues a new one.
"""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, set_token_value
from oauth2_provider.settings import oauth2_settings

from printers.models import Printer
from printers.services import printer_create

DEMO_USERNAME = "demo"
DEMO_APP_NAME = "Demo app"
DEMO_SCOPE = "read write"


class Command(BaseCommand):
    help = "Create or reuse a demo user, OAuth app and printer; issue a 'read write' access token; print them."

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
        raw_token = secrets.token_urlsafe(32)
        token = AccessToken(
            user=user,
            application=application,
            scope=DEMO_SCOPE,
            expires=timezone.now() + timedelta(seconds=oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS),
        )
        set_token_value(token, raw_token)
        token.save()
        printer = Printer.objects.filter(owner=user).order_by("id").first() or printer_create(
            owner=user, name="Demo printer"
        )
        if quiet:
            self.stdout.write(f"{raw_token} {printer.pk}")
            return
        # Exported, so that after `eval "$(manage.py demo_token)"` child processes (the spec's
        # example, curl in a script) see them too; the token is URL-safe, so it needs no quoting.
        self.stdout.write(f"export ACCESS_TOKEN={raw_token}")
        self.stdout.write(f"export PRINTER_ID={printer.pk}")
        self.stdout.write(
            f"# token for user '{user.username}', scopes '{DEMO_SCOPE}', expires {token.expires:%Y-%m-%d %H:%M} UTC"
        )
