"""OAuth hardening (issue 14, parts 2 and 5): malformed redirect URIs, racing refreshes, deactivated
users, reused authorization codes, introspection limited to a token's own app, and bearer tokens
from the Authorization header only."""

import html
import re
import threading
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.db import connection
from django.test import Client
from oauth2_provider.models import AccessToken, Application, RefreshToken
from rest_framework.test import APIClient

from accounts.oauth import redirect_uri_problem
from tests.factories import AccessTokenFactory, ApplicationFactory, UserFactory
from tests.fixtures.accounts import bearer_client
from tests.oauth import REDIRECT_URI, authorize_params, code_grant, get_code, pkce_pair

CONCURRENT_REFRESHES = 4
# Of racing uses of one grant, at most one is answered with tokens and the rest get invalid_grant.
# The losers' reuse revokes the winner's new tokens too (RFC 9700 §4.14.2); when that lands before
# the toolkit has built the winner's answer, the winner gets invalid_grant as well, rather than
# tokens that are already dead. Never a 5xx.
ONE_WINNER_OR_NONE = ([200] + [400] * (CONCURRENT_REFRESHES - 1), [400] * CONCURRENT_REFRESHES)
BAD_REDIRECT_URIS = [
    "https://app.example.com:99999/cb",  # out-of-range port: .port raises
    "http://127.0.0.1:99999/cb",
    "https://app.example.com:-1/cb",
    "https://app.example.com:abc/cb",
    "http://[::1",  # unclosed IPv6 bracket: urlsplit raises
    "https://[::1/cb",
    "https://[not-an-ip]/cb",
    "https://user:password@app.example.com/cb",  # credentials: the toolkit never matches these
]


def exchange(application, code, verifier):
    return Client().post("/o/token/", code_grant(application.client_id, code, verifier))


def refresh(application, refresh_token):
    return Client().post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": application.client_id},
    )


@pytest.fixture
def application(db):
    return ApplicationFactory(redirect_uris=REDIRECT_URI)


