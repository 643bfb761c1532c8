"""Password guessing at sign-in and client-secret guessing at /o/token/ are cut off early.

Sign-in (ours and the admin's): after N failures from one address, that address is locked out for
the cool-off; after M failures against one account from anywhere, the account is. Either way the
answer is a 429 page, and the password is not even checked. /o/token/: after N failed client
authentications from one address, or K for one client from one address, further failures are a
429 in OAuth's JSON shape; a client whose credentials verify is always served.
Only failures count towards those lockouts, and one address guessing never locks the real user out
elsewhere. Every checked password, the right ones too, is also bounded per address and per account
(per account for the account's trusted browsers), refused with the same 429 before it is hashed.
"""

import base64
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.contrib.auth.hashers import MD5PasswordHasher, PBKDF2PasswordHasher, identify_hasher
from django.core.cache import cache
from django.db.models import F
from django.test import Client
from oauth2_provider.models import Application

from accounts.hashers import ClientSecretHasher
from tests.factories import OWNER_PASSWORD, ApplicationFactory, UserFactory
from tests.oauth import REDIRECT_URI, code_grant, get_code

pytestmark = pytest.mark.django_db
# For counters kept in the cache: the test runs with the per-process cache and with Redis.
on_each_cache = pytest.mark.usefixtures("cache_backend")

PASSWORD = OWNER_PASSWORD
SECRET = "a-client-secret-of-the-test-application"
ATTACKER, OWNER_HOME, ELSEWHERE = "203.0.113.9", "198.51.100.20", "192.0.2.33"
ADDRESS_LIMIT, ACCOUNT_LIMIT, DEVICE_LIMIT = 3, 6, 4
ATTEMPT_ADDRESS_LIMIT, ATTEMPT_ACCOUNT_LIMIT, ATTEMPT_TRUSTED_LIMIT = 5, 12, 6
TOKEN_ADDRESS_LIMIT, CLIENT_ADDRESS_LIMIT = 4, 2


@pytest.fixture(autouse=True)
def brute_force_settings(settings):
    """Small limits; a fast password hasher (the real one costs about 0.5 s a guess, which is the point).

    PBKDF2 stays known so that the old client-secret hashes can be read, and the client-secret hasher
    stays last, where settings put it.
    """
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "accounts.hashers.ClientSecretHasher",
    ]
    settings.AXES_FAILURE_LIMIT = ADDRESS_LIMIT
    settings.LOGIN_FAILURE_LIMIT_ACCOUNT = ACCOUNT_LIMIT
    settings.LOGIN_FAILURE_LIMIT_DEVICE = DEVICE_LIMIT
    settings.LOGIN_ATTEMPT_LIMIT_ADDRESS = ATTEMPT_ADDRESS_LIMIT
    settings.LOGIN_ATTEMPT_LIMIT_ACCOUNT = ATTEMPT_ACCOUNT_LIMIT
    settings.LOGIN_ATTEMPT_LIMIT_TRUSTED = ATTEMPT_TRUSTED_LIMIT
    settings.TOKEN_FAILURE_LIMITS = {"address": TOKEN_ADDRESS_LIMIT, "client_address": CLIENT_ADDRESS_LIMIT}


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


# --- sign-in from a trusted browser (OWASP "device cookies") -------------------------------------
# A browser that signed in to an account before carries a signed cookie naming that account; with it
# the owner's sign-in is counted against that cookie only, so guesses from elsewhere cannot lock the
# owner out. Everything without a valid cookie for the account stays under the limits above.

LOGIN = "/accounts/login/"


def lock_the_account():
    """The issue's attack, scaled to the test's limits: failures spread over addresses until the account is locked."""
    addresses = [f"203.0.113.{n}" for n in range(1, 4)]
    answers = [sign_in(f"wrong-{n}", address).status_code for address in addresses for n in range(2)]
    assert answers[-1] == 429


