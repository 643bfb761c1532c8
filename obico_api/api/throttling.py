"""Rate limits per caller: one for the whole API, a tighter one for predict.

A caller is the user behind the access token (all of that user's tokens together, whichever app
holds them), or the application for its own client-credentials tokens (no user), or the client's
network for calls without a token. Counting per token would let a client buy a fresh budget by
authorizing again or through a second app.

Inside a user's limit each of the user's apps (a (user, app) pair) may spend only its share,
``THROTTLE_APP_SHARE`` of it, so that one app, buggy or hostile, cannot spend the budget of the
user's other apps. A call over its app's share is refused before it is charged to the user: what
the app keeps sending costs the others nothing.

Counters live in Django's cache: per worker process with the default local-memory cache, shared
by every worker when ``CACHE_URL`` points at Redis.

Each limit is a counter per caller and fixed window (a minute for "600/min"), raised with the
cache's atomic ``incr``: one cache call a request whatever the rate. DRF's own throttle keeps a
list of every request time in the window and writes it back whole, which costs more the higher the
limit and loses counts when two workers update it at once. A fixed window lets a caller send up to
twice its limit across a window boundary; that is the usual price of a counter.

DRF checks permissions before throttles, so a call refused with a 401 or 403 is not counted: it
cost one token lookup. What a caller without a token can spend here is the public schema and docs.
"""

import math

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from obico_api.api.client_address import client_network


def caller_key(request) -> str | None:
    """Whose budget a request spends: ``user:<id>``, ``app:<id>`` or ``address:<network>``."""
    token = request.auth
    if token is not None:
        if token.user_id is not None:
            return f"user:{token.user_id}"
        return f"app:{token.application_id}"
    network = client_network(request)
    return f"address:{network}" if network else None


def app_share_key(request) -> str | None:
    """The (user, app) pair a user's token spends a share for: ``user:<id>:app:<id>``; None for other callers."""
    token = request.auth
    if token is None or token.user_id is None:
        return None
    return f"user:{token.user_id}:app:{token.application_id}"


class ApiRateThrottle(SimpleRateThrottle):
    """Requests per caller (``THROTTLE_RATES["api"]``), and per (user, app) pair a share of the user's."""

    scope = "api"

    def get_cache_key(self, request, view):
        ident = caller_key(request)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        caller = self.get_cache_key(request, view)
        if caller is None:
            return True
        self.now = self.timer()
        window_start = self.now - self.now % self.duration
        self.window_end = window_start + self.duration
        window = int(window_start)
        share = settings.THROTTLE_APP_SHARE
        pair = app_share_key(request)
        if pair is not None and share < 1:
            app_limit = max(1, math.floor(self.num_requests * share))
            if self._count(f"{self.cache_format % {'scope': self.scope, 'ident': pair}}:{window}") > app_limit:
                return False
        return self._count(f"{caller}:{window}") <= self.num_requests

    def _count(self, key: str) -> int:
        """This request's number in the window: the counter after adding it."""
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request (or its counter was evicted)
            if self.cache.add(key, 1, timeout=self.duration + 1):
                return 1
            return self.cache.incr(key)  # another worker created it first

    def wait(self) -> float:
        """Seconds until the window ends and the counter starts again (the Retry-After)."""
        return max(1, math.ceil(self.window_end - self.now))


class PredictRateThrottle(ApiRateThrottle):
    """Predicts per caller (``THROTTLE_RATES["predict"]``): each one runs the model."""

    scope = "predict"
