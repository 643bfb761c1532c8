"""Password and client-secret guessing: lockouts at sign-in and at the OAuth token endpoint.

A password guess costs us a password hash (about 0.5 s of CPU with Django's PBKDF2), so sign-in is
cut off by counting *failures*, per client address and per account, and refusing before anything
is hashed: django-axes, its failures in the database (shared by every worker, even on SQLite).
``AccountAndAddressHandler`` gives the address and the account limits of their own. The
per-address limit is the tight one; the per-account one is several times higher, so that one
address guessing never locks the real user out elsewhere, while guesses spread over many addresses
still end. A lockout ends by itself after a cool-off: a permanent one would let anyone who knows a
username lock its owner out for good.

An account lockout still lets guessers keep the owner out, renewed for as long as they go on. So
the owner's own browsers are exempt (OWASP's "device cookies"): a successful sign-in leaves a signed
cookie naming the account, and a sign-in to that account carrying it is counted against that cookie
alone, with a limit of its own, never against the address or the account.

A right password costs the same hash as a wrong one, so failures alone would let anyone with an
account make us hash again and again. So every password about to be checked is counted too (in the
cache, django-ratelimit), and past a limit refused with the same 429, unhashed: per address and per
account, or, from a browser the account trusts, per account alone (each success gives a fresh device
cookie, so counting per cookie would bound nothing), so that checks at the owner's address never keep
the owner's browsers out.

At ``/o/token/`` a client secret is checked with a fast keyed hash (``accounts.hashers``), so every
request is checked and one whose credentials verify is always served; failures are counted in the
cache (django-ratelimit) per address and per client at an address, and past a limit answered 429.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import secrets
from datetime import timedelta
from urllib.parse import unquote_plus

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.conf import settings
from django.core import signing
from django.db.models import Sum
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django_ratelimit.core import get_usage
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.views import RevokeTokenView, TokenView

from accounts.hashers import is_slow_to_check
from accounts.oauth import OwnTokenIntrospectView
from obico_api.api.client_address import client_network

logger = logging.getLogger(__name__)

# --- sign-in (django-axes) ----------------------------------------------------------------------

DEVICE_COOKIE_NAME = "signin_device"
# A purpose of its own, so no other value signed with SECRET_KEY passes for a device cookie.
DEVICE_COOKIE_SALT = "accounts.brute_force.device-cookie"


class AccountAndAddressHandler(AxesDatabaseHandler):
    """axes' database handler with a limit per address, a higher one per account, and trusted browsers.

    axes compares one failure count with one limit (``AXES_FAILURE_LIMIT``, the address's). With
    ``AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]`` it counts the failures of each and
    takes the larger. Here the account's count is scaled first, so that it reaches the address
    limit exactly when it reaches ``LOGIN_FAILURE_LIMIT_ACCOUNT``.

    A sign-in carrying a valid device cookie for the account it names skips both: it is locked only
    when that cookie has failed ``LOGIN_FAILURE_LIMIT_DEVICE`` times, and its failures count there only.

    A sign-in that passes those is counted as a checked password (``password_check_allowed``), and
    refused instead when a ``LOGIN_ATTEMPT_LIMIT_*`` is reached.
    """

    def is_allowed(self, request, credentials: dict | None = None) -> bool:
        # axes calls this once a sign-in, in its backend, before any other backend hashes anything.
        return super().is_allowed(request, credentials) and password_check_allowed(
            request, get_client_username(request, credentials)
        )

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The failures that decide a lockout: the address's, or the account's scaled to the same limit."""
        by_address, by_account = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        address_limit = get_failure_limit(request, credentials)
        # floor(a * L / M) >= L exactly when a >= M: the account's count in the address's units.
        return max(by_address, by_account * address_limit // settings.LOGIN_FAILURE_LIMIT_ACCOUNT)

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        device = trusted_device(request, get_client_username(request, credentials))
        if device is None:
            return super().is_locked(request, credentials)
        usage = _device_usage(request, device, increment=False)
        return usage is not None and usage["count"] >= usage["limit"]

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        device = None if request is None else trusted_device(request, get_client_username(request, credentials))
        if device is None:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        request.axes_credentials = credentials
        if request.axes_locked_out:
            return  # refused unchecked: as for addresses, a refused attempt counts nothing
        usage = _device_usage(request, device, increment=True)
        if usage is not None and usage["count"] >= usage["limit"]:
            logger.warning(
                "Sign-in: a trusted browser of %r reached %d failures; refused for %d s",
                credentials.get("username"),
                usage["limit"],
                usage["time_left"],
            )
            request.axes_locked_out = True
        return None

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        # DeviceCookieMiddleware gives this browser a fresh device cookie for the account.
        request.signed_in_username = user.get_username()


def trusted_device(request, username: str | None) -> str | None:
    """The id of the request's device cookie if it is valid, unexpired and names ``username``; else None."""
    value = request.COOKIES.get(DEVICE_COOKIE_NAME)
    if not value or not username:
        return None
    try:
        data = signing.loads(value, salt=DEVICE_COOKIE_SALT, max_age=timedelta(days=settings.LOGIN_DEVICE_COOKIE_DAYS))
    except signing.BadSignature:  # forged, altered or expired
        return None
    if not isinstance(data, dict) or data.get("username") != username or not isinstance(data.get("device"), str):
        return None
    return data["device"]


def password_check_allowed(request, username: str | None) -> bool:
    """Count a password about to be checked; False, and nothing checked, once a counter is over its limit.

    Without a device cookie of the account: per client address, then per account; a sign-in refused
    by the address is not counted against the account. With one: per account, on a counter of the
    account's trusted browsers that nobody without them can raise. A refusal leaves the seconds to
    the window's end in ``request.sign_in_retry_after``, for the lockout page.
    """
    if trusted_device(request, username) is not None:
        counters = [("trusted", username, settings.LOGIN_ATTEMPT_LIMIT_TRUSTED)]
    else:
        counters = [
            ("address", client_network(request), settings.LOGIN_ATTEMPT_LIMIT_ADDRESS),
            ("account", username, settings.LOGIN_ATTEMPT_LIMIT_ACCOUNT),
        ]
    for name, value, limit in counters:
        if not value:
            continue
        # Counted first, then compared: two sign-ins at once cannot both take the last check.
        usage = get_usage(
            request,
            group=f"sign-in-checks-{name}",
            key=lambda group, request, value=value: value,
            rate=f"{limit}/{settings.LOCKOUT_MINUTES}m",
            increment=True,
        )
        if usage is not None and usage["should_limit"]:
            if usage["count"] == usage["limit"] + 1:
                logger.warning(
                    "Sign-in: %s %r reached %d checked passwords; refused for %d s",
                    name,
                    value,
                    limit,
                    usage["time_left"],
                )
            request.sign_in_retry_after = max(1, usage["time_left"])
            return False
    return True


def _device_usage(request, device: str, *, increment: bool) -> dict | None:
    """django-ratelimit's count of failed sign-ins from one trusted browser, raised if ``increment``."""
    return get_usage(
        request,
        group="sign-in-failures-device",
        key=lambda group, request: device,
        rate=f"{settings.LOGIN_FAILURE_LIMIT_DEVICE}/{settings.LOCKOUT_MINUTES}m",
        increment=increment,
    )


class DeviceCookieMiddleware:
    """Sets the device cookie on the answer to a successful sign-in (``AccountAndAddressHandler.user_logged_in``).

    A new id each time, so a cookie locked by a thief's guesses is replaced at the owner's next
    sign-in. Signed with ``SECRET_KEY`` and checked for age on every use; HttpOnly, and Secure
    whenever the session cookie is. It names the last account that signed in on the browser.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        username = getattr(request, "signed_in_username", None)
        if username is not None:
            value = signing.dumps({"username": username, "device": secrets.token_urlsafe(16)}, salt=DEVICE_COOKIE_SALT)
            response.set_cookie(
                DEVICE_COOKIE_NAME,
                value,
                max_age=settings.LOGIN_DEVICE_COOKIE_DAYS * 24 * 3600,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def sign_in_lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """The page a locked-out sign-in gets: a 429 saying when to try again (``AXES_LOCKOUT_CALLABLE``)."""
    retry_after = getattr(request, "sign_in_retry_after", None)  # set by password_check_allowed
    failures = retry_after is None
    if failures:
        # The lockout ends a cool-off after the last counted failure, and refused attempts are not
        # counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off): at most this long.
        retry_after = int(get_cool_off(request).total_seconds())
    response = render(
        request,
        "accounts/lockout.html",
        {"cool_off_minutes": math.ceil(retry_after / 60), "failures": failures},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


# --- /o/token/ (django-ratelimit) ---------------------------------------------------------------

AccessToken = get_access_token_model()
Application = get_application_model()
INVALID_GRANT_BODY = {"error": "invalid_grant", "error_description": "The grant has already been used."}

# RFC 6749 §5.2 has no error code for "too many attempts"; slow_down is the token endpoint's code
# for "back off" registered by RFC 8628 §3.5, and Retry-After (RFC 9110 §10.2.3) says how long.
TOKEN_THROTTLED_BODY = {
    "error": "slow_down",
    "error_description": "Too many failed client authentications from this address; "
    "try again after the time in Retry-After.",
}


def token_request_client_ids(request) -> list[str]:
    """The client_ids a token request names: in the form, then in HTTP Basic credentials (RFC 6749 §2.3.1)."""
    client_ids = [request.POST.get("client_id", "")]
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        client_ids.append(unquote_plus(decoded.partition(":")[0]))  # form-encoded first (RFC 6749 §2.3.1)
    return [client_id for client_id in client_ids if client_id]


def _token_failure_counters(request) -> list[tuple[str, str, int]]:
    """The (name, value, limit) of each failure counter a token request is checked against.

    Per address (whatever the client) and per client at that address: never per client alone, which
    would let anyone who knows an app's public client_id lock the app out from their own addresses.
    """
    limits = settings.TOKEN_FAILURE_LIMITS
    network = client_network(request)
    if not network:
        return []
    counters = [("address", network, limits["address"])]
    client_ids = token_request_client_ids(request)
    if client_ids:
        counters.append(("client-address", f"{client_ids[0]} {network}", limits["client_address"]))
    return counters


def _usage(request, name: str, value: str, limit: int, *, increment: bool) -> dict | None:
    """django-ratelimit's count of token-endpoint failures for one counter, raised if ``increment``."""
    return get_usage(
        request,
        group=f"oauth-token-failures-{name}",
        key=lambda group, request: value,
        rate=f"{limit}/{settings.LOCKOUT_MINUTES}m",
        increment=increment,
    )


def _secret_check_is_slow(request) -> bool:
    """Whether the request sends a secret that would be checked against a password hash (PBKDF2).

    Only secrets stored before ``accounts.hashers`` existed are; each such check costs about 0.5 s of
    CPU, the reason they are refused unhashed from an address over its limit. Their first success
    from anywhere else stores them with the fast hash.
    """
    sends_secret = bool(request.POST.get("client_secret")) or request.META.get(
        "HTTP_AUTHORIZATION", ""
    ).lower().startswith("basic ")
    client_ids = token_request_client_ids(request)
    if not sends_secret or not client_ids:
        return False
    stored = Application.objects.filter(client_id__in=client_ids).values_list("client_secret", flat=True)
    return any(is_slow_to_check(secret) for secret in stored)


class ClientSecretGuessingGuard:
    """Answers failed client authentications with a 429 once an address, or a client at an address, failed too often.

    For every endpoint that authenticates confidential clients with their secret (token, revoke,
    introspect): they share the counters, so guessing at one counts at all. Credentials are always
    checked, and a request whose credentials verify is always served, whatever the counters say:
    the guesser may share the app's address (a NAT, a cloud egress). Checking costs microseconds
    (``accounts.hashers``), and a generated secret is 128 random characters, so what the counters
    stop is a flood of failures, not a search that could succeed. A failure (401 ``invalid_client``)
    is counted; past a limit it is answered with the 429. The one exception is a secret still stored
    with a password hasher: from an address over its limit it is refused before it is checked.
    """

    # As the toolkit's own views: clients post here without cookies, so without CSRF tokens.
    @method_decorator(csrf_exempt)
    def dispatch(self, request, *args, **kwargs):
        if request.method != "POST":
            return super().dispatch(request, *args, **kwargs)
        counters = _token_failure_counters(request)
        over = [
            usage
            for name, value, limit in counters
            if (usage := _usage(request, name, value, limit, increment=False)) is not None
            and usage["count"] >= usage["limit"]
        ]
        if over and _secret_check_is_slow(request):
            return _token_throttled(max(usage["time_left"] for usage in over))
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code != 401:
            return response
        refused = []
        for name, value, limit in counters:
            usage = _usage(request, name, value, limit, increment=True)
            if usage is None:
                continue
            if usage["count"] == usage["limit"]:
                logger.warning(
                    "%s: %s %s reached %d failed client authentications; failures answered 429 for %d s",
                    request.path,
                    name,
                    value,
                    limit,
                    usage["time_left"],
                )
            if usage["count"] > usage["limit"]:
                refused.append(usage)
        if refused:
            return _token_throttled(max(usage["time_left"] for usage in refused))
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