def trusted_browser(address: str = OWNER_HOME, username: str = "owner") -> Client:
    """A browser that has signed in (and out again) before: it holds the account's device cookie."""
    browser = Client()
    assert browser.post(LOGIN, {"username": username, "password": PASSWORD}, REMOTE_ADDR=address).status_code == 302
    browser.post("/accounts/logout/", REMOTE_ADDR=address)
    return browser


@pytest.mark.parametrize("path", [LOGIN, "/admin/login/"])
def test_the_owner_signs_in_from_a_browser_that_signed_in_before_while_the_account_is_locked(owner, path):
    owner.is_staff = True
    owner.save()
    browser = trusted_browser()
    lock_the_account()

    fresh = sign_in(PASSWORD, OWNER_HOME, path=path)
    trusted = browser.post(path, {"username": "owner", "password": PASSWORD}, REMOTE_ADDR=OWNER_HOME)

    assert fresh.status_code == 429  # a browser the account never signed in from: the lockout holds
    assert trusted.status_code == 302
    assert browser.session["_auth_user_id"] == str(owner.pk)


def test_a_trusted_browser_gets_in_even_from_an_address_that_is_locked_out(owner):
    # The owner shares a café's address with the guesser.
    browser = trusted_browser(ATTACKER)
    for n in range(ADDRESS_LIMIT):
        sign_in(f"wrong-{n}", ATTACKER)
    assert sign_in(PASSWORD, ATTACKER).status_code == 429

    response = browser.post(LOGIN, {"username": "owner", "password": PASSWORD}, REMOTE_ADDR=ATTACKER)

    assert response.status_code == 302


def test_guessing_stays_throttled_while_the_owner_can_sign_in(owner):
    trusted_browser()
    lock_the_account()
    # The attacker's own account gives them a valid device cookie, but one naming their account.
    mallory = UserFactory(username="mallory")
    mallory.set_password(PASSWORD)
    mallory.save()
    attacker = trusted_browser(ATTACKER, username="mallory")
    forged = Client()
    forged.cookies["signin_device"] = "owner:forged"

    with_own_cookie = attacker.post(LOGIN, {"username": "owner", "password": "guess"}, REMOTE_ADDR=ELSEWHERE)
    with_forged_cookie = forged.post(LOGIN, {"username": "owner", "password": "guess"}, REMOTE_ADDR=ELSEWHERE)

    assert with_own_cookie.status_code == 429
    assert with_forged_cookie.status_code == 429
    assert sign_in("guess", "192.0.2.99").status_code == 429


def test_a_stolen_device_cookie_gives_only_a_few_guesses_and_locks_only_itself(owner):
    stolen = Client()
    stolen.cookies["signin_device"] = trusted_browser().cookies["signin_device"].value
    addresses = [f"203.0.113.{n}" for n in range(1, 20)]

    answers = [
        stolen.post(LOGIN, {"username": "owner", "password": f"wrong-{n}"}, REMOTE_ADDR=address).status_code
        for n, address in enumerate(addresses[: DEVICE_LIMIT + 2])
    ]
    right = stolen.post(LOGIN, {"username": "owner", "password": PASSWORD}, REMOTE_ADDR=addresses[-1])

    assert answers == [200] * (DEVICE_LIMIT - 1) + [429] * 3
    assert right.status_code == 429
    # Counted against the cookie only: the account and the addresses are not locked by them.
    assert not AccessAttempt.objects.exists()
    assert sign_in(PASSWORD, OWNER_HOME).status_code == 302


def test_the_device_cookie_is_signed_http_only_and_lasts_a_year(owner, settings):
    browser = Client()
    browser.post(LOGIN, {"username": "owner", "password": PASSWORD}, REMOTE_ADDR=OWNER_HOME)

    cookie = browser.cookies["signin_device"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 365 * 24 * 3600 == settings.LOGIN_DEVICE_COOKIE_DAYS * 24 * 3600
    assert PASSWORD not in cookie.value


def test_an_expired_device_cookie_is_not_trusted(owner, monkeypatch):
    browser = trusted_browser()
    lock_the_account()
    later = time.time() + 366 * 24 * 3600
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)

    response = browser.post(LOGIN, {"username": "owner", "password": PASSWORD}, REMOTE_ADDR=OWNER_HOME)

    assert response.status_code == 429


