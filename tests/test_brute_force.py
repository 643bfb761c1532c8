"""Password guessing at sign-in and client-secret guessing at /o/token/ are cut off early.

Sign-in (ours and the admin's): after N failures from one address, that address is locked out for
the cool-off; after M failures against one account from anywhere, the account is. Either way the
answer is a 429 page, and the password is not even checked. /o/token/: after N failed client
authentications from one address, or M for one client, a 429 in OAuth's JSON shape.
Only failures count, and one address guessing never locks the real user out elsewhere.
"""

import base64
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.core.cache import cache
from django.db.models import F
from django.test import Client
from oauth2_provider.models import Application

from tests.factories import OWNER_PASSWORD, ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = OWNER_PASSWORD
SECRET = "a-client-secret-of-the-test-application"
ATTACKER, OWNER_HOME, ELSEWHERE = "203.0.113.9", "198.51.100.20", "192.0.2.33"
ADDRESS_LIMIT, ACCOUNT_LIMIT = 3, 6


@pytest.fixture(autouse=True)
def brute_force_settings(settings):
    """Small limits; a fast hasher (the real one costs about 0.5 s a guess, which is the point)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_FAILURE_LIMIT = ADDRESS_LIMIT
    settings.LOGIN_FAILURE_LIMIT_ACCOUNT = ACCOUNT_LIMIT
    settings.TOKEN_FAILURE_LIMITS = {"address": ADDRESS_LIMIT, "client": ACCOUNT_LIMIT}


@pytest.fixture(autouse=True)
def fresh_lockouts(db):
    """Lockouts live in axes' table and django-ratelimit's cache counters; each test starts with none."""
    axes_reset()
    cache.clear()
    yield
    axes_reset()
    cache.clear()


@pytest.fixture
def application():
    return ApplicationFactory(
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=SECRET,
    )


def sign_in(password: str, address: str, username: str = "owner", path: str = "/accounts/login/"):
    """One sign-in attempt from ``address`` with a fresh browser."""
    return Client().post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def token(application, secret: str, address: str):
    """One client-credentials token request from ``address``."""
    return Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": application.client_id, "client_secret": secret},
        REMOTE_ADDR=address,
    )


# --- sign-in ------------------------------------------------------------------------------------


def test_twenty_wrong_passwords_lock_the_address_out_and_the_right_one_is_refused(owner):
    answers = [sign_in(f"wrong-{n}", ATTACKER).status_code for n in range(20)]
    right = sign_in(PASSWORD, ATTACKER)

    # The N-th failure is checked, and answered with the lockout; from then on nothing is checked.
    assert answers == [200] * (ADDRESS_LIMIT - 1) + [429] * (20 - ADDRESS_LIMIT + 1)
    assert right.status_code == 429
    assert "_auth_user_id" not in right.client.session
    assert "Too many failed sign-in attempts" in right.content.decode()
    assert right["Retry-After"] == str(15 * 60)


def test_refused_attempts_are_not_counted(owner):
    for n in range(20):
        sign_in(f"wrong-{n}", ATTACKER)

    # Only the failures that were checked count: a locked-out address cannot push the account's
    # count towards its own lockout, or one address could lock the owner out everywhere.
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == ADDRESS_LIMIT


def test_the_owner_still_signs_in_from_another_address(owner):
    for n in range(20):
        sign_in(f"wrong-{n}", ATTACKER)

    response = sign_in(PASSWORD, OWNER_HOME)

    assert response.status_code == 302
    assert response.client.session["_auth_user_id"] == str(owner.pk)


def test_guesses_spread_over_many_addresses_lock_the_account(owner):
    addresses = [f"203.0.113.{n}" for n in range(1, 4)]
    answers = [sign_in(f"wrong-{n}", address).status_code for address in addresses for n in range(2)]

    assert answers == [200] * (ACCOUNT_LIMIT - 1) + [429]
    assert sign_in(PASSWORD, OWNER_HOME).status_code == 429
    # The addresses themselves are not locked out: another account signs in from one of them.
    other = UserFactory(username="other")
    other.set_password(PASSWORD)
    other.save()
    assert sign_in(PASSWORD, addresses[0], username="other").status_code == 302


def test_the_lockout_ends_after_the_cool_off(owner):
    for n in range(ADDRESS_LIMIT):
        sign_in(f"wrong-{n}", ATTACKER)
    assert sign_in(PASSWORD, ATTACKER).status_code == 429

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=15, seconds=1))

    assert sign_in(PASSWORD, ATTACKER).status_code == 302


def test_a_correct_sign_in_counts_nothing(owner):
    answers = [sign_in(PASSWORD, ATTACKER).status_code for _ in range(ADDRESS_LIMIT + 2)]

    assert answers == [302] * (ADDRESS_LIMIT + 2)
    assert not AccessAttempt.objects.exists()


def test_the_admin_sign_in_is_locked_out_too(owner):
    owner.is_staff = True
    owner.save()

    answers = [sign_in(f"wrong-{n}", ATTACKER, path="/admin/login/").status_code for n in range(ADDRESS_LIMIT + 1)]

    assert answers == [200] * (ADDRESS_LIMIT - 1) + [429, 429]
    assert sign_in(PASSWORD, ATTACKER, path="/admin/login/").status_code == 429
    assert sign_in(PASSWORD, OWNER_HOME, path="/admin/login/").status_code == 302


# --- /o/token/ ----------------------------------------------------------------------------------
# Its counters live in the cache: each test runs with the per-process cache and with Redis.
on_each_cache = pytest.mark.usefixtures("cache_backend")

SLOW_DOWN = {
    "error": "slow_down",
    "error_description": "Too many failed client authentications from this address or for this client; "
    "try again after the time in Retry-After.",
}


@on_each_cache
def test_twenty_wrong_client_secrets_are_cut_off_and_the_right_one_is_refused(application):
    answers = [token(application, f"wrong-{n}", ATTACKER) for n in range(20)]
    right = token(application, SECRET, ATTACKER)

    assert [a.status_code for a in answers] == [401] * ADDRESS_LIMIT + [429] * (20 - ADDRESS_LIMIT)
    assert answers[0].json()["error"] == "invalid_client"
    assert right.status_code == 429
    assert right.json() == SLOW_DOWN
    assert right["Cache-Control"] == "no-store"
    assert 0 < int(right["Retry-After"]) <= 15 * 60


@pytest.mark.parametrize("path", ["/o/revoke_token/", "/o/introspect/"])
def test_the_other_endpoints_that_check_client_secrets_are_cut_off_too(application, path):
    # Each hashes the secret as /o/token/ does; they share its counters, so guesses anywhere count.
    data = {"token": "whatever", "client_id": application.client_id}
    answers = [
        Client().post(path, {**data, "client_secret": f"wrong-{n}"}, REMOTE_ADDR=ATTACKER) for n in range(ADDRESS_LIMIT)
    ]
    at_token_endpoint = token(application, SECRET, ATTACKER)
    right = Client().post(path, {**data, "client_secret": SECRET}, REMOTE_ADDR=ATTACKER)

    assert [a.status_code for a in answers] == [401] * ADDRESS_LIMIT
    assert answers[0].json()["error"] == "invalid_client"
    assert at_token_endpoint.status_code == 429
    assert right.status_code == 429
    assert right.json() == SLOW_DOWN
    assert token(application, SECRET, OWNER_HOME).status_code == 200


@on_each_cache
def test_the_client_still_gets_tokens_from_another_address(application):
    for n in range(20):
        token(application, f"wrong-{n}", ATTACKER)

    response = token(application, SECRET, OWNER_HOME)

    assert response.status_code == 200
    assert response.json()["access_token"]


@on_each_cache
def test_secret_guesses_spread_over_many_addresses_lock_the_client_only(application):
    addresses = [f"203.0.113.{n}" for n in range(1, 4)]
    answers = [token(application, f"wrong-{n}", address).status_code for address in addresses for n in range(2)]
    other = ApplicationFactory(
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=SECRET,
    )

    assert answers == [401] * ACCOUNT_LIMIT
    assert token(application, SECRET, ELSEWHERE).json() == SLOW_DOWN
    assert token(other, SECRET, addresses[0]).status_code == 200


@on_each_cache
def test_secrets_sent_with_http_basic_count_for_their_client(application):
    basic = base64.b64encode(f"{application.client_id}:wrong".encode()).decode()
    for n in range(ACCOUNT_LIMIT):
        Client().post(
            "/o/token/",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=f"Basic {basic}",
            REMOTE_ADDR=f"203.0.113.{n + 1}",
        )

    assert token(application, SECRET, ELSEWHERE).status_code == 429


@on_each_cache
def test_successful_token_requests_count_nothing(application):
    answers = [token(application, SECRET, ATTACKER).status_code for _ in range(ACCOUNT_LIMIT + 2)]

    assert answers == [200] * (ACCOUNT_LIMIT + 2)
