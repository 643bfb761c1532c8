"""Client secrets are stored with a fast keyed hash (accounts/hashers.py), passwords never are.

Old hashes (PBKDF2, or a rotated SECRET_KEY) still verify and are stored again on their next use.
"""

import json

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, identify_hasher, make_password
from django.core import signing
from django.test import Client
from oauth2_provider.models import Application

from accounts.hashers import ClientSecretHasher
from tests.factories import ApplicationFactory, UserFactory
from tests.fresh_process import in_a_fresh_process

pytestmark = pytest.mark.django_db

SECRET = "a-client-secret-of-the-test-application"
OLD_KEY, NEW_KEY = "an-old-secret-key-" + "o" * 40, "a-new-secret-key-" + "n" * 40


def app(**fields) -> Application:
    fields = {
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS,
        "client_secret": SECRET,
        **fields,
    }
    return ApplicationFactory(**fields)


def token(application, secret: str = SECRET):
    return Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": application.client_id, "client_secret": secret},
    )


def test_a_new_secret_is_stored_with_the_keyed_hash_and_verifies():
    application = app()

    assert application.client_secret.startswith("client_secret_hmac_sha256$")
    assert SECRET not in application.client_secret
    assert token(application).status_code == 200
    assert token(application, "wrong").status_code == 401


def test_the_stored_hash_depends_on_the_secret_key(settings):
    stored = app().client_secret

    settings.SECRET_KEY = NEW_KEY

    # A leaked database without the key cannot even test a guess.
    assert not ClientSecretHasher().verify(SECRET, stored)


def test_passwords_are_never_hashed_with_it(settings):
    user = UserFactory()
    user.set_password("a-long-enough-test-password")

    assert identify_hasher(user.password).algorithm == "pbkdf2_sha256"
    assert identify_hasher(make_password("anything")).algorithm == "pbkdf2_sha256"
    assert settings.PASSWORD_HASHERS[-1] == "accounts.hashers.ClientSecretHasher"


def test_a_password_stored_in_its_format_is_hashed_again_with_the_password_hasher_on_sign_in():
    # Django re-hashes any password that verifies under a hasher other than the first.
    user = UserFactory()
    user.password = make_password("a-long-enough-test-password", hasher="client_secret_hmac_sha256")
    user.save()

    assert user.check_password("a-long-enough-test-password")
    user.refresh_from_db()
    assert identify_hasher(user.password).algorithm == "pbkdf2_sha256"


def test_rotating_the_secret_key_with_a_fallback_keeps_clients_working_and_moves_them_to_the_new_key(settings):
    settings.SECRET_KEY = OLD_KEY
    application = app()

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    answer = token(application)
    application.refresh_from_db()

    assert answer.status_code == 200
    assert ClientSecretHasher().verifying_key(SECRET, application.client_secret) == NEW_KEY
    settings.SECRET_KEY_FALLBACKS = []
    assert token(application).status_code == 200


def test_without_the_fallback_a_secret_hashed_under_the_old_key_fails(settings):
    settings.SECRET_KEY = OLD_KEY
    application = app()

    settings.SECRET_KEY = NEW_KEY

    assert token(application).status_code == 401


def test_a_secret_kept_in_clear_stays_in_clear():
    # hash_client_secret off: the app signs HS256 tokens with it, so the toolkit needs it readable.
    application = app(hash_client_secret=False)

    assert token(application).status_code == 200
    application.refresh_from_db()
    assert application.client_secret == SECRET


def test_a_wrong_secret_rehashes_nothing():
    hasher = PBKDF2PasswordHasher()
    application = app(client_secret=hasher.encode(SECRET, hasher.salt(), iterations=1000))
    stored = application.client_secret

    assert token(application, "wrong").status_code == 401
    application.refresh_from_db()
    assert application.client_secret == stored
    assert check_password(SECRET, stored)


# --- the admin: a typed secret must be long enough to be unguessable ----------------------------


def admin_form(admin_user, **fields) -> dict:
    return {
        "client_id": "admin-registered",
        "user": admin_user.pk,
        "redirect_uris": "https://app.example.com/ok",
        "post_logout_redirect_uris": "",
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
        "client_secret": "x" * 32,
        "hash_client_secret": "on",
        "name": "Typed",
        "algorithm": "",
        "allowed_origins": "",
        **fields,
    }


def test_the_admin_refuses_a_short_secret_for_a_confidential_app(admin_client, admin_user, settings):
    response = admin_client.post(
        "/admin/oauth2_provider/application/add/", admin_form(admin_user, client_secret="hunter2")
    )

    assert response.status_code == 200  # the form again, with the error
    assert f"at least {settings.CLIENT_SECRET_MIN_LENGTH} characters" in response.content.decode()
    assert not Application.objects.exists()


def test_the_admin_accepts_a_long_secret_and_stores_it_hashed(admin_client, admin_user):
    response = admin_client.post("/admin/oauth2_provider/application/add/", admin_form(admin_user))

    assert response.status_code == 302, response.content.decode()[-2000:]
    application = Application.objects.get()
    assert application.client_secret.startswith("client_secret_hmac_sha256$")
    # Saving the app again keeps its hash (the toolkit recognises it and hashes nothing twice).
    application.name = "Renamed"
    application.save()
    assert ClientSecretHasher().verify("x" * 32, Application.objects.get().client_secret)
    assert token(application, "x" * 32).status_code == 200


# --- SECRET_KEY_FALLBACKS from the environment ----------------------------------------------------


def secret_key_fallbacks(**environment: str) -> list[str]:
    done = in_a_fresh_process(
        "import json; from django.conf import settings; print(json.dumps(settings.SECRET_KEY_FALLBACKS))",
        SECRET_KEY=NEW_KEY,
        **environment,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        (OLD_KEY, [OLD_KEY]),
        (f"{OLD_KEY}, older-key ,", [OLD_KEY, "older-key"]),  # spaces and an empty entry are not keys
    ],
)
@pytest.mark.slow
def test_secret_key_fallbacks_are_read_from_the_environment_comma_separated(value, expected):
    environment = {} if value is None else {"SECRET_KEY_FALLBACKS": value}

    assert secret_key_fallbacks(**environment) == expected


@pytest.mark.slow
def test_after_rotating_the_key_in_the_environment_old_client_secrets_and_signed_links_still_verify():
    # Made under the old key, as a deployment had stored and handed them out before the rotation.
    salt = "a-salt-of-16-chars"
    stored = ClientSecretHasher().encode(SECRET, salt, key=OLD_KEY)
    link = signing.TimestampSigner(key=OLD_KEY, salt="a-link").sign("42")
    code = (
        "import os; from django.core import signing; from accounts.hashers import ClientSecretHasher; "
        "print(ClientSecretHasher().verify(os.environ['SECRET'], os.environ['STORED']), "
        "signing.TimestampSigner(salt='a-link').unsign(os.environ['LINK']))"
    )
    keys = {"SECRET": SECRET, "STORED": stored, "LINK": link, "SECRET_KEY": NEW_KEY}

    rotated = in_a_fresh_process(code, SECRET_KEY_FALLBACKS=OLD_KEY, **keys)
    without_fallback = in_a_fresh_process(code, **keys)

    assert rotated.returncode == 0, rotated.stderr[-2000:]
    assert rotated.stdout.split() == ["True", "42"]
    assert "BadSignature" in without_fallback.stderr