# --- every checked password, the right ones too ---------------------------------------------------
# A right password costs the same hash as a wrong one (about 0.5 s of CPU), so anyone with an account
# could sign in again and again. Every password that is checked counts, per address and per account
# (without a trusted browser) or per account (from its trusted browsers); past a limit the next
# sign-in, right password or not, gets the lockout's 429 before anything is hashed.

ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def hashed(monkeypatch):
    """Every password hashed or checked from now on, by either password hasher the tests use."""
    calls = []
    for hasher in (MD5PasswordHasher, PBKDF2PasswordHasher):
        for name in ("encode", "verify"):
            original = getattr(hasher, name)
            monkeypatch.setattr(
                hasher,
                name,
                lambda self, *args, _original=original, **kwargs: calls.append(1) or _original(self, *args, **kwargs),
            )
    return calls


def assert_refused_unhashed(response, hashed: list, hashes_before: int) -> None:
    assert response.status_code == 429
    assert len(hashed) == hashes_before
    assert "_auth_user_id" not in response.client.session
    assert "Too many sign-in attempts" in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= 15 * 60


@on_each_cache
@pytest.mark.parametrize("path", [LOGIN, ADMIN_LOGIN])
def test_right_passwords_from_one_address_are_bounded_and_the_next_is_refused_unhashed(owner, hashed, path):
    owner.is_staff = True
    owner.save()
    answers = [sign_in(PASSWORD, ATTACKER, path=path).status_code for _ in range(ATTEMPT_ADDRESS_LIMIT)]
    hashes_before = len(hashed)

    refused = sign_in(PASSWORD, ATTACKER, path=path)

    assert answers == [302] * ATTEMPT_ADDRESS_LIMIT
    assert_refused_unhashed(refused, hashed, hashes_before)
    assert not AccessAttempt.objects.exists()  # not a failure: the failure lockouts count nothing
    assert sign_in(PASSWORD, OWNER_HOME, path=path).status_code == 302  # a fresh address is unaffected


def test_wrong_and_right_passwords_count_together_towards_the_address_bound(owner, hashed):
    wrong = [sign_in(f"wrong-{n}", ATTACKER).status_code for n in range(ADDRESS_LIMIT - 1)]
    right = [sign_in(PASSWORD, ATTACKER).status_code for _ in range(ATTEMPT_ADDRESS_LIMIT - ADDRESS_LIMIT + 1)]
    hashes_before = len(hashed)

    refused = sign_in(PASSWORD, ATTACKER)

    assert wrong == [200] * (ADDRESS_LIMIT - 1)
    assert right == [302] * (ATTEMPT_ADDRESS_LIMIT - ADDRESS_LIMIT + 1)
    assert_refused_unhashed(refused, hashed, hashes_before)


def test_an_unknown_username_counts_for_the_address_and_is_refused_unhashed_past_it(owner, hashed):
    # Django hashes the password of an unknown user too (to hide who exists): it costs the same.
    answers = [sign_in(PASSWORD, ATTACKER, username=f"nobody-{n}").status_code for n in range(ADDRESS_LIMIT - 1)]
    for _ in range(ATTEMPT_ADDRESS_LIMIT - ADDRESS_LIMIT + 1):
        sign_in(PASSWORD, ATTACKER)
    hashes_before = len(hashed)

    refused = sign_in(PASSWORD, ATTACKER, username="nobody-else")

    assert answers == [200] * (ADDRESS_LIMIT - 1)
    assert refused.status_code == 429
    assert len(hashed) == hashes_before


