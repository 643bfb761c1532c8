"""OAuth helpers for tests."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlparse

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
