"""Create an ordinary printer owner's account: ``manage.py create_owner USERNAME [--email EMAIL]``.

Nobody signs up here (docs/security.md), so whoever runs the server makes owners' accounts. An owner
signs in at /accounts/login/, allows apps and revokes them; unlike ``createsuperuser`` the account
gets no admin. The password is asked twice at a terminal, or read from the first line of stdin
(``printf '%s\\n' "$PASSWORD" | manage.py create_owner alice``), never from the command line,
where other users of the machine could read it.
"""

import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import owner_create


class Command(BaseCommand):
    help = "Create an ordinary (not staff) printer owner's account, with a password from the terminal or stdin."
    stealth_options = ("stdin",)  # tests pass the password's input, as createsuperuser's do

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="", help="The owner's email address (optional).")

    def handle(self, *args, username, email, **options):
        password = self.read_password(options.get("stdin") or sys.stdin)
        try:
            owner = owner_create(username=username, email=email, password=password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Created owner '{owner.get_username()}'. They sign in at /accounts/login/.")

    def read_password(self, stdin) -> str:
        """Twice at a terminal, where a typo would lock the owner out; else stdin's first line."""
        if not stdin.isatty():
            return stdin.readline().rstrip("\r\n")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return password