@pytest.mark.parametrize("path", [LOGIN, ADMIN_LOGIN])
def test_right_passwords_from_many_addresses_are_bounded_per_account(owner, hashed, path):
    owner.is_staff = True
    owner.save()
    browser = trusted_browser()  # one checked password of the account, from the owner's home
    per_address = ATTEMPT_ADDRESS_LIMIT - 1
    answers = [
        sign_in(PASSWORD, f"203.0.113.{n // per_address + 1}", path=path).status_code
        for n in range(ATTEMPT_ACCOUNT_LIMIT - 1)
    ]
    hashes_before = len(hashed)

    refused = sign_in(PASSWORD, "192.0.2.99", path=path)

    assert answers == [302] * (ATTEMPT_ACCOUNT_LIMIT - 1)
    assert_refused_unhashed(refused, hashed, hashes_before)
    # The addresses are under their own bound: another account signs in from one of them.
    other = UserFactory(username="other", is_staff=True)
    other.set_password(PASSWORD)
    other.save()
    assert sign_in(PASSWORD, "203.0.113.1", username="other", path=path).status_code == 302
    # The owner's own browser is counted apart, so it still gets in.
    assert browser.post(path, {"username": "owner", "password": PASSWORD}, REMOTE_ADDR=OWNER_HOME).status_code == 302


def test_signing_in_again_and_again_from_a_trusted_browser_is_bounded_per_account(owner, hashed):
    # What someone with an account of their own does: each success gives a fresh device cookie.
    browser = trusted_browser(ATTACKER)
    answers = []
    for _ in range(ATTEMPT_TRUSTED_LIMIT):
        answers.append(
            browser.post(LOGIN, {"username": "owner", "password": PASSWORD}, REMOTE_ADDR=ATTACKER).status_code
        )
        browser.post("/accounts/logout/", REMOTE_ADDR=ATTACKER)
    hashes_before = len(hashed)

    refused = browser.post(LOGIN, {"username": "owner", "password": PASSWORD}, REMOTE_ADDR=ELSEWHERE)

    assert answers == [302] * ATTEMPT_TRUSTED_LIMIT
    assert_refused_unhashed(refused, hashed, hashes_before)
    assert sign_in(PASSWORD, ELSEWHERE).status_code == 302  # a fresh browser: the bounds without a cookie


def test_checked_passwords_at_the_owners_address_never_keep_the_owners_trusted_browser_out(owner):
    # The owner shares a café's address with someone who signs in to their own account again and again.
    browser = trusted_browser(ATTACKER)
    mallory = UserFactory(username="mallory")
    mallory.set_password(PASSWORD)
    mallory.save()
    answers = [sign_in(PASSWORD, ATTACKER, username="mallory").status_code for _ in range(ATTEMPT_ADDRESS_LIMIT)]
    assert answers[-1] == 429

    response = browser.post(LOGIN, {"username": "owner", "password": PASSWORD}, REMOTE_ADDR=ATTACKER)

    assert response.status_code == 302


def test_refused_sign_ins_count_nothing_towards_the_account(owner):
    for _ in range(3 * ATTEMPT_ADDRESS_LIMIT):
        sign_in(PASSWORD, ATTACKER)

    # Only the address's ATTEMPT_ADDRESS_LIMIT were checked, so the account has room for the rest.
    per_address = ATTEMPT_ADDRESS_LIMIT - 1
    answers = [
        sign_in(PASSWORD, f"198.51.100.{n // per_address + 1}").status_code
        for n in range(ATTEMPT_ACCOUNT_LIMIT - ATTEMPT_ADDRESS_LIMIT)
    ]
    assert answers == [302] * (ATTEMPT_ACCOUNT_LIMIT - ATTEMPT_ADDRESS_LIMIT)
    assert sign_in(PASSWORD, "192.0.2.99").status_code == 429


# --- /o/token/ ----------------------------------------------------------------------------------
# Its counters live in the cache: each test runs with the per-process cache and with Redis (on_each_cache).

SLOW_DOWN = {
    "error": "slow_down",
    "error_description": "Too many failed client authentications from this address; "
    "try again after the time in Retry-After.",
}


