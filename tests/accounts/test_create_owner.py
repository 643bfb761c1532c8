"""``manage.py create_owner``: an ordinary printer owner's account, made by whoever runs the server.

Nobody signs up (docs/security.md); an owner needs an account to sign in and allow apps, and not
the admin's powers that ``createsuperuser`` gives.
"""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.services import owner_create
from tests.factories import OWNER_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def create_owner(*args: str, stdin: str) -> str:
    out = io.StringIO()
    call_command("create_owner", *args, stdin=io.StringIO(stdin), stdout=out)
    return out.getvalue()


@pytest.mark.slow
def test_create_owner_makes_an_ordinary_account_that_signs_in_but_not_to_the_admin(client):
    out = create_owner("alice", "--email", "alice@example.com", stdin=f"{OWNER_PASSWORD}\n")

    alice = User.objects.get(username="alice")
    assert (alice.email, alice.is_active, alice.is_staff, alice.is_superuser) == (
        "alice@example.com",
        True,
        False,
        False,
    )
    assert alice.check_password(OWNER_PASSWORD)
    assert "Created owner 'alice'" in out
    signed_in = client.post("/accounts/login/", {"username": "alice", "password": OWNER_PASSWORD})
    assert signed_in.status_code == 302
    assert client.get("/apps/connected/").status_code == 200
    assert client.get("/admin/").status_code == 302  # to the admin's own sign-in: not staff


def test_an_existing_username_is_refused_and_nothing_changes():
    existing = UserFactory(username="alice", email="old@example.com")
    password_hash = existing.password

    with pytest.raises(CommandError, match="already exists"):
        create_owner("alice", "--email", "new@example.com", stdin=f"{OWNER_PASSWORD}\n")

    existing.refresh_from_db()
    assert (existing.email, existing.password) == ("old@example.com", password_hash)


@pytest.mark.parametrize(
    ("password", "message"),
    [("password", "too common"), ("short", "too short"), ("", "password")],
)
def test_a_password_the_validators_refuse_creates_nothing(password, message):
    with pytest.raises(CommandError, match=message):
        create_owner("alice", stdin=f"{password}\n")

    assert not User.objects.filter(username="alice").exists()


@pytest.mark.parametrize("username", ["", "has space", "x" * 151])
def test_an_invalid_username_creates_nothing(username):
    with pytest.raises(CommandError):
        create_owner(username, stdin=f"{OWNER_PASSWORD}\n")

    assert not User.objects.exists()


def test_the_service_creates_the_owner_in_one_call():
    owner = owner_create(username="bob", email="", password=OWNER_PASSWORD)

    assert owner.pk is not None
    assert not owner.is_staff
