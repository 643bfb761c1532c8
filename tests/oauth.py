"""OAuth helpers for tests."""

import base64
import hashlib
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlparse

from django.test import Client


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


# The redirect URI the tests' apps register.
REDIRECT_URI = "https://app.example.com/callback"


def authorize_params(application, challenge: str | None = None, **extra) -> dict:
    """The query of an authorization request with PKCE (a fresh challenge unless given), overridable."""
    if challenge is None:
        _, challenge = pkce_pair()
    return {
        "client_id": application.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "read write",
        "state": "st4te",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def get_code(user, application, **params) -> tuple[str, str]:
    """``user`` allows the app on the consent page; returns the authorization code and its PKCE verifier."""
    browser = Client()
    browser.force_login(user)
    verifier, challenge = pkce_pair()
    answer = {**authorize_params(application, challenge, **params), "allow": "Authorize"}
    response = browser.post("/o/authorize/", answer)
    assert response.status_code == 302, response.content
    return parse_qs(urlparse(response["Location"]).query)["code"][0], verifier


def code_grant(client_id: str, code: str, verifier: str, redirect_uri: str = REDIRECT_URI) -> dict[str, str]:
    """The token request that exchanges an authorization code, with its PKCE verifier."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "code_verifier": verifier,
    }


class FormFields(HTMLParser):
    """The named inputs of the page's POST form to ``action``, as a browser would submit them."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.fields, self.in_form = action, {}, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.in_form = (attrs.get("method") or "").lower() == "post" and attrs.get("action") == self.action
        elif tag == "input" and self.in_form and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False


def form_fields(html: str, action: str) -> dict[str, str]:
    parser = FormFields(action)
    parser.feed(html)
    assert parser.fields, f"no POST form to {action} on the page"
    return parser.fields


def owner_allows(browser, authorization_url: str, *, username: str, password: str) -> tuple[str, str]:
    """The owner's browser (a ``requests.Session``) on a running server's real pages: the app's authorize
    link leads to the sign-in page, signing in to the consent page, and Allow back to the app.

    Returns the consent page's HTML and where Allow sends the browser (the redirect URI with the code
    and state). Each form is posted with the page it came from as Referer, as a browser does: over
    HTTPS, Django's CSRF check refuses a form without it.
    """
    login = browser.get(authorization_url, timeout=10)
    assert login.status_code == 200, login.text
    assert urlparse(login.url).path == "/accounts/login/", login.url
    fields = {**form_fields(login.text, "/accounts/login/"), "username": username, "password": password}
    consent = browser.post(
        urljoin(login.url, "/accounts/login/"), data=fields, headers={"Referer": login.url}, timeout=10
    )
    assert consent.status_code == 200, consent.text
    assert urlparse(consent.url).path == "/o/authorize/", consent.url
    fields = {**form_fields(consent.text, "/o/authorize/"), "allow": "Authorize"}
    allowed = browser.post(
        urljoin(consent.url, "/o/authorize/"),
        data=fields,
        headers={"Referer": consent.url},
        allow_redirects=False,
        timeout=10,
    )
    assert allowed.status_code == 302, allowed.text
    return consent.text, allowed.headers["Location"]
