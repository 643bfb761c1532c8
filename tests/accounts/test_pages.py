"""The owner's pages: sign-in, consent, connected apps, app registration, each with its error paths."""

from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from accounts.oauth import redirect_uri_problem
from tests.factories import OWNER_PASSWORD, AccessTokenFactory, ApplicationFactory, UserFactory
from tests.oauth import REDIRECT_URI, authorize_params

pytestmark = pytest.mark.django_db

PASSWORD = OWNER_PASSWORD


@pytest.fixture
def browser(owner):
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def application():
    return ApplicationFactory(name="Spaghetti Watcher", redirect_uris=REDIRECT_URI)


# --- sign in and out ----------------------------------------------------------------------------


def test_sign_in_page_has_a_form_with_csrf_protection(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="username"' in html
    assert 'name="password"' in html


def test_wrong_password_shows_a_clear_error(client, owner):
    response = client.post("/accounts/login/", {"username": "owner", "password": "wrong"})

    assert response.status_code == 200
    assert "That username and password do not match." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_ordinary_user_signs_in_and_lands_on_connected_apps(client, owner):
    response = client.post("/accounts/login/", {"username": "owner", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/apps/connected/"
    assert not owner.is_staff


def test_sign_out_is_a_post(browser):
    assert browser.get("/accounts/logout/").status_code == 405
    response = browser.post("/accounts/logout/")

    assert response.status_code == 302
    assert browser.get("/apps/connected/").status_code == 302


def test_signed_out_owner_is_sent_to_sign_in_and_back_to_the_authorization(client, owner, application):
    params = authorize_params(application)

    first = client.get("/o/authorize/", params)

    assert first.status_code == 302
    login_url = urlparse(first["Location"])
    assert login_url.path == "/accounts/login/"
    next_url = parse_qs(login_url.query)["next"][0]
    assert next_url.startswith("/o/authorize/")
    back = client.post("/accounts/login/", {"username": "owner", "password": PASSWORD, "next": next_url})
    assert back["Location"] == next_url
    consent = client.get(next_url)
    assert "Allow <strong>Spaghetti Watcher</strong> to use your printers?" in consent.content.decode()


# --- consent ------------------------------------------------------------------------------------


def test_consent_page_names_the_app_and_its_scopes_in_plain_words(browser, application):
    response = browser.get("/o/authorize/", authorize_params(application))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Spaghetti Watcher" in html
    assert "See your printers and prints" in html
    assert "Start and finish prints and send snapshots for failure detection" in html
    assert 'name="allow"' in html
    assert 'name="deny"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_allow_returns_a_code_and_the_state(browser, application):
    params = authorize_params(application)

    response = browser.post("/o/authorize/", {**params, "allow": "Authorize"})

    query = parse_qs(urlparse(response["Location"]).query)
    assert response["Location"].startswith(REDIRECT_URI + "?")
    assert query["state"] == ["st4te"]
    assert query["code"]


def test_deny_returns_access_denied_and_the_state(browser, application):
    params = authorize_params(application)

    response = browser.post("/o/authorize/", {**params, "deny": "Deny"})

    query = parse_qs(urlparse(response["Location"]).query)
    assert response["Location"].startswith(REDIRECT_URI + "?")
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["st4te"]
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("approval_prompt", ["auto", "force", "anything"])
def test_an_app_the_owner_allowed_before_still_gets_the_consent_page(browser, owner, application, approval_prompt):
    # approval_prompt=auto would let an app skip consent for a user who allowed it before: a page
    # that sends the signed-in owner to /o/authorize/ would get a code with no click. Ignored.
    AccessTokenFactory(user=owner, application=application, scope="read write")
    codes_before = Grant.objects.count()

    response = browser.get("/o/authorize/", authorize_params(application, approval_prompt=approval_prompt))

    assert response.status_code == 200
    assert "Allow <strong>Spaghetti Watcher</strong> to use your printers?" in response.content.decode()
    assert Grant.objects.count() == codes_before


def test_an_unknown_app_is_a_clear_error_page(browser, application):
    response = browser.get("/o/authorize/", authorize_params(application, client_id="no-such-app"))

    html = response.content.decode()
    assert response.status_code == 400
    assert "This authorization request cannot be completed" in html
    assert "Allow" not in html


def test_a_redirect_uri_that_was_not_registered_is_a_clear_error_page(browser, application):
    response = browser.get(
        "/o/authorize/", authorize_params(application, redirect_uri="https://evil.example.com/steal")
    )

    assert response.status_code == 400
    assert "This authorization request cannot be completed" in response.content.decode()


def test_plain_http_to_another_host_is_refused_even_if_an_admin_registered_it(browser):
    application = ApplicationFactory(redirect_uris="http://app.example.com/cb")

    response = browser.get("/o/authorize/", authorize_params(application, redirect_uri="http://app.example.com/cb"))

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("https://app.example.com/cb", True),
        ("http://127.0.0.1:8123/cb", True),
        ("http://[::1]/cb", True),
        ("http://localhost:3000/cb", True),
        ("http://app.example.com/cb", False),
        ("https://app.example.com/cb#frag", False),
        ("app.example.com/cb", False),
        ("javascript:alert(1)", False),
        ("ftp://app.example.com/", False),
    ],
)
def test_redirect_uri_rule(uri, allowed):
    assert (redirect_uri_problem(uri) is None) is allowed


# --- connected apps -----------------------------------------------------------------------------


def test_connected_apps_lists_apps_with_scopes_and_grant_time(browser, owner, application):
    AccessTokenFactory(user=owner, application=application, scope="read")
    AccessTokenFactory(user=UserFactory(), application=ApplicationFactory(name="Someone else's"))

    html = browser.get("/apps/connected/").content.decode()

    assert "Spaghetti Watcher" in html
    assert "See your printers and prints" in html
    assert "Start and finish prints" not in html
    assert "Someone else" not in html
    assert "UTC" in html


def test_revoke_stops_the_apps_tokens_at_once(browser, owner, application, make_client):
    api = make_client(owner)
    token = AccessToken.objects.get(user=owner)
    token.application = application
    token.save()
    RefreshToken.objects.create(user=owner, application=application, token="r" * 30, access_token=token)
    assert api.get("/api/v1/printers/").status_code == 200

    response = browser.post(f"/apps/connected/{application.id}/revoke/")

    assert response.status_code == 302
    assert api.get("/api/v1/printers/").status_code == 401
    assert RefreshToken.objects.get().revoked is not None
    page = browser.get("/apps/connected/").content.decode()
    assert "No app has access to your printers." in page


def test_revoking_someone_elses_app_touches_nothing(browser, application):
    other = UserFactory()
    AccessTokenFactory(user=other, application=application)

    browser.post(f"/apps/connected/{application.id}/revoke/")

    assert AccessToken.objects.filter(user=other).count() == 1


def test_revoke_needs_csrf(owner, application):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    AccessTokenFactory(user=owner, application=application)

    response = client.post(f"/apps/connected/{application.id}/revoke/")

    assert response.status_code == 403
    assert AccessToken.objects.count() == 1


def test_pages_need_a_signed_in_owner(client):
    for path in ["/apps/connected/", "/apps/", "/apps/new/"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


# --- app registration ---------------------------------------------------------------------------


def test_register_a_public_app(browser, owner):
    response = browser.post(
        "/apps/new/",
        {
            "name": "My Slicer",
            "redirect_uris": "http://127.0.0.1:8765/cb\nhttps://slicer.example.com/cb",
            "client_type": "public",
        },
    )

    assert response.status_code == 200
    application = Application.objects.get(user=owner)
    html = response.content.decode()
    assert application.client_id in html
    assert "A public app has no secret" in html
    assert application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert application.redirect_uris == "http://127.0.0.1:8765/cb https://slicer.example.com/cb"
    assert "My Slicer" in browser.get("/apps/").content.decode()


def test_a_confidential_app_sees_its_secret_once_and_it_works(browser, owner):
    response = browser.post(
        "/apps/new/", {"name": "Farm", "redirect_uris": "https://farm.example.com/cb", "client_type": "confidential"}
    )

    secret = response.context["secret"]
    application = Application.objects.get(user=owner)
    assert secret in response.content.decode()
    assert application.client_secret != secret  # stored hashed
    token = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": application.client_id, "client_secret": secret},
    )
    assert token.status_code == 200
    assert secret not in browser.get("/apps/").content.decode()


@pytest.mark.parametrize(
    ("uris", "message"),
    [
        ("http://slicer.example.com/cb", "must use https"),
        ("https://slicer.example.com/cb#x", "must not contain a fragment"),
        ("not a url", "is not an absolute URL"),
        ("", "This field is required."),
    ],
)
def test_registration_with_a_bad_redirect_uri_is_refused_with_a_reason(browser, owner, uris, message):
    response = browser.post("/apps/new/", {"name": "Bad", "redirect_uris": uris, "client_type": "public"})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Application.objects.filter(user=owner).exists()


# --- headers ------------------------------------------------------------------------------------


def test_pages_send_the_security_headers(browser, application):
    response = browser.get("/o/authorize/", authorize_params(application))

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
