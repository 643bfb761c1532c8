"""Rate limits per OAuth token: one for the whole API, a tighter one for predict.

Counters live in Django's cache: per worker process with the default local-memory cache, shared
by every worker when ``CACHE_URL`` points at Redis.

Each limit is a counter per token and fixed window (a minute for "600/min"), raised with the
cache's atomic ``incr``: one cache call a request whatever the rate. DRF's own throttle keeps a
list of every request time in the window and writes it back whole, which costs more the higher the
limit and loses counts when two workers update it at once. A fixed window lets a token send up to
twice its limit across a window boundary; that is the usual price of a counter.
"""

import math

from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per access token (``THROTTLE_RATES["api"]``); calls without a token are not counted."""

    scope = "api"

    def get_cache_key(self, request, view):
        if request.auth is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        token_key = self.get_cache_key(request, view)
        if token_key is None:
            return True
        self.now = self.timer()
        window_start = self.now - self.now % self.duration
        self.window_end = window_start + self.duration
        return self._count(f"{token_key}:{int(window_start)}") <= self.num_requests

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


class PredictRateThrottle(TokenRateThrottle):
    """Predicts per access token (``THROTTLE_RATES["predict"]``): each one runs the model."""

    scope = "predict"