def confidential_app(secret: str = SECRET) -> Application:
    """A confidential code-flow app, which may also use the client-credentials grant (accounts.oauth)."""
    return ApplicationFactory(
        client_type=Application.CLIENT_CONFIDENTIAL, redirect_uris=REDIRECT_URI, client_secret=secret
    )


def guess_from_many_addresses(application, *, guesses: int = 60, addresses: int = 6) -> list[int]:
    """The issue's attack: ``guesses`` wrong secrets for the app's public client_id, spread over ``addresses``."""
    return [token(application, f"wrong-{n}", f"203.0.113.{n % addresses + 1}").status_code for n in range(guesses)]


def code_exchange(application, user, secret: str | None, address: str):
    """The code flow's token request, with the client's secret when it has one."""
    code, verifier = get_code(user, application)
    data = code_grant(application.client_id, code, verifier)
    if secret is not None:
        data["client_secret"] = secret
    return Client().post("/o/token/", data, REMOTE_ADDR=address)


def refresh(application, refresh_token: str, secret: str | None, address: str):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": application.client_id}
    if secret is not None:
        data["client_secret"] = secret
    return Client().post("/o/token/", data, REMOTE_ADDR=address)


@on_each_cache
def test_wrong_secrets_from_one_address_are_cut_off_but_the_right_one_still_gets_a_token(application):
    answers = [token(application, f"wrong-{n}", ATTACKER) for n in range(20)]
    right = token(application, SECRET, ATTACKER)

    assert [a.status_code for a in answers] == [401] * CLIENT_ADDRESS_LIMIT + [429] * (20 - CLIENT_ADDRESS_LIMIT)
    assert answers[0].json()["error"] == "invalid_client"
    assert answers[-1].json() == SLOW_DOWN
    assert answers[-1]["Cache-Control"] == "no-store"
    assert 0 < int(answers[-1]["Retry-After"]) <= 15 * 60
    # Credentials that verify are never refused, even from the address that guessed: it may be
    # the app's own network (a NAT, a cloud egress) shared with the guesser.
    assert right.status_code == 200
    assert right.json()["access_token"]


@on_each_cache
def test_one_address_guessing_at_many_clients_is_cut_off_for_every_client(application):
    others = [confidential_app() for _ in range(TOKEN_ADDRESS_LIMIT + 1)]

    answers = [token(other, "wrong", ATTACKER).status_code for other in others]

    # Each client failed once, under its own (client, address) limit; the address's limit ends it.
    assert answers == [401] * TOKEN_ADDRESS_LIMIT + [429]
    assert token(application, "wrong", ATTACKER).json() == SLOW_DOWN
    assert token(application, "wrong", ELSEWHERE).status_code == 401
    assert token(others[0], SECRET, ATTACKER).status_code == 200


@on_each_cache
def test_wrong_secrets_from_many_addresses_never_lock_the_app_out_of_client_credentials(application):
    answers = guess_from_many_addresses(application)

    assert 429 in answers  # each address was cut off
    assert token(application, SECRET, OWNER_HOME).status_code == 200
    assert token(application, SECRET, "203.0.113.1").status_code == 200


@on_each_cache
def test_wrong_secrets_from_many_addresses_never_stop_a_confidential_apps_code_exchange_or_refresh(owner):
    application = confidential_app()

    guess_from_many_addresses(application)
    exchanged = code_exchange(application, owner, SECRET, OWNER_HOME)
    refreshed = refresh(application, exchanged.json()["refresh_token"], SECRET, OWNER_HOME)

    assert exchanged.status_code == 200
    assert refreshed.status_code == 200
    assert refreshed.json()["access_token"]


@on_each_cache
def test_wrong_secrets_for_a_public_apps_client_id_never_stop_the_app(owner):
    # A public app has no secret; guessing one under its client_id fails (401) and is counted,
    # but the app itself, which sends none, is served.
    application = ApplicationFactory(redirect_uris=REDIRECT_URI)

    answers = guess_from_many_addresses(application)
    exchanged = code_exchange(application, owner, None, "203.0.113.1")
    refreshed = refresh(application, exchanged.json()["refresh_token"], None, "203.0.113.1")

    assert set(answers) == {401, 429}
    assert exchanged.status_code == 200
    assert refreshed.status_code == 200


