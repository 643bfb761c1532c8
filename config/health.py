"""Liveness and readiness probes for load balancers, Kubernetes and the compose health checks.

ProbeMiddleware answers them first in MIDDLEWARE, before Django validates the Host header or
redirects to HTTPS: probes come from inside the network, over plain HTTP, naming whatever host they
reach (kubelet sends the pod's IP, compose's check 127.0.0.1), which a production ALLOWED_HOSTS
rightly refuses. Neither answer builds a URL from the host, so nothing can be poisoned through it.
"""

import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from detection.runner import ModelUnavailable, get_detector

logger = logging.getLogger(__name__)


@require_GET
def healthz(request):
    """The process is alive and serving requests."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    """Ready for traffic: the database answers and the detection model is loaded."""
    checks = {"database": "ok", "model": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "not ready"
        logger.warning("Readiness: database unreachable: %s", exc)
        checks["database"] = "unavailable"
    try:
        get_detector()
    except ModelUnavailable as exc:
        logger.warning("Readiness: %s", exc)
        checks["model"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503)


PROBES = {"/healthz": healthz, "/readyz": readyz}


class ProbeMiddleware:
    """Serves PROBES, whatever the Host header and scheme; every other request goes on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        return probe(request)
