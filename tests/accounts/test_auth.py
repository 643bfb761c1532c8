"""401 for a missing, wrong or expired token, tokens without a user, and the OAuth 2 flows we allow.

Which scope each operation needs (allow, deny, no token) is one table: tests/accounts/test_permissions.py.
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from tests.factories import AccessTokenFactory, ApplicationFactory, PrinterFactory
from tests.fixtures.images import snapshot
from tests.oauth import REDIRECT_URI, code_grant, pkce_pair

pytestmark = pytest.mark.django_db

# (method, path template, body): a call of each kind, for the tests of a refused token.
ENDPOINTS = [
    ("get", "/api/v1/printers/", None),
    ("post", "/api/v1/printers/", {"name": "new"}),
    ("get", "/api/v1/printers/{printer}/", None),
    ("patch", "/api/v1/printers/{printer}/", {"name": "renamed"}),
    ("delete", "/api/v1/printers/{printer}/", None),
    ("post", "/api/v1/printers/{printer}/start_print/", {"filename": "a.gcode"}),
    ("post", "/api/v1/printers/{printer}/predict/", "snapshot"),
    ("post", "/api/v1/printers/{printer}/finish_print/", {}),
    ("get", "/api/v1/prints/", None),
]
ENDPOINT_IDS = [f"{method} {path}" for method, path, _ in ENDPOINTS]


def call(client, method, path, body, printer):
    url = path.format(printer=printer.id)
    if body == "snapshot":
        return client.post(url, {"img": snapshot()}, format="multipart")
    return getattr(client, method)(url, body, format="json")


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize("credentials", ["Bearer not-a-token", "Basic dXNlcjpwYXNz", "expired"])
def test_a_bad_or_expired_token_is_401_with_a_bearer_challenge(printer, method, path, body, credentials):
    client = APIClient()
    if credentials == "expired":
        token = AccessTokenFactory(user=printer.owner, expires=timezone.now() - timedelta(seconds=1))
        credentials = f"Bearer {token.raw_token}"
    client.credentials(HTTP_AUTHORIZATION=credentials)

    response = call(client, method, path, body, printer)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize(
    ("credentials", "description"),
    [
        ("Bearer not-a-token", "The access token is invalid."),
        ("expired", "The access token has expired."),
        ("revoked", "The access token is invalid."),
        ("deactivated", "The access token is invalid."),
    ],
)
def test_a_wrong_expired_or_revoked_token_is_401_invalid_token_as_its_challenge_says(
    printer, method, path, body, credentials, description
):
    token = AccessTokenFactory(user=printer.owner, scope="read write")
    if credentials == "expired":
        token.expires = timezone.now() - timedelta(seconds=1)
        token.save()
    elif credentials == "revoked":
        token.revoke()
    elif credentials == "deactivated":
        printer.owner.is_active = False
        printer.owner.save()
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=credentials if credentials.startswith("Bearer") else f"Bearer {token.raw_token}"
    )

    response = call(client, method, path, body, printer)

    assert response.status_code == 401
    assert response.json() == {"error": description, "code": "invalid_token"}
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert f'error_description="{description}"' in response["WWW-Authenticate"]


@pytest.mark.parametrize("credentials", [None, "Basic dXNlcjpwYXNz"], ids=["no-header", "not-bearer"])
def test_no_bearer_token_is_401_not_provided_without_an_error_code(printer, credentials):
    client = APIClient()
    if credentials:
        client.credentials(HTTP_AUTHORIZATION=credentials)

    response = client.get("/api/v1/printers/")

    assert response.status_code == 401
    assert response.json() == {"error": "Authentication credentials were not provided.", "code": "not_authenticated"}
    assert "error=" not in response["WWW-Authenticate"]  # RFC 6750 §3.1: no error code without a token


def test_client_credentials_token_without_a_user_cannot_touch_printers(printer):
    token = AccessTokenFactory(user=None, scope="read write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.raw_token}")

    response = client.get("/api/v1/printers/")

    assert response.status_code == 403
    assert response.json()["error"] == "This token is not tied to a user; use the authorization-code flow."


def test_revoked_token_is_refused_at_once(user, api):
    assert api.get("/api/v1/printers/").status_code == 200

    AccessToken.objects.get(user=user).revoke()

    assert api.get("/api/v1/printers/").status_code == 401


# --- OAuth 2 flows -------------------------------------------------------------------------------

def authorize(client, application, **extra):
    """The owner allows the app on the consent form; returns the redirect's query parameters."""
    params = {
        "client_id": application.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "read write",
        "state": "xyz",
        "allow": "Authorize",
        **extra,
    }
    response = client.post("/o/authorize/", params)
    assert response.status_code == 302
    location = urlparse(response["Location"])
    return location, parse_qs(location.query)


