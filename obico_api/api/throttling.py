"""Rate limits per OAuth token: one for the whole API, a tighter one for predict.

Counters live in Django's cache: per worker process with the default local-memory cache, shared
by every worker when ``CACHE_URL`` points at Redis.
"""

from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per access token (``THROTTLE_RATES["api"]``); calls without a token are not counted."""

    scope = "api"

    def get_cache_key(self, request, view):
        if request.auth is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class PredictRateThrottle(TokenRateThrottle):
    """Predicts per access token (``THROTTLE_RATES["predict"]``): each one runs the model."""

    scope = "predict"
