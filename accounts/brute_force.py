"""Password and client-secret guessing: lockouts at sign-in and at the OAuth token endpoint.

Every guess costs us a password hash (about 0.5 s of CPU with Django's PBKDF2), at sign-in and for
a confidential client's secret at ``/o/token/``. So both are cut off by counting *failures*, per
client address and per identity (account or client), and refusing before anything is hashed:

- Sign-in (ours and the admin's, anything that calls ``authenticate``): django-axes, its failures
  in the database (shared by every worker, even on SQLite). ``AccountAndAddressHandler`` gives the
  address and the account limits of their own.
- ``/o/token/``: django-ratelimit's cache counters, read before the toolkit runs and raised only
  when client authentication failed (a 401 ``invalid_client``).

The per-address limit is the tight one; the per-account (per-client) one is several times higher,
so that one address guessing never locks the real user out elsewhere, while guesses spread over
many addresses still end. A lockout ends by itself after a cool-off: a permanent one would let
anyone who knows a username lock its owner out for good.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
from urllib.parse import unquote_plus

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.db.models import Sum
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django_ratelimit.core import get_usage
from oauth2_provider.models import get_access_token_model
from oauth2_provider.views import RevokeTokenView, TokenView

from accounts.oauth import OwnTokenIntrospectView
from obico_api.api.throttling import client_network

logger = logging.getLogger(__name__)

# --- sign-in (django-axes) ----------------------------------------------------------------------


class AccountAndAddressHandler(AxesDatabaseHandler):
    """axes' database handler with a limit per address and a higher one per account.

    axes compares one failure count with one limit (``AXES_FAILURE_LIMIT``, the address's). With
    ``AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]`` it counts the failures of each and
    takes the larger. Here the account's count is scaled first, so that it reaches the address
    limit exactly when it reaches ``LOGIN_FAILURE_LIMIT_ACCOUNT``.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The failures that decide a lockout: the address's, or the account's scaled to the same limit."""
        by_address, by_account = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        address_limit = get_failure_limit(request, credentials)
        # floor(a * L / M) >= L exactly when a >= M: the account's count in the address's units.
        return max(by_address, by_account * address_limit // settings.LOGIN_FAILURE_LIMIT_ACCOUNT)


def sign_in_lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """The page a locked-out sign-in gets: a 429 saying when to try again (``AXES_LOCKOUT_CALLABLE``)."""
    cool_off = get_cool_off(request)
    response = render(
        request,
        "accounts/lockout.html",
        {"cool_off_minutes": math.ceil(cool_off.total_seconds() / 60)},
        status=429,
    )
    # The lockout ends a cool-off after the last counted failure, and refused attempts are not
    # counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off): at most this long.
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


# --- /o/token/ (django-ratelimit) ---------------------------------------------------------------

AccessToken = get_access_token_model()
INVALID_GRANT_BODY = {"error": "invalid_grant", "error_description": "The grant has already been used."}

# RFC 6749 §5.2 has no error code for "too many attempts"; slow_down is the token endpoint's code
# for "back off" registered by RFC 8628 §3.5, and Retry-After (RFC 9110 §10.2.3) says how long.
TOKEN_THROTTLED_BODY = {
    "error": "slow_down",
    "error_description": "Too many failed client authentications from this address or for this client; "
    "try again after the time in Retry-After.",
}


def token_request_client_id(request) -> str:
    """The client_id a token request names: in the form, or in HTTP Basic credentials (RFC 6749 §2.3.1)."""
    client_id = request.POST.get("client_id", "")
    if client_id:
        return client_id
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return unquote_plus(decoded.partition(":")[0])  # form-encoded first (RFC 6749 §2.3.1)


def _token_failure_counters(request) -> list[tuple[str, str, int]]:
    """The (name, value, limit) of each failure counter a token request is checked against."""
    limits = settings.TOKEN_FAILURE_LIMITS
    counters = [("address", client_network(request), limits["address"])]
    counters.append(("client", token_request_client_id(request), limits["client"]))
    return [(name, value, limit) for name, value, limit in counters if value]


def _usage(request, name: str, value: str, limit: int, *, increment: bool) -> dict | None:
    """django-ratelimit's count of token-endpoint failures for one counter, raised if ``increment``."""
    return get_usage(
        request,
        group=f"oauth-token-failures-{name}",
        key=lambda group, request: value,
        rate=f"{limit}/{settings.LOCKOUT_MINUTES}m",
        increment=increment,
    )


class ClientSecretGuessingGuard:
    """Refuses with a 429, before the client secret is checked, while an address or a client has failed too often.

    For every endpoint that authenticates confidential clients with their secret (token, revoke,
    introspect): they share the counters, so guessing at one counts at all. The counters are read
    before the toolkit checks (and hashes) the secret, and raised only when it refused the client
    (401 ``invalid_client``): a client that authenticates is never slowed, whatever else goes wrong
    with its request. Two requests in flight at once can both pass the check, so the overshoot is
    at most the number of concurrent requests.
    """

    # As the toolkit's own views: clients post here without cookies, so without CSRF tokens.
    @method_decorator(csrf_exempt)
    def dispatch(self, request, *args, **kwargs):
        if request.method != "POST":
            return super().dispatch(request, *args, **kwargs)
        counters = _token_failure_counters(request)
        for name, value, limit in counters:
            usage = _usage(request, name, value, limit, increment=False)
            if usage is not None and usage["count"] >= usage["limit"]:
                return _token_throttled(usage["time_left"])
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 401:
            for name, value, limit in counters:
                usage = _usage(request, name, value, limit, increment=True)
                if usage is not None and usage["count"] == usage["limit"]:
                    logger.warning(
                        "%s: %s %s reached %d failed client authentications; refused for %d s",
                        request.path,
                        name,
                        value,
                        limit,
                        usage["time_left"],
                    )
        return response


class ThrottledTokenView(ClientSecretGuessingGuard, TokenView):
    """The toolkit's token endpoint behind the guessing guard."""

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except AccessToken.DoesNotExist:
            # The toolkit reads the token it just issued again (for its app_authorized signal); a
            # racing reuse of the same code or refresh token may have revoked it in between, which
            # makes this grant as invalid as the racing one (accounts.oauth).
            return _token_error(INVALID_GRANT_BODY, status=400)


class ThrottledRevokeTokenView(ClientSecretGuessingGuard, RevokeTokenView):
    """The toolkit's revocation endpoint behind the guessing guard: it checks client secrets too."""


class ThrottledIntrospectView(ClientSecretGuessingGuard, OwnTokenIntrospectView):
    """Our introspection endpoint behind the guessing guard: it checks client secrets too."""


def _token_throttled(seconds_left: int) -> JsonResponse:
    """The 429 of the token endpoint, in OAuth's error shape."""
    response = _token_error(TOKEN_THROTTLED_BODY, status=429)
    response["Retry-After"] = str(max(1, seconds_left))
    return response


def _token_error(body: dict, *, status: int) -> JsonResponse:
    """An error of the token endpoint, in OAuth's shape (RFC 6749 §5.2)."""
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"  # as every token endpoint answer (RFC 6749 §5.1)
    return response