@pytest.fixture
def tokens(user, application):
    """A real token pair from the code flow with PKCE."""
    code, verifier = get_code(user, application)
    response = exchange(application, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


# --- 1. Malformed redirect URIs are a clear refusal, never a 500 ---------------------------------


@pytest.mark.parametrize("uri", BAD_REDIRECT_URIS)
def test_redirect_uri_problem_names_every_malformed_uri(uri):
    problem = redirect_uri_problem(uri)

    assert isinstance(problem, str)
    assert uri in problem


@pytest.mark.parametrize("uri", BAD_REDIRECT_URIS)
def test_registering_a_malformed_redirect_uri_is_a_form_error(user, uri):
    browser = Client()
    browser.force_login(user)

    response = browser.post("/apps/new/", {"name": "Bad", "redirect_uris": uri, "client_type": "public"})

    assert response.status_code == 400
    assert redirect_uri_problem(uri) in response.content.decode()
    assert not Application.objects.filter(user=user).exists()


@pytest.mark.parametrize("uri", BAD_REDIRECT_URIS)
def test_the_admin_refuses_a_malformed_redirect_uri(admin_client, admin_user, uri):
    form = {
        "client_id": "admin-registered",
        "user": admin_user.pk,
        "redirect_uris": f"https://app.example.com/ok {uri}",
        "post_logout_redirect_uris": "",
        "client_type": Application.CLIENT_PUBLIC,
        "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
        "client_secret": "",
        "name": "Bad",
        "algorithm": "",
        "allowed_origins": "",
    }

    response = admin_client.post("/admin/oauth2_provider/application/add/", form)

    assert response.status_code == 200  # the form again, with the error
    assert html.escape(redirect_uri_problem(uri)) in response.content.decode()
    assert not Application.objects.exists()


def test_the_admin_accepts_a_good_redirect_uri(admin_client, admin_user):
    form = {
        "client_id": "admin-registered",
        "user": admin_user.pk,
        "redirect_uris": "https://app.example.com/ok http://127.0.0.1:8765/cb",
        "post_logout_redirect_uris": "",
        "client_type": Application.CLIENT_PUBLIC,
        "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
        "client_secret": "",
        "name": "Good",
        "algorithm": "",
        "allowed_origins": "",
    }

    response = admin_client.post("/admin/oauth2_provider/application/add/", form)

    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Application.objects.get().redirect_uris == "https://app.example.com/ok http://127.0.0.1:8765/cb"


@pytest.mark.parametrize("uri", BAD_REDIRECT_URIS)
def test_authorizing_with_an_admin_registered_malformed_redirect_uri_is_an_error_page(user, uri):
    application = ApplicationFactory(redirect_uris=uri)
    browser = Client()
    browser.force_login(user)
    _, challenge = pkce_pair()

    response = browser.get("/o/authorize/", authorize_params(application, challenge, redirect_uri=uri))

    assert response.status_code == 400
    assert "This authorization request cannot be completed" in response.content.decode()


@pytest.mark.parametrize("uri", BAD_REDIRECT_URIS)
def test_authorizing_with_a_malformed_redirect_uri_parameter_is_an_error_page(user, application, uri):
    browser = Client()
    browser.force_login(user)
    _, challenge = pkce_pair()

    for method in (browser.get, browser.post):
        response = method("/o/authorize/", authorize_params(application, challenge, redirect_uri=uri))

        assert response.status_code == 400
        assert "This authorization request cannot be completed" in response.content.decode()


@pytest.mark.django_db
def test_an_admin_registered_plain_http_uri_is_refused_when_the_request_names_none(user):
    application = ApplicationFactory(redirect_uris="http://app.example.com/cb")
    browser = Client()
    browser.force_login(user)
    _, challenge = pkce_pair()
    params = authorize_params(application, challenge)
    del params["redirect_uri"]

    response = browser.get("/o/authorize/", params)

    assert response.status_code == 400
    assert "This authorization request cannot be completed" in response.content.decode()


@pytest.mark.django_db
def test_the_consent_form_as_a_browser_posts_it_still_gives_a_code(user, application):
    """Every hidden field of the page (empty nonce, claims and resource included) passes the
    re-validation of the posted answer."""
    browser = Client()
    browser.force_login(user)
    _, challenge = pkce_pair()
    page = browser.get("/o/authorize/", authorize_params(application, challenge)).content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    fields = {name: html.unescape(value) for name, value in fields.items()}
    assert {"redirect_uri", "client_id", "code_challenge", "csrfmiddlewaretoken"} <= set(fields)

    response = browser.post("/o/authorize/", {**fields, "allow": "Authorize"})

    assert response.status_code == 302
    assert parse_qs(urlparse(response["Location"]).query)["code"]


@pytest.mark.django_db
def test_deny_posted_with_an_unregistered_redirect_uri_is_an_error_page_not_a_redirect(user, application):
    browser = Client()
    browser.force_login(user)
    _, challenge = pkce_pair()

    response = browser.post(
        "/o/authorize/", authorize_params(application, challenge, redirect_uri="https://evil.example.com/steal")
    )

    assert response.status_code == 400
    assert "evil.example.com" not in response.get("Location", "")


# --- 2. Concurrent refreshes of one refresh token: one winner, the rest invalid_grant ------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_give_one_pair_and_invalid_grant_to_the_rest(live_server, user):
    application = ApplicationFactory(redirect_uris=REDIRECT_URI)
    code, verifier = get_code(user, application)
    first = exchange(application, code, verifier).json()
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": application.client_id}

    results = race(f"{live_server.url}/o/token/", data, CONCURRENT_REFRESHES)

    statuses = sorted(status for status, _ in results)
    assert statuses in ONE_WINNER_OR_NONE, results
    assert all(body["error"] == "invalid_grant" for status, body in results if status == 400)
    # Exactly one successor was minted. The losers presented a rotated token, which is reuse
    # (RFC 9700 §4.14.2) however the requests interleaved: the whole family is revoked.
    assert RefreshToken.objects.filter(user=user).count() == 2
    assert not RefreshToken.objects.filter(user=user, revoked__isnull=True).exists()
    assert bearer_client(first["access_token"]).get("/api/v1/printers/").status_code == 401
    if 200 not in statuses:
        return  # the losers revoked the winner's pair before its answer was built (ONE_WINNER_OR_NONE)
    winner = next(body for status, body in results if status == 200)
    assert bearer_client(winner["access_token"]).get("/api/v1/printers/").status_code == 401
    assert refresh(application, winner["refresh_token"]).json()["error"] == "invalid_grant"


def race(url, data, count):
    """POST ``data`` to ``url`` from ``count`` threads at once; returns [(status, json)]."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            with requests.Session() as session:
                barrier.wait(timeout=30)
                response = session.post(url, data=data, timeout=60)
            results.append((response.status_code, response.json()))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_exchanges_of_one_code_give_one_answer_and_revoke_it(live_server, user):
    application = ApplicationFactory(redirect_uris=REDIRECT_URI)
    code, verifier = get_code(user, application)
    data = code_grant(application.client_id, code, verifier)

    results = race(f"{live_server.url}/o/token/", data, CONCURRENT_REFRESHES)

    assert sorted(status for status, _ in results) in ONE_WINNER_OR_NONE, results
    assert all(body["error"] == "invalid_grant" for status, body in results if status == 400)
    # The code was presented more than once (RFC 6749 §4.1.2): what it gave is revoked.
    for status, body in results:
        if status == 200:
            assert bearer_client(body["access_token"]).get("/api/v1/printers/").status_code == 401
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_a_grant_revoked_while_its_answer_is_built_is_invalid_grant(user, application, tokens, monkeypatch):
    # The toolkit reads the token it just issued again after the grant's transaction; a racing
    # reuse may have revoked (deleted) it by then. That answer is the racing loser's, not a 500.
    def token_gone(*args, **kwargs):
        raise AccessToken.DoesNotExist

    monkeypatch.setattr("oauth2_provider.views.base.TokenView.post", token_gone)
    response = refresh(application, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "The grant has already been used."}
    assert response["Cache-Control"] == "no-store"


# --- 3. A deactivated user loses access at once ---------------------------------------------------


@pytest.fixture(params=[0, 60], ids=["uncached", "cached"])
def token_cache_seconds(request, settings, cache_backend):
    settings.ACCESS_TOKEN_CACHE_SECONDS = request.param
    return request.param


@pytest.mark.django_db
def test_a_deactivated_users_token_is_refused_at_once(user, make_client, token_cache_seconds):
    api = make_client(user)
    assert api.get("/api/v1/printers/").status_code == 200  # cached from here on, when the cache is on

    user.is_active = False
    user.save()

    response = api.get("/api/v1/printers/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_a_reactivated_user_is_served_again(user, make_client, token_cache_seconds):
    api = make_client(user)
    user.is_active = False
    user.save()
    assert api.get("/api/v1/printers/").status_code == 401

    user.is_active = True
    user.save()

    assert api.get("/api/v1/printers/").status_code == 200


@pytest.mark.django_db
def test_a_deactivated_users_refresh_token_is_refused(user, application, tokens):
    user.is_active = False
    user.save()

    response = refresh(application, tokens["refresh_token"])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert AccessToken.objects.filter(user=user).count() == 1  # nothing new minted


@pytest.mark.django_db
def test_a_code_issued_before_deactivation_cannot_be_exchanged(user, application):
    code, verifier = get_code(user, application)
    user.is_active = False
    user.save()

    response = exchange(application, code, verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


@pytest.mark.django_db
def test_a_deactivated_user_cannot_authorize(user, application):
    browser = Client()
    browser.force_login(user)
    user.is_active = False
    user.save()
    _, challenge = pkce_pair()

    response = browser.post("/o/authorize/", {**authorize_params(application, challenge), "allow": "Authorize"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "code=" not in response["Location"]


# --- 4. A reused authorization code revokes what its first use issued -----------------------------


@pytest.mark.django_db
def test_reusing_an_authorization_code_revokes_the_tokens_it_issued(user, application):
    code, verifier = get_code(user, application)
    first = exchange(application, code, verifier).json()
    assert bearer_client(first["access_token"]).get("/api/v1/printers/").status_code == 200

    second = exchange(application, code, verifier)

    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert bearer_client(first["access_token"]).get("/api/v1/printers/").status_code == 401
    reused_refresh = refresh(application, first["refresh_token"])
    assert reused_refresh.status_code == 400
    assert reused_refresh.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


@pytest.mark.django_db
def test_reusing_a_code_also_revokes_tokens_refreshed_from_it(user, application):
    code, verifier = get_code(user, application)
    first = exchange(application, code, verifier).json()
    rotated = refresh(application, first["refresh_token"]).json()

    assert exchange(application, code, verifier).status_code == 400

    assert bearer_client(rotated["access_token"]).get("/api/v1/printers/").status_code == 401
    assert refresh(application, rotated["refresh_token"]).status_code == 400


@pytest.mark.django_db
def test_an_unused_code_and_other_users_tokens_are_untouched_by_a_reuse(user, application):
    other_token = AccessTokenFactory(user=UserFactory(), application=application)
    code, verifier = get_code(user, application)
    exchange(application, code, verifier)
    second_code, second_verifier = get_code(user, application)

    exchange(application, code, verifier)

    assert bearer_client(other_token.raw_token).get("/api/v1/printers/").status_code == 200
    assert exchange(application, second_code, second_verifier).status_code == 200


@pytest.mark.django_db
def test_an_unknown_code_is_invalid_grant_and_revokes_nothing(user, application, tokens):
    response = exchange(application, "no-such-code", pkce_pair()[0])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert bearer_client(tokens["access_token"]).get("/api/v1/printers/").status_code == 200


# --- 5. Introspection: a client learns only about its own tokens ---------------------------------


def confidential_app():
    """A confidential application and its secret (stored hashed)."""
    secret = "s3cret-" + "x" * 40
    return ApplicationFactory(client_type=Application.CLIENT_CONFIDENTIAL, client_secret=secret), secret


def introspect(application, secret, token):
    return Client().post(
        "/o/introspect/", {"token": token, "client_id": application.client_id, "client_secret": secret}
    )


@pytest.mark.django_db
def test_a_client_may_introspect_its_own_token(user):
    application, secret = confidential_app()
    token = AccessTokenFactory(user=user, application=application, scope="read")

    response = introspect(application, secret, token.raw_token)

    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == application.client_id
    assert body["username"] == user.username


@pytest.mark.django_db
def test_a_client_learns_nothing_about_another_apps_token(user):
    snoop, secret = confidential_app()
    token = AccessTokenFactory(user=user, application=ApplicationFactory())

    response = introspect(snoop, secret, token.raw_token)

    assert response.status_code == 200
    assert response.json() == {"active": False}


@pytest.mark.django_db
def test_a_designated_resource_server_may_introspect_any_token(user, settings):
    server, secret = confidential_app()
    settings.OAUTH_INTROSPECTION_CLIENT_IDS = [server.client_id]
    token = AccessTokenFactory(user=user, application=ApplicationFactory())

    response = introspect(server, secret, token.raw_token)

    assert response.status_code == 200
    assert response.json()["active"] is True
    assert response.json()["username"] == user.username


@pytest.mark.django_db
def test_a_deactivated_users_token_introspects_as_inactive(user):
    application, secret = confidential_app()
    token = AccessTokenFactory(user=user, application=application)
    user.is_active = False
    user.save()

    assert introspect(application, secret, token.raw_token).json() == {"active": False}


@pytest.mark.django_db
def test_introspection_takes_the_token_in_a_post_body_only(user):
    application, secret = confidential_app()
    token = AccessTokenFactory(user=user, application=application)

    response = Client().get(
        "/o/introspect/", {"token": token.raw_token, "client_id": application.client_id, "client_secret": secret}
    )

    assert response.status_code == 405


@pytest.mark.django_db
def test_a_public_client_cannot_introspect_even_its_own_token(user, application):
    token = AccessTokenFactory(user=user, application=application)

    response = Client().post("/o/introspect/", {"token": token.raw_token, "client_id": application.client_id})

    assert response.status_code in (401, 403)
    assert "username" not in response.content.decode()


@pytest.mark.django_db
def test_introspection_with_a_wrong_secret_is_refused(user):
    application, _ = confidential_app()
    token = AccessTokenFactory(user=user, application=application)

    response = introspect(application, "wrong", token.raw_token)

    assert response.status_code in (401, 403)
    assert "username" not in response.content.decode()


# --- 6. Bearer tokens come from the Authorization header only ------------------------------------


@pytest.mark.django_db
def test_a_token_in_a_multipart_form_field_is_refused(user, printer):
    token = AccessTokenFactory(user=user)

    response = APIClient().post(
        f"/api/v1/printers/{printer.id}/predict/", {"access_token": token.raw_token}, format="multipart"
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_a_token_in_an_urlencoded_body_is_refused(user):
    token = AccessTokenFactory(user=user)

    response = APIClient().generic(
        "POST",
        "/api/v1/printers/",
        f"access_token={token.raw_token}&name=x",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_a_token_in_the_query_string_is_refused(user):
    token = AccessTokenFactory(user=user)

    response = APIClient().get(f"/api/v1/printers/?access_token={token.raw_token}")

    assert response.status_code == 401


@pytest.mark.django_db
def test_the_authorization_header_still_works_with_a_multipart_body(user, printer):
    token = AccessTokenFactory(user=user)

    response = bearer_client(token.raw_token).post(
        f"/api/v1/printers/{printer.id}/predict/", {"access_token": "ignored"}, format="multipart"
    )

    # Authenticated: the view read the body and found no image in it.
    assert response.status_code == 400, response.content
    assert response.json()["details"] == {"img": ["This field is required."]}