@pytest.fixture
def owner_browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def application():
    return ApplicationFactory(redirect_uris=REDIRECT_URI)


def test_authorization_code_with_pkce_gives_a_working_token_and_rotating_refresh(owner_browser, application, user):
    PrinterFactory(owner=user)
    verifier, challenge = pkce_pair()
    location, query = authorize(owner_browser, application, code_challenge=challenge, code_challenge_method="S256")
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    assert query["state"] == ["xyz"]

    tokens = Client().post("/o/token/", code_grant(application.client_id, query["code"][0], verifier)).json()
    assert tokens["scope"] == "read write"
    assert 0 < tokens["expires_in"] <= 10 * 3600

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert len(api.get("/api/v1/printers/").json()) == 1

    refreshed = (
        Client()
        .post(
            "/o/token/",
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": application.client_id,
            },
        )
        .json()
    )
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    reused = Client().post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": application.client_id},
    )
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    # Reuse of a rotated refresh token revokes the whole family (RFC 9700 §4.14.2).
    thief = APIClient()
    thief.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed['access_token']}")
    assert thief.get("/api/v1/printers/").status_code == 401


def test_authorization_without_pkce_is_refused(owner_browser, application):
    _, query = authorize(owner_browser, application)

    assert "code" not in query
    assert query["error"] == ["invalid_request"]


def test_code_exchange_with_the_wrong_verifier_is_refused(owner_browser, application):
    _, challenge = pkce_pair()
    _, query = authorize(owner_browser, application, code_challenge=challenge, code_challenge_method="S256")

    response = Client().post("/o/token/", code_grant(application.client_id, query["code"][0], pkce_pair()[0]))

    assert response.status_code == 400
    assert not AccessToken.objects.exists()


def test_a_redirect_uri_that_is_not_registered_exactly_is_refused(owner_browser, application):
    _, challenge = pkce_pair()

    response = owner_browser.get(
        "/o/authorize/",
        {
            "client_id": application.client_id,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI + "/evil",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )

    assert response.status_code == 400


def test_implicit_grant_is_refused_even_for_an_app_registered_for_it(owner_browser):
    application = ApplicationFactory(redirect_uris=REDIRECT_URI, authorization_grant_type=Application.GRANT_IMPLICIT)

    location, _ = authorize(owner_browser, application, response_type="token")

    assert "access_token" not in location.fragment
    assert not AccessToken.objects.exists()


def test_password_grant_is_refused_even_for_an_app_registered_for_it(user):
    user.set_password("correct horse battery staple")
    user.save()
    application = ApplicationFactory(authorization_grant_type=Application.GRANT_PASSWORD)

    response = Client().post(
        "/o/token/",
        {
            "grant_type": "password",
            "username": user.username,
            "password": "correct horse battery staple",
            "client_id": application.client_id,
        },
    )

    assert response.status_code in (400, 401)
    assert not AccessToken.objects.exists()


def test_a_public_app_cannot_use_the_client_credentials_grant():
    application = ApplicationFactory(client_type=Application.CLIENT_PUBLIC)

    response = Client().post("/o/token/", {"grant_type": "client_credentials", "client_id": application.client_id})

    assert response.status_code in (400, 401)
    assert not AccessToken.objects.exists()