@pytest.mark.parametrize("path", ["/o/revoke_token/", "/o/introspect/"])
def test_the_other_endpoints_that_check_client_secrets_share_the_counters(application, path):
    data = {"token": "whatever", "client_id": application.client_id}
    answers = [
        Client().post(path, {**data, "client_secret": f"wrong-{n}"}, REMOTE_ADDR=ATTACKER)
        for n in range(CLIENT_ADDRESS_LIMIT + 1)
    ]
    wrong_at_token_endpoint = token(application, "wrong", ATTACKER)
    right = Client().post(path, {**data, "client_secret": SECRET}, REMOTE_ADDR=ATTACKER)

    assert [a.status_code for a in answers] == [401] * CLIENT_ADDRESS_LIMIT + [429]
    assert answers[0].json()["error"] == "invalid_client"
    assert answers[-1].json() == SLOW_DOWN
    assert wrong_at_token_endpoint.json() == SLOW_DOWN
    assert right.status_code == 200
    assert token(application, SECRET, ATTACKER).status_code == 200


@on_each_cache
def test_secrets_sent_with_http_basic_count_for_their_client_and_address(application):
    basic = base64.b64encode(f"{application.client_id}:wrong".encode()).decode()
    answers = [
        Client()
        .post(
            "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}", REMOTE_ADDR=ATTACKER
        )
        .status_code
        for _ in range(CLIENT_ADDRESS_LIMIT + 1)
    ]

    assert answers == [401] * CLIENT_ADDRESS_LIMIT + [429]
    assert token(application, "wrong", ATTACKER).json() == SLOW_DOWN
    assert token(application, "wrong", ELSEWHERE).status_code == 401


@on_each_cache
def test_successful_token_requests_count_nothing(application):
    answers = [token(application, SECRET, ATTACKER).status_code for _ in range(TOKEN_ADDRESS_LIMIT + 2)]

    assert answers == [200] * (TOKEN_ADDRESS_LIMIT + 2)
    assert token(application, "wrong", ATTACKER).status_code == 401


# --- client secrets stored with the old password hasher -----------------------------------------


def legacy_app() -> Application:
    """An app whose secret was stored before the fast keyed hash: PBKDF2, as every password."""
    legacy = PBKDF2PasswordHasher().encode(SECRET, PBKDF2PasswordHasher().salt(), iterations=1000)
    return ApplicationFactory(
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=legacy,
    )


@on_each_cache
def test_a_secret_stored_with_the_old_hasher_still_works_and_is_stored_again_with_the_fast_one():
    application = legacy_app()

    first = token(application, SECRET, OWNER_HOME)
    application.refresh_from_db()

    assert first.status_code == 200
    assert identify_hasher(application.client_secret).algorithm == ClientSecretHasher.algorithm
    assert token(application, SECRET, OWNER_HOME).status_code == 200
    assert token(application, "wrong", OWNER_HOME).status_code == 401


@on_each_cache
def test_an_old_hash_is_not_checked_from_an_address_over_its_limit(monkeypatch):
    # Checking a PBKDF2 hash costs about 0.5 s of CPU: from an address over its limit it is refused
    # unhashed, as every secret was before. Served from anywhere else, it is stored fast again.
    application = legacy_app()
    for n in range(CLIENT_ADDRESS_LIMIT):
        token(application, f"wrong-{n}", ATTACKER)
    checks = []
    verify = PBKDF2PasswordHasher.verify
    monkeypatch.setattr(PBKDF2PasswordHasher, "verify", lambda self, *args: checks.append(1) or verify(self, *args))

    refused = token(application, SECRET, ATTACKER)
    served = token(application, SECRET, OWNER_HOME)

    assert refused.status_code == 429
    assert refused.json() == SLOW_DOWN
    assert served.status_code == 200
    assert len(checks) == 1
    assert token(application, SECRET, ATTACKER).status_code == 200
